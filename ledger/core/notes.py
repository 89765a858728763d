"""Signing C2SP signed notes and tlog-checkpoints, and writing tlog-proofs, with Ed25519 keys; pure, no I/O.

Formats: c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-proof@v1 (SPEC section 1). This is
the producing side only: every rule of the formats (key names, key ids, note text, checkpoint bodies) and
every check of signed material lives in ``verifier.note`` (verify through ``ledger.core.wire``). Bad
arguments raise ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import nacl.signing

from ledger.errors import ValidationError
from verifier import note as wire_note
from verifier.note import (
    ALG_ED25519,
    MAX_PROOF_HASHES,
    MAX_SIGNATURES,
    MAX_TREE_SIZE,
    SIG_PREFIX,
    TLOG_PROOF_HEADER,
    NoteError,
    Verifier,
    b64encode,
    key_name_problem,
    origin_problem,
    text_problem,
)

__all__ = [
    "MAX_SIGNATURES",
    "CheckpointBody",
    "Signer",
    "Verifier",
    "format_tlog_proof",
    "key_name_problem",
    "origin_problem",
    "sign_checkpoint",
    "sign_note",
]

_ED25519 = bytes([ALG_ED25519])


class Signer:
    """An Ed25519 note signer: a key name and a 32-byte seed (never shown by repr)."""

    def __init__(self, name: str, seed: bytes) -> None:
        if problem := key_name_problem(name):
            raise ValidationError("name", problem)
        if len(seed) != 32:
            raise ValidationError("seed", f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        self.name = name
        self._key = nacl.signing.SigningKey(bytes(seed))
        self.public_key = bytes(self._key.verify_key)
        self._verifier = wire_note.make_verifier(name, self.public_key)
        self.key_id = self._verifier.key_id

    @classmethod
    def generate(cls, name: str, seed: bytes) -> Signer:
        """A new signer from caller-supplied randomness (``os.urandom(32)``): the core stays pure."""
        return cls(name, seed)

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """Parse a Go-style ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`` string."""
        text = text.strip()
        if not text.startswith("PRIVATE+KEY+"):
            raise ValidationError("skey", "a private key string starts with PRIVATE+KEY+")
        try:
            name, kid, seed = wire_note.split_key(text[len("PRIVATE+KEY+") :], "skey")
        except NoteError as exc:
            raise ValidationError("skey", str(exc).removeprefix("skey: ")) from None
        signer = cls(name, seed)
        if signer.key_id != kid:  # never echo the seed: only ids are shown
            raise ValidationError("skey", f"key id {kid.hex()} does not match the key (expected {signer.key_id.hex()})")
        return signer

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64encode(_ED25519 + self.seed)}"

    @property
    def vkey(self) -> str:
        return self._verifier.text

    def verifier(self) -> Verifier:
        return self._verifier

    def sign(self, msg: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature (deterministic)."""
        return bytes(self._key.sign(msg).signature)

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_id={self.key_id.hex()})"


def sign_note(text: str | bytes, signers: Iterable[Signer]) -> bytes:
    """The signed note: text, a blank line, one signature line per signer (in the given order)."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError("text", f"not valid UTF-8 at byte offset {exc.start}") from None
    if problem := text_problem(decoded):
        raise ValidationError("text", problem)
    if not decoded.endswith("\n"):
        raise ValidationError("text", "note text must end with a newline")
    signer_list = list(signers)
    if not signer_list:
        raise ValidationError("signers", "at least one signer is required")
    if len(signer_list) > MAX_SIGNATURES:
        raise ValidationError("signers", f"at most {MAX_SIGNATURES} signatures per note")
    if len({(s.name, s.key_id) for s in signer_list}) != len(signer_list):
        raise ValidationError("signers", "the same key appears twice")
    lines = [f"{SIG_PREFIX}{s.name} {b64encode(s.key_id + s.sign(raw))}\n" for s in signer_list]
    return raw + b"\n" + "".join(lines).encode("utf-8")


@dataclass(frozen=True)
class CheckpointBody:
    """A c2sp.org/tlog-checkpoint body to sign (a signed one is parsed as ``verifier.note.Checkpoint``)."""

    origin: str
    size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if problem := wire_note.checkpoint_problem(self.origin, self.size, self.root_hash):
            raise ValidationError("checkpoint", problem)

    def format(self) -> bytes:
        """The body, which is also the signed message: ends with a newline. hrledger writes no extension lines."""
        return wire_note.format_checkpoint_body(self.origin, self.size, self.root_hash)


def sign_checkpoint(cp: CheckpointBody, signer: Signer) -> bytes:
    """The signed checkpoint note; the key name must equal the origin."""
    if cp.origin != signer.name:
        raise ValidationError("checkpoint", f"origin {cp.origin!r} differs from the key name {signer.name!r}")
    return sign_note(cp.format(), [signer])


def format_tlog_proof(
    index: int, proof_hashes: Iterable[bytes], signed_checkpoint: bytes, *, extra: bytes | None = None
) -> bytes:
    """A c2sp.org/tlog-proof@v1 of the leaf at ``index`` against the signed checkpoint, verbatim; ``extra``
    (the leaf bytes, in hrledger's receipts) goes in the ``extra`` line."""
    hashes = list(proof_hashes)
    if not 0 <= index <= MAX_TREE_SIZE:
        raise ValidationError("index", f"index {index} is outside 0..2**64-1")
    if len(hashes) > MAX_PROOF_HASHES:
        raise ValidationError("proof", f"{len(hashes)} hashes, at most {MAX_PROOF_HASHES}")
    for i, h in enumerate(hashes):
        if len(h) != 32:
            raise ValidationError("proof", f"hash {i} has {len(h)} bytes, expected 32")
    if not signed_checkpoint.endswith(b"\n") or signed_checkpoint.startswith(b"\n"):
        raise ValidationError("checkpoint", "not a signed note (must be non-empty and end with a newline)")
    head = [TLOG_PROOF_HEADER, *([f"extra {b64encode(extra)}"] if extra is not None else []), f"index {index}"]
    head += [*(b64encode(h) for h in hashes), ""]
    return ("\n".join(head) + "\n").encode("ascii") + signed_checkpoint
