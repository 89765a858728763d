"""The log's two other signed statements (SPEC section 1): C2SP signed notes by the log's key whose first
body line names the statement, each line ending in a newline.

- bundle declaration: ``hrledger.dev/bundle/v2``, origin, base64 SHA-256 of the exact ``manifest.json``;
- subject head: ``hrledger.dev/subject-head/v1``, origin, tree size, base64 root hash of that tree,
  base64 SHA-256 of the UTF-8 subject, head seq or ``none``, entry count.

Origins may not begin with ``hrledger.dev/``, so neither can be taken for a checkpoint (whose first line
is the origin). Both the body format and its check live here; the ledger signs what ``format_*`` writes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from verifier.note import (
    MAX_TREE_SIZE,
    NoteError,
    Verifier,
    b64decode,
    b64encode,
    origin_problem,
    parse_note,
    verify_note,
)

BUNDLE_V2 = "hrledger.dev/bundle/v2"
SUBJECT_HEAD_V1 = "hrledger.dev/subject-head/v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def subject_digest(subject: str) -> bytes:
    """SHA-256 of the UTF-8 subject: it tells subjects apart; it does not hide them (ids are guessable)."""
    return hashlib.sha256(subject.encode("utf-8")).digest()


def _lines(*parts: str) -> bytes:
    return "".join(f"{p}\n" for p in parts).encode("utf-8")


def format_bundle_declaration(origin: str, manifest: bytes) -> bytes:
    """The body of a bundle declaration over the exact ``manifest.json`` bytes."""
    if problem := origin_problem(origin):
        raise NoteError(f"bundle declaration: {problem}")
    return _lines(BUNDLE_V2, origin, b64encode(hashlib.sha256(manifest).digest()))


def format_subject_head(origin: str, tree_size: int, root: bytes, subject: str, head: int | None, count: int) -> bytes:
    """The body of a subject-head statement: the subject's chain head and entry count in one published tree."""
    if problem := origin_problem(origin):
        raise NoteError(f"subject head: {problem}")
    if not 0 <= tree_size <= MAX_TREE_SIZE or len(root) != 32 or not 0 <= count <= tree_size:
        raise NoteError("subject head: tree size, root hash or count out of range")
    if (head is None) != (count == 0) or (head is not None and not 0 <= head < tree_size):
        raise NoteError("subject head: the head must be a seq in the tree exactly when the count is not 0")
    shown = "none" if head is None else str(head)
    return _lines(
        SUBJECT_HEAD_V1, origin, str(tree_size), b64encode(root), b64encode(subject_digest(subject)), shown, str(count)
    )


def _open(raw: bytes, vkey: Verifier, first: str, lines: int, what: str) -> list[str]:
    note = parse_note(raw, what)
    verify_note(note, vkey, what)
    body = note.text[:-1].split("\n")
    if body[0] != first:
        raise NoteError(f"{what}: line 1 is {body[0][:60]!r}, expected {first}")
    if len(body) != lines:
        raise NoteError(f"{what}: {len(body)} lines, expected {lines}")
    if body[1] != vkey.name:
        raise NoteError(f"{what}: line 2: origin {body[1]!r} is not the key name {vkey.name!r}")
    return body


@dataclass(frozen=True)
class BundleDeclaration:
    origin: str
    manifest_sha256: bytes


def open_bundle_declaration(raw: bytes, vkey: Verifier) -> BundleDeclaration:
    """A bundle declaration signed by ``vkey``; the caller compares its digest with the manifest's bytes."""
    what = "manifest.sig"
    body = _open(raw, vkey, BUNDLE_V2, 3, what)
    digest = b64decode(body[2], f"{what}: line 3: manifest SHA-256")
    if len(digest) != 32:
        raise NoteError(f"{what}: line 3: the manifest SHA-256 has {len(digest)} bytes, expected 32")
    return BundleDeclaration(body[1], digest)


@dataclass(frozen=True)
class SubjectHead:
    origin: str
    tree_size: int
    root: bytes
    subject_sha256: bytes
    head: int | None
    count: int

    def is_about(self, subject: str) -> bool:
        return self.subject_sha256 == subject_digest(subject)


def open_subject_head(raw: bytes, vkey: Verifier) -> SubjectHead:
    """A subject-head statement signed by ``vkey``."""
    what = "subject head"
    body = _open(raw, vkey, SUBJECT_HEAD_V1, 7, what)
    numbers: list[int] = []
    for line, text in ((3, body[2]), (7, body[6])):
        if not _DECIMAL.fullmatch(text):
            raise NoteError(f"{what}: line {line}: {text[:30]!r} is not a decimal without leading zeros")
        numbers.append(int(text))
    root = b64decode(body[3], f"{what}: line 4: root hash")
    digest = b64decode(body[4], f"{what}: line 5: subject SHA-256")
    if len(root) != 32 or len(digest) != 32:
        raise NoteError(f"{what}: lines 4 and 5 must each be a base64 SHA-256 hash")
    if body[5] != "none" and not _DECIMAL.fullmatch(body[5]):
        raise NoteError(f"{what}: line 6: {body[5][:30]!r} is neither a seq nor none")
    head = None if body[5] == "none" else int(body[5])
    tree_size, count = numbers
    if (head is None) != (count == 0) or (head is not None and head >= tree_size) or count > tree_size:
        raise NoteError(f"{what}: head {body[5]} and count {count} do not fit a tree of size {tree_size}")
    return SubjectHead(body[1], tree_size, root, digest, head, count)
