"""C2SP signed notes, tlog-checkpoints and tlog-proofs with Ed25519 keys; pure, no I/O.

Formats: c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-proof@v1 (SPEC section 1).
Parsing is strict and every failure raises ``VerificationError`` naming the line and the fault. Bad
arguments to the constructing side (key strings, text to sign, checkpoint fields) raise
``ValidationError``. Base64 is standard with padding and must be canonical (re-encoding gives the input).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

import nacl.exceptions
import nacl.signing

from ledger.errors import ValidationError, VerificationError

ED25519_TYPE = b"\x01"
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # C2SP asks verifiers to accept at least 16; Go's note package caps at 100
MAX_PROOF_HASHES = 64  # an inclusion proof in a tree of fewer than 2**64 leaves
MAX_TREE_SIZE = 2**64 - 1
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_HEX8 = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 with padding; None unless ``text`` is the canonical encoding."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid C2SP key name, or None when it is."""
    if not name:
        return "key name is empty"
    for ch in name:
        if ch.isspace() or ch == "+" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return f"key name {name!r} contains the forbidden character U+{ord(ch):04X}"
    return None


def compute_key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public_key)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def _split_key_string(text: str, field: str, has_prefix: bool) -> tuple[str, bytes, bytes]:
    """Parse ``<name>+<8 hex id>+<base64(0x01 || 32 bytes)>``; returns name, key id, 32 key bytes."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise ValidationError(field, "expected <name>+<8 hex key id>+<base64 key>")
    name, hex_id, b64 = parts
    if problem := key_name_problem(name):
        raise ValidationError(field, problem)
    if not _HEX8.fullmatch(hex_id):
        raise ValidationError(field, "key id must be 8 lowercase hex digits")
    raw = _b64decode(b64)
    if raw is None:
        raise ValidationError(field, "key is not canonical standard base64")
    if len(raw) != 33 or raw[:1] != ED25519_TYPE:
        raise ValidationError(field, "key must be 0x01 (Ed25519) followed by 32 bytes")
    key = raw[1:]
    public = bytes(nacl.signing.SigningKey(key).verify_key) if has_prefix else key
    if (expected := compute_key_id(name, public).hex()) != hex_id:
        raise ValidationError(field, f"key id {hex_id} does not match the key (expected {expected})")
    return name, bytes.fromhex(hex_id), key


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
        self.key_id = compute_key_id(name, self.public_key)

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
        name, _, seed = _split_key_string(text[len("PRIVATE+KEY+") :], "skey", has_prefix=True)
        return cls(name, seed)

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64(ED25519_TYPE + self.seed)}"

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(ED25519_TYPE + self.public_key)}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, msg: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature (deterministic)."""
        return bytes(self._key.sign(msg).signature)

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_id={self.key_id.hex()})"


class Verifier:
    """An Ed25519 note verifier: a key name and a 32-byte public key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if problem := key_name_problem(name):
            raise ValidationError("name", problem)
        if len(public_key) != 32:
            raise ValidationError("public_key", f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = compute_key_id(name, self.public_key)
        self._key = nacl.signing.VerifyKey(self.public_key)

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse ``<name>+<8 hex key id>+<base64(0x01 || public key)>``."""
        name, _, public = _split_key_string(text.strip(), "vkey", has_prefix=False)
        return cls(name, public)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(ED25519_TYPE + self.public_key)}"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != 64:
            return False
        try:
            self._key.verify(msg, sig)
        except (nacl.exceptions.CryptoError, ValueError):
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


@dataclass(frozen=True)
class Note:
    """An opened note: its text (with final newline) and who signed it."""

    text: bytes
    signed_by: tuple[str, ...]  # names of the known keys whose signatures verified, in note order
    ignored: tuple[str, ...] = ()  # "<name>+<hex id>" of signatures by unknown keys


def _text_problem(text: str) -> str | None:
    for pos, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            return f"line {text.count(chr(10), 0, pos) + 1}: control character U+{ord(ch):04X} is not allowed"
    return None


def _decode_note(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise VerificationError(f"{what}: line {line}: not valid UTF-8 (byte offset {exc.start})") from None
    if problem := _text_problem(text):
        raise VerificationError(f"{what}: {problem}")
    return text


def sign_note(text: str | bytes, signers: Iterable[Signer]) -> bytes:
    """The signed note: text, a blank line, one signature line per signer (in the given order)."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError("text", f"not valid UTF-8 at byte offset {exc.start}") from None
    if problem := _text_problem(decoded):
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
    lines = [f"{SIG_PREFIX}{s.name} {_b64(s.key_id + s.sign(raw))}\n" for s in signer_list]
    return raw + b"\n" + "".join(lines).encode("utf-8")


def open_note(note: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Verify a signed note against trusted keys (c2sp.org/signed-note rules) and return its text."""
    what = "signed note"
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if known.setdefault((v.name, v.key_id), v).public_key != v.public_key:
            raise ValidationError("verifiers", f"two keys share the name {v.name!r} and key id")
    names = {name for name, _ in known}
    decoded = _decode_note(note, what)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise VerificationError(f"{what}: no blank line separates the text from the signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    first_line = text.count("\n") + 2  # 1-based line number of the first signature line
    if not block:
        raise VerificationError(f"{what}: line {first_line}: no signature lines after the blank line")
    if not block.endswith("\n"):
        raise VerificationError(
            f"{what}: line {first_line + block.count(chr(10))}: missing final newline after the last signature line"
        )
    sig_lines = block[:-1].split("\n")
    if len(sig_lines) > MAX_SIGNATURES:
        raise VerificationError(f"{what}: {len(sig_lines)} signatures, more than the limit {MAX_SIGNATURES}")
    msg = text.encode("utf-8")
    signed_by: list[str] = []
    ignored: list[str] = []
    mismatched: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for k, line in enumerate(sig_lines):
        where = f"{what}: line {first_line + k} (signature {k + 1})"
        if not line.startswith(SIG_PREFIX):
            raise VerificationError(f"{where}: does not start with an em dash and a space")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if problem := key_name_problem(name):
            raise VerificationError(f"{where}: {problem}")
        if not sep:
            raise VerificationError(f"{where}: no space between key name and signature")
        raw = _b64decode(b64)
        if raw is None:
            raise VerificationError(f"{where}: signature is not canonical standard base64")
        if len(raw) < 5:
            raise VerificationError(f"{where}: signature has {len(raw)} bytes, needs a 4-byte key id and more")
        key_id, sig = raw[:4], raw[4:]
        verifier = known.get((name, key_id))
        if verifier is None:
            ignored.append(f"{name}+{key_id.hex()}")
            if name in names:
                expected = ", ".join(sorted(i.hex() for n, i in known if n == name))
                mismatched.append(
                    f"line {first_line + k}: key {name!r} has key id {key_id.hex()}, the trusted key has {expected}"
                )
            continue
        if not verifier.verify(msg, sig):
            raise VerificationError(f"{where}: signature by {name}+{key_id.hex()} does not verify")
        if (name, key_id) not in seen:
            seen.add((name, key_id))
            signed_by.append(name)
    if not signed_by:
        detail = "; ".join(mismatched) if mismatched else "signed only by unknown keys " + ", ".join(ignored)
        raise VerificationError(f"{what}: no signature by a trusted key: {detail}")
    return Note(text=msg, signed_by=tuple(signed_by), ignored=tuple(ignored))


def _checkpoint_problem(origin: str, size: int, root_hash: bytes, extensions: tuple[str, ...]) -> str | None:
    if not origin:
        return "line 1: origin is empty"
    if not origin.isprintable():
        return f"line 1: origin {origin!r} contains a non-printable character"
    if not 0 <= size <= MAX_TREE_SIZE:
        return f"line 2: tree size {size} is outside 0..2**64-1"
    if len(root_hash) != 32:
        return f"line 3: root hash has {len(root_hash)} bytes, expected 32"
    for i, ext in enumerate(extensions, start=4):
        if not ext or "\n" in ext or _text_problem(ext):
            return f"line {i}: extension line must be non-empty without control characters"
    return None


@dataclass(frozen=True)
class Checkpoint:
    """A c2sp.org/tlog-checkpoint body. Our log emits no extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if problem := _checkpoint_problem(self.origin, self.size, self.root_hash, self.extensions):
            raise ValidationError("checkpoint", problem)

    def format(self) -> bytes:
        """The body, which is also the signed message: ends with a newline."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return ("\n".join(lines) + "\n").encode("utf-8")


def parse_checkpoint(body: bytes, *, allow_extensions: bool = False) -> Checkpoint:
    """Strictly parse a checkpoint body (the note text, final newline included)."""
    what = "checkpoint"
    text = _decode_note(body, what)
    if not text.endswith("\n"):
        raise VerificationError(f"{what}: body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError(f"{what}: {len(lines)} lines, expected origin, tree size and root hash")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise VerificationError(f"{what}: line 2: tree size {size_text!r} is not a decimal without leading zeros")
    root = _b64decode(root_text)
    if root is None:
        raise VerificationError(f"{what}: line 3: root hash is not canonical standard base64")
    if extensions and not allow_extensions:
        raise VerificationError(f"{what}: line 4: extension lines are not allowed")
    if problem := _checkpoint_problem(origin, int(size_text), root, tuple(extensions)):
        raise VerificationError(f"{what}: {problem}")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> bytes:
    """The signed checkpoint note; the key name must equal the origin."""
    if cp.origin != signer.name:
        raise ValidationError("checkpoint", f"origin {cp.origin!r} differs from the key name {signer.name!r}")
    return sign_note(cp.format(), [signer])


def verify_checkpoint(note: bytes, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    """Open a signed checkpoint with ``verifier``; its origin must equal the key name (and ``origin``)."""
    if origin is not None and origin != verifier.name:
        raise VerificationError(f"checkpoint: expected origin {origin!r} differs from the key name {verifier.name!r}")
    cp = parse_checkpoint(open_note(note, [verifier]).text)
    if cp.origin != verifier.name:
        raise VerificationError(f"checkpoint: origin {cp.origin!r} differs from the key name {verifier.name!r}")
    return cp


@dataclass(frozen=True)
class TlogProof:
    """A c2sp.org/tlog-proof@v1: index, inclusion proof (leaf upward) and the signed checkpoint verbatim."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: bytes
    extra: bytes | None = None  # unauthenticated extra data; parsed, never emitted by us


def format_tlog_proof(index: int, proof_hashes: Iterable[bytes], signed_checkpoint: bytes) -> bytes:
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
    head = [TLOG_PROOF_HEADER, f"index {index}", *(_b64(h) for h in hashes), ""]
    return ("\n".join(head) + "\n").encode("ascii") + signed_checkpoint


def parse_tlog_proof(text: str | bytes) -> TlogProof:
    """Parse a tlog-proof; the embedded checkpoint is returned verbatim, unverified (see verify_checkpoint)."""
    what = "tlog-proof"
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)

    def fail(line: int, detail: str) -> NoReturn:
        raise VerificationError(f"{what}: line {line}: {detail}")

    lines = data.split(b"\n")
    if lines[0] != TLOG_PROOF_HEADER.encode():
        fail(1, f"first line must be {TLOG_PROOF_HEADER}")
    n = 1
    extra: bytes | None = None
    if n < len(lines) and lines[n].startswith(b"extra "):
        extra = _b64decode(lines[n][6:].decode("ascii", "replace"))
        if extra is None:
            fail(n + 1, "extra data is not canonical standard base64")
        n += 1
    if n >= len(lines) or not lines[n].startswith(b"index "):
        fail(n + 1, "expected 'index <n>'")
    index_text = lines[n][6:].decode("ascii", "replace")
    if not _DECIMAL.fullmatch(index_text) or int(index_text) > MAX_TREE_SIZE:
        fail(n + 1, f"index {index_text!r} is not a decimal without leading zeros below 2**64")
    n += 1
    hashes: list[bytes] = []
    while n < len(lines) and lines[n]:
        h = _b64decode(lines[n].decode("ascii", "replace"))
        if h is None or len(h) != 32:
            fail(n + 1, "proof hash is not a canonical base64 SHA-256 hash")
        if len(hashes) == MAX_PROOF_HASHES:
            fail(n + 1, f"more than {MAX_PROOF_HASHES} proof hashes")
        hashes.append(h)
        n += 1
    if n + 1 >= len(lines):
        fail(n + 1, "missing the blank line and the signed checkpoint")
    note = b"\n".join(lines[n + 1 :])
    if not note.strip(b"\n"):
        fail(n + 2, "the signed checkpoint is empty")
    return TlogProof(int(index_text), tuple(hashes), note, extra)
