"""C2SP signed notes, checkpoints and tlog-proofs, parsed and checked with PyNaCl (Ed25519).

References: https://c2sp.org/signed-note (verifier keys, signature lines, key IDs),
https://c2sp.org/tlog-checkpoint (body: origin, size, base64 root) and https://c2sp.org/tlog-proof.
This is the one implementation of these checks (the ledger signs, and verifies with this module). Parsing
is strict and every failure raises NoteError naming the line and the fault; base64 is standard with
padding and must be canonical (re-encoding gives the input). Nothing here reads files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import NoReturn

from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

SIG_PREFIX = "\u2014 "  # em dash U+2014 and a space
ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # C2SP asks verifiers to accept at least 16; Go's note package caps at 100
MAX_PROOF_HASHES = 64  # an inclusion proof in a tree of fewer than 2**64 leaves
MAX_TREE_SIZE = 2**64 - 1
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
RESERVED_ORIGIN_PREFIX = "hrledger.dev/"  # first lines of the log's other signed statements (SPEC section 1)
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX8 = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, key or proof is malformed or does not verify."""


def b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 with padding (RFC 4648 section 4)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what} is not canonical standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical standard base64")
    return raw


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- keys ------------------------------------------------------------------------------------------


def key_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid signed-note key name (non-empty, no space, no "+", no control), or None."""
    if not name:
        return "key name is empty"
    for ch in name:
        if ch.isspace() or ch == "+" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"key name {name!r} contains the forbidden character U+{ord(ch):04X}"
    return None


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be a log's origin (it is also the key name), or None."""
    if problem := key_name_problem(origin):
        return problem
    if not origin.isprintable():
        return f"origin {origin!r} contains a non-printable character"
    if origin.startswith(RESERVED_ORIGIN_PREFIX):
        return f"origin {origin!r} begins with {RESERVED_ORIGIN_PREFIX}, which names the log's signed statements"
    return None


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> bytes:
    """signed-note: key ID = first 4 bytes of SHA-256(name || 0x0A || alg || public key)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def split_key(text: str, what: str) -> tuple[str, bytes, bytes]:
    """``<name>+<8 hex key id>+<base64(0x01 || 32 bytes)>`` as (name, key id, the 32 key bytes).

    Checks the form only; whether the id matches the key is the caller's (a private key string holds the
    seed, from which the public key is derived first)."""
    parts = text.split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise NoteError(f"{what}: expected <name>+<8 hex key id>+<base64 key>")
    name, hex_id, b64 = parts
    if problem := key_name_problem(name):
        raise NoteError(f"{what}: {problem}")
    if not _HEX8.fullmatch(hex_id):
        raise NoteError(f"{what}: key id must be 8 lowercase hex digits")
    raw = b64decode(b64, f"{what}: key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"{what}: key must be 0x01 (Ed25519) followed by 32 bytes")
    return name, bytes.fromhex(hex_id), raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A verifier key: its name, key id, Ed25519 public key and the string ``<name>+<id>+<base64>``."""

    name: str
    key_id: bytes
    public_key: bytes
    text: str

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Whether ``sig`` is this key's Ed25519 signature of ``msg``."""
        if len(sig) != 64:
            return False
        try:
            VerifyKey(self.public_key).verify(msg, sig)
        except (CryptoError, ValueError):
            return False
        return True


def make_verifier(name: str, public_key: bytes) -> Verifier:
    """The verifier of an Ed25519 public key under ``name``."""
    if problem := key_name_problem(name):
        raise NoteError(problem)
    if len(public_key) != 32:
        raise NoteError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    kid = key_id(name, public_key)
    return Verifier(name, kid, bytes(public_key), f"{name}+{kid.hex()}+{b64encode(bytes([ALG_ED25519]) + public_key)}")


def parse_vkey(text: str) -> Verifier:
    """Parse ``<name>+<8 hex key id>+<base64(0x01 || public key)>``; the id must match name and key."""
    name, kid, public = split_key(text.strip(), "vkey")
    verifier = make_verifier(name, public)
    if verifier.key_id != kid:
        raise NoteError(f"vkey: key id {kid.hex()} does not match the key (expected {verifier.key_id.hex()})")
    return verifier


# -- signed notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # everything after the key id: 64 bytes for Ed25519, 72 for a cosignature/v1
    line: int  # 1-based line number in the note


@dataclass(frozen=True)
class Note:
    text: str  # the signed message: the body including its final newline
    signatures: tuple[Signature, ...]


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be note text (a control character other than newline), or None."""
    for pos, ch in enumerate(text):
        if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F:
            return f"line {text.count(chr(10), 0, pos) + 1}: control character U+{ord(ch):04X} is not allowed"
    return None


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 note text without control characters other than newline."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NoteError(f"{what}: line {line}: not valid UTF-8 (byte offset {exc.start})") from None
    if problem := text_problem(text):
        raise NoteError(f"{what}: {problem}")
    return text


def parse_note(raw: bytes, what: str = "signed note") -> Note:
    """Split a signed note into its text (ending at the last blank line) and its signature lines."""
    decoded = decode_text(raw, what)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError(f"{what}: no blank line separates the text from the signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    first_line = text.count("\n") + 2  # 1-based line number of the first signature line
    if not block:
        raise NoteError(f"{what}: line {first_line}: no signature lines after the blank line")
    if not block.endswith("\n"):
        last = first_line + block.count("\n")
        raise NoteError(f"{what}: line {last}: missing final newline after the last signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"{what}: {len(lines)} signatures, more than the limit {MAX_SIGNATURES}")
    signatures: list[Signature] = []
    for k, line in enumerate(lines):
        where = f"{what}: line {first_line + k} (signature {k + 1})"
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"{where}: does not start with an em dash and a space")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if problem := key_name_problem(name):
            raise NoteError(f"{where}: {problem}")
        if not sep:
            raise NoteError(f"{where}: no space between key name and signature")
        blob = b64decode(b64, f"{where}: signature")
        if len(blob) < 5:
            raise NoteError(f"{where}: signature has {len(blob)} bytes, needs a 4-byte key id and more")
        signatures.append(Signature(name, blob[:4], blob[4:], first_line + k))
    return Note(text, tuple(signatures))


def verify_note(note: Note, vkey: Verifier, what: str = "signed note") -> None:
    """The note must carry a valid Ed25519 signature by ``vkey`` over its text, and every line with that
    key's name and id must verify (a good signature does not excuse a bad one). Lines by other keys
    (witness cosignatures) are left to their own checks."""
    msg = note.text.encode("utf-8")
    mine = [s for s in note.signatures if s.name == vkey.name and s.key_id == vkey.key_id]
    for sig in mine:
        if not vkey.verify(msg, sig.signature):
            raise NoteError(f"{what}: line {sig.line}: signature by {vkey.name}+{vkey.key_id.hex()} does not verify")
    if not mine:
        namesakes = [s for s in note.signatures if s.name == vkey.name]
        if namesakes:
            detail = "; ".join(
                f"line {s.line}: key {s.name!r} has key id {s.key_id.hex()}, the trusted key has {vkey.key_id.hex()}"
                for s in namesakes
            )
        else:
            detail = "signed only by unknown keys " + ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise NoteError(f"{what}: no signature by a trusted key: {detail}")


def log_signed_note(note: Note, log: Verifier) -> bytes:
    """The note as the log signed it: its text and the log's own signature lines, without other keys' lines
    (witness cosignatures). RFC 3161 tokens cover these bytes (SPEC section 1)."""
    own = [s for s in note.signatures if (s.name, s.key_id) == (log.name, log.key_id)]
    lines = [f"{SIG_PREFIX}{s.name} {b64encode(s.key_id + s.signature)}\n" for s in own]
    return (note.text + "\n" + "".join(lines)).encode("utf-8")


# -- checkpoints -----------------------------------------------------------------------------------


def checkpoint_problem(origin: str, size: int, root: bytes) -> str | None:
    """Why these cannot be a checkpoint body's lines, or None."""
    if not origin:
        return "line 1: origin is empty"
    if not origin.isprintable():
        return f"line 1: origin {origin!r} contains a non-printable character"
    if not 0 <= size <= MAX_TREE_SIZE:
        return f"line 2: tree size {size} is outside 0..2**64-1"
    if len(root) != 32:
        return f"line 3: root hash has {len(root)} bytes, expected 32"
    return None


def format_checkpoint_body(origin: str, size: int, root: bytes) -> bytes:
    """The checkpoint body, which is the signed message: origin, size, base64 root, each ending in a newline."""
    if problem := checkpoint_problem(origin, size, root):
        raise NoteError(f"checkpoint: {problem}")
    return f"{origin}\n{size}\n{b64encode(root)}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    raw: bytes  # the whole signed note, byte for byte
    note: Note


def parse_checkpoint_body(text: str, what: str = "checkpoint") -> tuple[str, int, bytes]:
    """tlog-checkpoint body: origin, decimal tree size, base64 root hash; no extension lines (SPEC section 1)."""
    origin, size, root, _ = parse_checkpoint_lines(text, what)
    return origin, size, root


def parse_checkpoint_lines(
    text: str, what: str = "checkpoint", *, allow_extensions: bool = False
) -> tuple[str, int, bytes, tuple[str, ...]]:
    """The body's lines: origin, size, root and the extension lines, which only a witness (cosigning any log's
    checkpoints verbatim) accepts; hrledger's log writes none and its bundles may hold none."""
    if not text.endswith("\n"):
        raise NoteError(f"{what}: body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"{what}: {len(lines)} lines, expected origin, tree size and root hash")
    if len(lines) > 3 and not allow_extensions:
        raise NoteError(f"{what}: line 4: extension lines are not allowed")
    for n, extension in enumerate(lines[3:], start=4):
        if not extension:
            raise NoteError(f"{what}: line {n}: an extension line must not be empty")
    origin, size_text, root_text = lines[:3]
    if not _DECIMAL.fullmatch(size_text):
        raise NoteError(f"{what}: line 2: tree size {size_text[:30]!r} is not a decimal without leading zeros")
    root = b64decode(root_text, f"{what}: line 3: root hash")
    if problem := checkpoint_problem(origin, int(size_text), root):
        raise NoteError(f"{what}: {problem}")
    return origin, int(size_text), root, tuple(lines[3:])


def parse_checkpoint(raw: bytes) -> Checkpoint:
    """A signed checkpoint note, parsed but not verified (see ``open_checkpoint``)."""
    note = parse_note(raw, "checkpoint")
    origin, size, root = parse_checkpoint_body(note.text)
    return Checkpoint(origin, size, root, bytes(raw), note)


def open_checkpoint(raw: bytes, vkey: Verifier) -> Checkpoint:
    """A checkpoint signed by ``vkey`` whose origin is the key name."""
    cp = parse_checkpoint(raw)
    verify_note(cp.note, vkey, "checkpoint")
    if cp.origin != vkey.name:
        raise NoteError(f"checkpoint: origin {cp.origin!r} differs from the key name {vkey.name!r}")
    return cp


# -- tlog-proofs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: bytes  # verbatim signed checkpoint that closes the proof (unverified)
    extra: bytes | None = None  # the "extra" line's data: in hrledger's receipts, the entry's leaf bytes


def parse_tlog_proof(raw: bytes | str, what: str = "tlog-proof") -> TlogProof:
    """c2sp.org/tlog-proof@v1: header, optional ``extra``, ``index N``, hash lines, blank line, checkpoint."""

    def fail(line: int, detail: str) -> NoReturn:
        raise NoteError(f"{what}: line {line}: {detail}")

    lines = (raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)).split(b"\n")
    if lines[0] != TLOG_PROOF_HEADER.encode():
        fail(1, f"first line must be {TLOG_PROOF_HEADER}")
    n = 1
    extra: bytes | None = None
    if n < len(lines) and lines[n].startswith(b"extra "):
        try:
            extra = b64decode(lines[n][6:].decode("ascii"), "extra data")
        except (NoteError, UnicodeDecodeError):
            fail(n + 1, "extra data is not canonical standard base64")
        n += 1
    if n >= len(lines) or not lines[n].startswith(b"index "):
        fail(n + 1, "expected 'index <n>'")
    index_text = lines[n][6:].decode("ascii", "replace")
    if not _DECIMAL.fullmatch(index_text) or int(index_text) > MAX_TREE_SIZE:
        fail(n + 1, f"index {index_text[:30]!r} is not a decimal without leading zeros below 2**64")
    n += 1
    hashes: list[bytes] = []
    while n < len(lines) and lines[n]:
        if len(hashes) == MAX_PROOF_HASHES:
            fail(n + 1, f"more than {MAX_PROOF_HASHES} proof hashes")
        try:
            h = b64decode(lines[n].decode("ascii"), "proof hash")
        except (NoteError, UnicodeDecodeError):
            h = b""
        if len(h) != 32:
            fail(n + 1, "proof hash is not a canonical base64 SHA-256 hash")
        hashes.append(h)
        n += 1
    if n + 1 >= len(lines):
        fail(n + 1, "missing the blank line and the signed checkpoint")
    note = b"\n".join(lines[n + 1 :])
    if not note.strip(b"\n"):
        fail(n + 2, "the signed checkpoint is empty")
    return TlogProof(int(index_text), tuple(hashes), note, extra)
