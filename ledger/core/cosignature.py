"""Witness cosignatures (C2SP tlog-cosignature v1.0.1, Ed25519 ``cosignature/v1``, type 0x04); pure, no I/O.

The wire format lives once, in ``verifier.cosignature`` (the court's verifier reads the same code). This
module adds what the log and hrledger's own witness need around it: the signing key of a witness, and
reading a witness's answer into cosignature lines for the log's checkpoint. Errors are ``ValidationError``
(bad keys or arguments) and ``VerificationError`` (a cosignature that does not verify).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.signing

from ledger.errors import ValidationError, VerificationError
from verifier import cosignature as wire
from verifier.cosignature import WitnessKey
from verifier.note import NoteError, parse_note, parse_vkey

__all__ = ["Cosigner", "ReceivedCosignature", "WitnessKey", "parse_witness_key", "read_cosignatures"]

_SKEY_PREFIX = "PRIVATE+KEY+"


def parse_witness_key(text: str, field: str = "vkey") -> WitnessKey:
    """A witness verifier key ``<name>+<hex id>+base64(0x04 || key)``; ValidationError names ``field``."""
    try:
        return wire.parse_witness_vkey(text)
    except NoteError as exc:
        raise ValidationError(field, str(exc)) from None


class Cosigner:
    """A witness's signing key: a name and a 32-byte Ed25519 seed (never shown by repr). Keep it apart from
    any log key: signed-note asks that one key is not used for two signature types."""

    def __init__(self, name: str, seed: bytes) -> None:
        if problem := wire.name_problem(name):
            raise ValidationError("name", problem)
        if len(seed) != 32:
            raise ValidationError("seed", f"an Ed25519 seed is 32 bytes, got {len(seed)}")
        self._key = nacl.signing.SigningKey(bytes(seed))
        public = bytes(self._key.verify_key)
        self.key = WitnessKey(name, wire.cosigner_key_id(name, public), public)

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def vkey(self) -> str:
        return self.key.vkey

    @property
    def skey(self) -> str:
        """``PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed)``, the Go note private-key layout for type 0x04."""
        blob = base64.b64encode(bytes([wire.COSIGNATURE_TYPE]) + bytes(self._key)).decode("ascii")
        return f"{_SKEY_PREFIX}{self.key.label}+{blob}"

    @classmethod
    def from_skey(cls, text: str) -> Cosigner:
        text = text.strip()
        if not text.startswith(_SKEY_PREFIX):
            raise ValidationError("skey", "a witness private key starts with PRIVATE+KEY+")
        parts = text[len(_SKEY_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise ValidationError("skey", "expected PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>")
        name, hex_id, blob = parts
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise ValidationError("skey", "the key is not base64") from None
        if len(raw) != 33 or raw[0] != wire.COSIGNATURE_TYPE:
            raise ValidationError("skey", "not a cosignature/v1 private key (0x04 followed by a 32-byte seed)")
        cosigner = cls(name, raw[1:])
        if cosigner.key.key_id.hex() != hex_id:
            raise ValidationError(
                "skey", f"key id {hex_id} does not match the key (expected {cosigner.key.key_id.hex()})"
            )
        return cosigner

    def cosign(self, body: bytes, timestamp: int) -> str:
        """The cosignature line (newline included) over the checkpoint ``body`` at POSIX ``timestamp``."""
        try:
            message = wire.signed_message(body, timestamp)
        except ValueError as exc:
            raise ValidationError("checkpoint", str(exc)) from None
        signature = bytes(self._key.sign(message).signature)
        return wire.format_line(self.name, self.key.key_id, timestamp, signature)

    def __repr__(self) -> str:
        return f"Cosigner({self.key.label})"


@dataclass(frozen=True)
class ReceivedCosignature:
    witness: WitnessKey
    timestamp: int
    line: str  # the cosignature line, newline included, ready to append to the checkpoint note


def read_cosignatures(
    note: bytes, answer: bytes, witnesses: Sequence[WitnessKey], log_vkey: str
) -> list[ReceivedCosignature]:
    """Read a witness's 200 answer (signature lines) for the signed checkpoint ``note``, as tlog-witness
    suggests: append it to the note and open that with the witness keys. Lines by other keys are ignored;
    a line by one of ``witnesses`` that does not verify, or an answer that is not signature lines, raises
    VerificationError. Returns the verified cosignatures, one per witness key."""
    try:
        opened = parse_note(note + answer)
        log = parse_vkey(log_vkey)
    except NoteError as exc:
        raise VerificationError(f"the witness answer is not signature lines for this checkpoint: {exc}") from None
    found = wire.check(opened, witnesses, log)
    if found.invalid:
        raise VerificationError("; ".join(found.invalid))
    return [ReceivedCosignature(c.witness, c.timestamp, c.line) for c in found.valid]
