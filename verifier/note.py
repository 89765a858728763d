"""C2SP signed notes, checkpoints and tlog-proofs, parsed and checked with PyNaCl (Ed25519).

References: https://c2sp.org/signed-note (verifier keys, signature lines, key IDs),
https://c2sp.org/tlog-checkpoint (body: origin, size, base64 root) and https://c2sp.org/tlog-proof.
Every function raises NoteError with a precise reason; nothing here reads files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIG_PREFIX = "\u2014 "  # em dash U+2014 and a space
ALG_ED25519 = 0x01
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


class NoteError(ValueError):
    """A note, key or proof is malformed or does not verify."""


def b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 with padding (RFC 4648 section 4)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note: key ID = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key string ``<name>+<8 hex key id>+<base64(0x01 || public key)>``."""

    name: str
    key_id: bytes
    public_key: bytes
    text: str


def parse_vkey(text: str) -> Verifier:
    parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise NoteError("a verifier key has the form <name>+<8 hex key id>+<base64 key>")
    name, hex_id, b64_key = parts
    if not name or any(c.isspace() for c in name):
        raise NoteError("the verifier key name is empty or contains spaces")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError("the verifier key id is not 8 lower-case hex digits")
    raw = b64decode(b64_key, "the verifier public key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("the verifier key is not an Ed25519 key (0x01 followed by 32 bytes)")
    kid = bytes.fromhex(hex_id)
    if key_id(name, raw[1:]) != kid:
        raise NoteError("the verifier key id does not match its name and public key")
    return Verifier(name, kid, raw[1:], text.strip())


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str  # the signed message: the body including its final newline
    signatures: tuple[Signature, ...]


def parse_note(raw: bytes) -> Note:
    """Split a signed note into its text and signature lines (the text ends at the last blank line)."""
    try:
        msg = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the note is not UTF-8") from None
    if not msg.endswith("\n"):
        raise NoteError("the note does not end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in msg):
        raise NoteError("the note holds a control character other than newline")
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, sig_block = msg[: split + 1], msg[split + 2 :]
    if not sig_block:
        raise NoteError("the note has no signature lines after its blank line")
    sigs: list[Signature] = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed signature line {line[:60]!r}")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        blob = b64decode(b64, "a note signature")
        if not name or len(blob) < 5:
            raise NoteError(f"malformed signature line {line[:60]!r}")
        sigs.append(Signature(name, blob[:4], blob[4:]))
    if not sigs:
        raise NoteError("the note has no signature")
    return Note(text, tuple(sigs))


def verify_note(note: Note, vkey: Verifier) -> None:
    """The note must carry a valid Ed25519 signature by ``vkey`` over its text."""
    mine = [s for s in note.signatures if s.name == vkey.name and s.key_id == vkey.key_id]
    if not mine:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise NoteError(f"not signed by key {vkey.name}+{vkey.key_id.hex()} (signed by: {names})")
    for sig in mine:
        try:
            VerifyKey(vkey.public_key).verify(note.text.encode("utf-8"), sig.signature)
        except (BadSignatureError, ValueError):
            raise NoteError(f"the signature by {vkey.name}+{vkey.key_id.hex()} does not verify") from None


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    raw: bytes  # the whole signed note, byte for byte
    note: Note


def parse_checkpoint(raw: bytes) -> Checkpoint:
    """tlog-checkpoint body: origin, decimal tree size, base64 root hash (hrledger adds no extension lines)."""
    note = parse_note(raw)
    lines = note.text.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("the checkpoint body has fewer than 3 lines (origin, size, root)")
    if len(lines) > 3:
        raise NoteError("the checkpoint body has extension lines, which hrledger never writes")
    origin, size_text, root_text = lines
    if not origin:
        raise NoteError("the checkpoint origin line is empty")
    if not _DECIMAL.match(size_text):
        raise NoteError(f"the checkpoint size {size_text[:30]!r} is not a decimal number")
    root = b64decode(root_text, "the checkpoint root")
    if len(root) != 32:
        raise NoteError("the checkpoint root is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, raw, note)


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: bytes  # verbatim signed checkpoint that closes the proof


def parse_tlog_proof(raw: bytes) -> TlogProof:
    """c2sp.org/tlog-proof@v1: header, optional ``extra``, ``index N``, hash lines, blank line, checkpoint."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the tlog-proof is not UTF-8") from None
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise NoteError("the tlog-proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise NoteError(f"the tlog-proof does not start with {TLOG_PROOF_HEADER}")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        rest = rest[1:]  # unauthenticated opaque data; hrledger writes none and ignores it
    if not rest or not rest[0].startswith("index ") or not _DECIMAL.match(rest[0][6:]):
        raise NoteError("the tlog-proof has no valid 'index N' line")
    hashes = tuple(b64decode(h, "a tlog-proof hash") for h in rest[1:])
    return TlogProof(int(rest[0][6:]), hashes, checkpoint.encode("utf-8"))
