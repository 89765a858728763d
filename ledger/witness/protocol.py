"""C2SP tlog-witness v1.0.0 ``add-checkpoint``: reading a request and deciding the answer; no I/O.

https://c2sp.org/tlog-witness@v1.0.0. The request body is::

    old <size>\\n
    <base64 consistency proof hash>\\n      (0 to 63 lines)
    \\n
    <the signed checkpoint note>

The checks, in the order of the specification, and the status each failure gets:

1. the body is well formed (an ``old`` line, canonical base64 hashes, at most 63, a signed note
   holding a c2sp.org/tlog-checkpoint)                                                     400
2. the checkpoint origin is a log this witness knows                                       404
3. a signature by a key trusted for that origin verifies (and none by such a key fails)    403
4. the old size is not larger than the checkpoint size                                     400
5. the old size is the size of the latest checkpoint cosigned for the origin (0 if none)   409 ``text/x.tlog.size``
                                                                                            with that size
6. the proof is a valid RFC 6962 consistency proof from the old size to the new one
   (empty when the old size is 0, or equals the new size)                                  422
7. with equal sizes, the roots are equal                                                   409 (v1.0.0)

Only then does the witness cosign. Step 7 follows v1.0.0, which answers a same-size checkpoint with
another root with "409 Conflict" (without ``text/x.tlog.size``, so that no client reads it as "resend
from this size"); the newer, untagged text of the specification changed that to 422. ``SAME_SIZE_FORK``
is the one switch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.core import merkle
from ledger.core.notes import CheckpointBody, Verifier
from ledger.core.wire import verify_consistency
from ledger.errors import LedgerError
from verifier.note import MAX_SIGNATURES, Note, NoteError, b64decode, parse_checkpoint_lines, parse_note

SAME_SIZE_FORK = 409  # tlog-witness v1.0.0; the untagged text after it says 422
MAX_PROOF_LINES = 63  # "The client MUST NOT send more than 63 consistency proof lines."
MAX_SIZE = 2**64 - 1
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_LINE = re.compile(rb"old (0|[1-9][0-9]{0,19})")


class Refusal(Exception):
    """A request the witness does not cosign: the HTTP status and a one-line reason (the body)."""

    def __init__(self, status: int, reason: str, *, size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.size = size  # for a 409 that names the witness's latest size

    @property
    def body(self) -> bytes:
        if self.size is not None:
            return b"%d\n" % self.size
        return (self.reason + "\n").encode("utf-8")

    @property
    def content_type(self) -> str:
        return SIZE_CONTENT_TYPE if self.size is not None else "text/plain; charset=utf-8"

    @property
    def evidence(self) -> bool:
        """A validly signed checkpoint the witness cannot reconcile with what it cosigned: a possible fork.
        tlog-witness lets the witness keep such a request, "as it might be proof of log misbehavior"."""
        return self.status in (422, SAME_SIZE_FORK) and self.size is None


@dataclass(frozen=True)
class Submission:
    old: int
    proof: tuple[bytes, ...]
    note: bytes  # the signed checkpoint, verbatim
    opened: Note  # its text and signature lines
    checkpoint: CheckpointBody  # its extension lines, if any, are in ``note``, cosigned verbatim

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @property
    def body(self) -> bytes:
        """The checkpoint body exactly as received: what the cosignature covers."""
        return self.opened.text.encode("utf-8")


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint this witness cosigned for one origin; size 0 and the empty root if none."""

    size: int
    root: bytes


NEVER_COSIGNED = Latest(0, merkle.EMPTY_ROOT)


def parse_submission(raw: bytes) -> Submission:
    """Step 1: read the request body strictly; Refusal(400) names what is wrong."""
    head, sep, note = raw.partition(b"\n\n")
    if not sep:
        raise Refusal(400, "the body has no empty line between the old size and proof lines and the checkpoint")
    lines = head.split(b"\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None or int(match.group(1)) > MAX_SIZE:
        raise Refusal(400, "the first line must be 'old <size>', a decimal without leading zeros below 2**64")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, f"{len(lines) - 1} consistency proof lines, more than {MAX_PROOF_LINES}")
    proof = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            digest = b64decode(line.decode("ascii"), f"line {n}")
        except (NoteError, UnicodeDecodeError):
            raise Refusal(400, f"line {n}: a consistency proof line must be one hash in canonical base64") from None
        if len(digest) != merkle.HASH_SIZE:
            raise Refusal(400, f"line {n}: a proof hash has {len(digest)} bytes, not {merkle.HASH_SIZE}")
        proof.append(digest)
    try:
        opened = parse_note(note)
    except NoteError as exc:
        raise Refusal(400, f"the checkpoint is not a signed note: {exc}") from None
    if len(opened.signatures) > MAX_SIGNATURES:
        raise Refusal(400, f"the checkpoint has {len(opened.signatures)} signatures, more than {MAX_SIGNATURES}")
    try:
        origin, size, root, _ = parse_checkpoint_lines(opened.text, allow_extensions=True)
        checkpoint = CheckpointBody(origin, size, root)
    except (NoteError, LedgerError) as exc:
        raise Refusal(400, str(exc)) from None
    return Submission(int(match.group(1)), tuple(proof), note, opened, checkpoint)


def check_signature(sub: Submission, logs: Mapping[str, Sequence[Verifier]]) -> None:
    """Steps 2 and 3: the origin is known (404) and a trusted key signed it, none failing (403).

    Signatures by unknown keys are ignored. One by a trusted name and key ID that fails makes the note
    malformed (signed-note: "clients SHOULD reject the whole note"), as it does for Go's note package."""
    trusted = logs.get(sub.origin)
    if not trusted:
        raise Refusal(404, f"unknown log origin {sub.origin!r}: this witness does not witness it")
    keys = {(v.name, v.key_id): v for v in trusted}
    message = sub.body
    verified = 0
    for sig in sub.opened.signatures:
        key = keys.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verify(message, sig.signature):  # the verifier's Ed25519 check, the one implementation
            raise Refusal(403, f"the signature by {key.text} does not verify")
        verified += 1
    if not verified:
        names = ", ".join(v.text for v in trusted)
        raise Refusal(403, f"no signature by a key trusted for {sub.origin!r} ({names})")
    if sub.old > sub.checkpoint.size:
        raise Refusal(400, f"old size {sub.old} is larger than the checkpoint size {sub.checkpoint.size}")


def check_consistency(sub: Submission, latest: Latest) -> None:
    """Steps 5 to 7 against the latest cosigned checkpoint; returns when the witness may cosign."""
    cp = sub.checkpoint
    if sub.old != latest.size:
        raise Refusal(409, f"old size {sub.old} is not the latest cosigned size {latest.size}", size=latest.size)
    if sub.old == 0 and sub.proof:
        raise Refusal(422, "the consistency proof must be empty when the old size is 0")
    if sub.old == cp.size:
        if sub.proof:
            raise Refusal(422, "the consistency proof must be empty between checkpoints of equal size")
        if cp.root_hash != latest.root:
            raise Refusal(SAME_SIZE_FORK, f"a checkpoint of size {cp.size} with another root was cosigned")
        return
    if sub.old == 0:
        return  # the first checkpoint seen for a log is taken as it is (trust on first use)
    try:
        verify_consistency(sub.old, cp.size, latest.root, cp.root_hash, list(sub.proof))
    except LedgerError as exc:
        raise Refusal(422, f"not consistent with the cosigned checkpoint of size {sub.old}: {exc}") from None
