"""The wire-format checks the ledger needs, from ``verifier/`` (their one implementation), raising ``ledger.errors``.

``verifier`` is standalone and raises its own ``ValueError`` subclasses; this module is the one place where
they become ``VerificationError`` (a proof or signature that fails) or ``ValidationError`` (input that is
not in the format). Nothing here checks anything itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ledger.errors import ValidationError, VerificationError
from verifier import jcs, leaf, merkle, note, rfc3339
from verifier.note import Checkpoint, Verifier

__all__ = [
    "Checkpoint",
    "Verifier",
    "canonicalize",
    "load_json",
    "parse_leaf",
    "parse_rfc3339",
    "parse_vkey",
    "verify_checkpoint",
    "verify_consistency",
]


@contextmanager
def _refused(field: str | None) -> Iterator[None]:
    """Verifier errors as ledger errors: ValidationError(field) for bad input, else VerificationError."""
    try:
        yield
    except (note.NoteError, merkle.ProofError, leaf.LeafError, rfc3339.TimeFormatError) as exc:
        if field is None:
            raise VerificationError(str(exc)) from None
        raise ValidationError(field, str(exc)) from None


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    with _refused(None):
        merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)


def parse_vkey(text: str) -> Verifier:
    """A log's verifier key ``<name>+<8 hex key id>+<base64(0x01 || key)>``; ValidationError("vkey") otherwise."""
    with _refused("vkey"):
        return note.parse_vkey(text)


def verify_checkpoint(signed: bytes, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """A checkpoint signed by ``verifier`` whose origin is the key name (and ``origin``, when given)."""
    if origin is not None and origin != verifier.name:
        raise VerificationError(f"checkpoint: expected origin {origin!r} differs from the key name {verifier.name!r}")
    with _refused(None):
        return note.open_checkpoint(signed, verifier)


def parse_rfc3339(value: Any, field: str) -> datetime:
    """An RFC 3339 date-time with an explicit offset; ValidationError naming ``field`` otherwise."""
    with _refused(field):
        return rfc3339.parse_rfc3339(value)


def canonicalize(value: Any, field: str = "data") -> bytes:
    """RFC 8785 bytes of a JSON value; ValidationError naming ``field`` when it has none."""
    try:
        return jcs.canonicalize(value)
    except jcs.CanonicalError as exc:
        raise ValidationError(field, f"cannot be canonicalised: {exc}") from None


def load_json(raw: bytes | str, field: str = "body") -> Any:
    """Strict JSON; a member given twice is named as the field, any other fault names ``field``."""
    try:
        return jcs.load_json(raw)
    except jcs.JSONError as exc:
        if exc.key is not None:
            detail = "appears twice in one JSON object; which one counts would be a guess"
            raise ValidationError(exc.key, detail) from None
        raise ValidationError(field, f"is not valid JSON: {exc}") from None


def parse_leaf(entry: bytes) -> dict[str, Any]:
    """A stored leaf: a JSON object in RFC 8785 canonical form (its fields are ``leaf.leaf_problems``'s)."""
    with _refused("entry"):
        return leaf.parse_leaf(entry)
