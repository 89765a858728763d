"""Witness cosignatures: C2SP tlog-cosignature v1.0.1 (Ed25519 ``cosignature/v1``, signature type 0x04).

Reference: https://c2sp.org/tlog-cosignature@v1.0.1, over notes of https://c2sp.org/signed-note@v1.0.0.
A witness (a law firm, a notary, a union) that checked a checkpoint is consistent with the last one it saw
adds one signature line to the checkpoint note::

    — <witness name> base64(key ID[4] || timestamp[8, big-endian] || Ed25519 signature[64])

    key ID  = SHA-256(<name> || 0x0A || 0x04 || 32-byte public key)[:4]
    message = "cosignature/v1\\n" || "time <timestamp>\\n" || the checkpoint body (its final newline included)

The timestamp is POSIX seconds. The cosignature says: "as of that time, the largest consistent tree this
witness has seen for the log of this origin has this root". It neither stores nor vouches for entries.
A witness is known by its verifier key ``<name>+<8 hex key ID>+base64(0x04 || public key)``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from verifier.note import SIG_PREFIX, Note, NoteError, Verifier, b64decode
from verifier.note import log_signed_note as log_signed_note  # its one definition, re-exported
from verifier.result import Result

COSIGNATURE_TYPE = 0x04
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: "It MUST NOT exceed 2^63 - 1"
BLOB_BYTES = 4 + 8 + 64  # key ID, timestamp, signature: 104 base64 characters on the line
_HEX8 = re.compile(r"[0-9a-f]{8}")


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]: the key ID of a cosignature/v1 witness key."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_TYPE]) + public_key).digest()[:4]


def name_problem(name: str) -> str | None:
    """signed-note: a key name is non-empty, without Unicode spaces, plus signs or control characters."""
    if not name:
        return "the witness name is empty"
    for ch in name:
        if ch.isspace() or ch == "+" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"the witness name {name!r} contains the forbidden character U+{ord(ch):04X}"
    return None


@dataclass(frozen=True)
class WitnessKey:
    """A witness's verifier key: its name, key ID and Ed25519 public key, and the vkey text."""

    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        return format_witness_vkey(self.name, self.public_key)

    @property
    def label(self) -> str:
        """``<name>+<hex key ID>``, how reports name the key (the public key is in ``vkey``)."""
        return f"{self.name}+{self.key_id.hex()}"


def format_witness_vkey(name: str, public_key: bytes) -> str:
    blob = base64.b64encode(bytes([COSIGNATURE_TYPE]) + public_key).decode("ascii")
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{blob}"


def parse_witness_vkey(text: str) -> WitnessKey:
    """Parse ``<name>+<8 hex key ID>+base64(0x04 || 32-byte public key)``; NoteError says what is wrong."""
    parts = text.strip().split("+", 2)  # names hold no "+", the base64 may
    if len(parts) != 3:
        raise NoteError("a witness key has the form <name>+<8 hex key id>+<base64(0x04 || public key)>")
    name, hex_id, b64_key = parts
    if problem := name_problem(name):
        raise NoteError(problem)
    if not _HEX8.fullmatch(hex_id):
        raise NoteError("the witness key id is not 8 lower-case hex digits")
    raw = b64decode(b64_key, "the witness public key")
    if len(raw) != 33 or raw[0] != COSIGNATURE_TYPE:
        first = f"0x{raw[0]:02x}" if raw else "nothing"
        why = ": a log's key (0x01) is not a witness key" if raw[:1] == b"\x01" else ""
        raise NoteError(
            f"the witness key is not a cosignature/v1 key (0x04 and 32 bytes; it starts with {first}, "
            f"{len(raw)} bytes){why}"
        )
    public = raw[1:]
    if cosigner_key_id(name, public).hex() != hex_id:
        raise NoteError(f"the witness key id {hex_id} does not match its name and public key")
    return WitnessKey(name, bytes.fromhex(hex_id), public)


def signed_message(body: bytes, timestamp: int) -> bytes:
    """What the witness signs: the header line, the timestamp line, then the checkpoint body verbatim."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is outside 0..2**63-1")
    if not body.endswith(b"\n"):
        raise ValueError("the checkpoint body must end with a newline")
    return HEADER + b"time %d\n" % timestamp + body


def format_line(name: str, key_id: bytes, timestamp: int, signature: bytes) -> str:
    """One cosignature line, newline included."""
    if len(key_id) != 4 or len(signature) != 64 or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("a cosignature is a 4-byte key id, a timestamp below 2**63 and a 64-byte signature")
    blob = key_id + struct.pack(">Q", timestamp) + signature
    return f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def verify(key: WitnessKey, body: bytes, payload: bytes) -> int:
    """Check one cosignature by ``key`` on ``body``; ``payload`` is what follows the key ID (timestamp and
    signature, 72 bytes). Returns the timestamp; raises NoteError naming the fault."""
    if len(payload) != BLOB_BYTES - 4:
        raise NoteError(f"the cosignature by {key.label} has {len(payload) + 4} bytes, not {BLOB_BYTES}")
    timestamp = int.from_bytes(payload[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError(f"the cosignature by {key.label} has the timestamp {timestamp}, beyond 2**63-1")
    try:
        VerifyKey(key.public_key).verify(signed_message(body, timestamp), payload[8:])
    except (BadSignatureError, ValueError):
        raise NoteError(f"the cosignature by {key.label} does not verify on this checkpoint") from None
    return timestamp


def utc(timestamp: int) -> str:
    """A cosignature time as RFC 3339 UTC (POSIX seconds; a year beyond 9999 is shown as the number)."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"POSIX {timestamp}"


@dataclass(frozen=True)
class Cosigned:
    witness: WitnessKey
    timestamp: int
    signature: bytes  # the 64-byte Ed25519 signature

    @property
    def time(self) -> str:
        return utc(self.timestamp)

    @property
    def line(self) -> str:
        return format_line(self.witness.name, self.witness.key_id, self.timestamp, self.signature)


@dataclass
class Cosignatures:
    """What a note's signature lines say about the named witnesses."""

    valid: list[Cosigned] = field(default_factory=list)  # one per witness (its latest), in the order named
    invalid: list[str] = field(default_factory=list)  # lines by a named witness that do not verify
    unknown: list[str] = field(default_factory=list)  # ``name+keyid`` of lines by keys nobody named

    def missing(self, witnesses: Sequence[WitnessKey]) -> list[WitnessKey]:
        done = {c.witness for c in self.valid}
        return [w for w in witnesses if w not in done]


def check(note: Note, witnesses: Sequence[WitnessKey], log: Verifier | None = None) -> Cosignatures:
    """Sort the note's signature lines: valid cosignatures by the named witnesses, broken ones, and lines by
    unknown keys (those are ignored, as signed-note requires). The log's own lines (``log``) are skipped."""
    body = note.text.encode("utf-8")
    by_id = {(w.name, w.key_id): w for w in witnesses}
    latest: dict[WitnessKey, Cosigned] = {}
    out = Cosignatures()
    for sig in note.signatures:
        if log is not None and (sig.name, sig.key_id) == (log.name, log.key_id):
            continue
        key = by_id.get((sig.name, sig.key_id))
        if key is None:
            out.unknown.append(f"{sig.name}+{sig.key_id.hex()}")
            continue
        try:
            timestamp = verify(key, body, sig.signature)
        except NoteError as exc:
            out.invalid.append(str(exc))
            continue
        if key not in latest or timestamp > latest[key].timestamp:
            latest[key] = Cosigned(key, timestamp, sig.signature[8:])
    out.valid = [latest[w] for w in witnesses if w in latest]
    return out


def report(r: Result, step: int, note: Note, log: Verifier, witnesses: Sequence[WitnessKey], threshold: int) -> None:
    """The witness part of the checkpoint step: who cosigned and when, failing below ``threshold``."""
    found = check(note, witnesses, log)
    for c in found.valid:
        r.witnessed.append({"name": c.witness.name, "vkey": c.witness.vkey, "time": c.time, "timestamp": c.timestamp})
        r.note(step, f"witnessed: cosigned by {c.witness.label} at {c.time} (its clock, POSIX {c.timestamp})")
    for w in found.missing(witnesses):
        r.note(step, f"not cosigned by the named witness {w.label}")
    for problem in found.invalid:
        r.fail(step, f"checkpoint: {problem}")
    for label in found.unknown:
        shown = "not a named witness" if witnesses else "no --witness named it"
        r.note(step, f"a signature line by {label} ({shown}) is shown and ignored")
    if not witnesses:
        if not found.unknown:
            r.note(step, "the checkpoint carries no witness cosignature: not witnessed")
        return
    names = ", ".join(c.witness.label for c in found.valid) or "none"
    if len(found.valid) < threshold:
        r.fail(
            step,
            f"checkpoint: {len(found.valid)} of the {len(witnesses)} named witnesses cosigned it ({names}); "
            f"{threshold} required",
        )
    else:
        r.note(step, f"{len(found.valid)} of {len(witnesses)} named witnesses cosigned ({names}); {threshold} required")
