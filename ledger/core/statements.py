"""Signing the log's two other statements (SPEC section 1); their formats and checks are ``verifier.statement``'s."""

from __future__ import annotations

from ledger.core.notes import Signer, sign_note
from ledger.errors import ValidationError
from verifier import statement
from verifier.note import NoteError


def sign_bundle_declaration(signer: Signer, manifest: bytes) -> bytes:
    """``manifest.sig``: the log's key declares this exact ``manifest.json`` (the subject's whole record in a tree)."""
    try:
        body = statement.format_bundle_declaration(signer.name, manifest)
    except NoteError as exc:
        raise ValidationError("origin", str(exc)) from None
    return sign_note(body, [signer])


def sign_subject_head(
    signer: Signer, *, tree_size: int, root: bytes, subject: str, head: int | None, count: int
) -> bytes:
    """What the log claims of one subject in one published tree: its chain head and its number of entries."""
    try:
        body = statement.format_subject_head(signer.name, tree_size, root, subject, head, count)
    except NoteError as exc:
        raise ValidationError("subject", str(exc)) from None
    return sign_note(body, [signer])
