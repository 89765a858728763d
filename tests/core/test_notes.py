"""Signing C2SP notes and checkpoints and writing tlog-proofs (`ledger.core.notes`): the reference vectors
signed byte for byte, keys round-tripped, and every bad argument refused. Parsing and verifying what is
signed is the verifier's (tests/verifier/test_note.py)."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.notes import CheckpointBody, Signer, format_tlog_proof, sign_checkpoint, sign_note
from ledger.core.wire import verify_checkpoint
from ledger.errors import ValidationError, VerificationError
from tests.support.vectors import load_vectors
from verifier.note import key_id, parse_checkpoint_body, parse_tlog_proof, parse_vkey

ORIGIN = "ledger.example/test-log"
ROOT = bytes(range(32))
VECTORS = load_vectors()


def raises(exc: type[Exception], message: str) -> pytest.RaisesExc[Exception]:
    """Expect ``exc`` whose message contains ``message`` literally."""
    return pytest.raises(exc, match=re.escape(message))


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN, bytes([7]) * 32)


@pytest.fixture(scope="module")
def note(signer: Signer) -> bytes:
    return sign_checkpoint(CheckpointBody(ORIGIN, 5, ROOT), signer)


# --- reference vectors -------------------------------------------------------------------------------


def test_vectors_sign_byte_for_byte() -> None:
    signer = Signer.from_skey(VECTORS["note_skey"])
    assert VECTORS["notes"]
    for case in VECTORS["notes"]:
        assert sign_note(case["text"], [signer]) == case["signed"].encode("utf-8")
        assert sign_note(case["text"].encode("utf-8"), [signer]) == case["signed"].encode("utf-8")


def test_vector_keys_round_trip_and_match() -> None:
    signer = Signer.from_skey(VECTORS["note_skey"])
    assert signer.skey == VECTORS["note_skey"]
    assert signer.vkey == VECTORS["note_vkey"]
    verifier = parse_vkey(VECTORS["note_vkey"])
    assert signer.verifier() == verifier
    assert verifier.key_id == signer.key_id == key_id(signer.name, signer.public_key)


# --- keys ----------------------------------------------------------------------------------------------


def test_signer_basics(signer: Signer) -> None:
    sig = signer.sign(b"hello\n")
    assert len(sig) == 64
    assert signer.verifier().verify(b"hello\n", sig)
    assert not signer.verifier().verify(b"hello!\n", sig)
    assert Signer.from_skey(signer.skey).seed == signer.seed
    assert signer.seed.hex() not in repr(signer)


def test_skey_rejections(signer: Signer) -> None:
    with raises(ValidationError, "starts with PRIVATE+KEY+"):
        Signer.from_skey(signer.vkey)
    bad_id = signer.skey.replace(signer.key_id.hex(), "00000000")
    with raises(ValidationError, "does not match the key") as info:
        Signer.from_skey(bad_id)
    assert signer.skey.rsplit("+", 1)[1] not in str(info.value)  # never echo the secret
    with raises(ValidationError, "skey: key name is empty"):
        Signer.from_skey("PRIVATE+KEY++" + signer.skey.split("+", 3)[3])
    with raises(ValidationError, "32 bytes"):
        Signer.generate(ORIGIN, b"short")
    with raises(ValidationError, "forbidden character"):
        Signer.generate("bad name", bytes(32))


# --- signed notes ------------------------------------------------------------------------------------


def test_sign_note_rejects_bad_text(signer: Signer) -> None:
    with raises(ValidationError, "must end with a newline"):
        sign_note("no newline", [signer])
    with raises(ValidationError, "line 2: control character U+0009"):
        sign_note("a\nb\tc\n", [signer])
    with raises(ValidationError, "not valid UTF-8 at byte offset 1"):
        sign_note(b"a\xff\n", [signer])
    with raises(ValidationError, "at least one signer"):
        sign_note("a\n", [])
    with raises(ValidationError, "the same key appears twice"):
        sign_note("a\n", [signer, signer])


# --- checkpoints --------------------------------------------------------------------------------------


def test_checkpoint_format(signer: Signer) -> None:
    cp = CheckpointBody(ORIGIN, 5, ROOT)
    assert cp.format() == f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n".encode()
    assert parse_checkpoint_body(cp.format().decode()) == (ORIGIN, 5, ROOT)
    opened = verify_checkpoint(sign_checkpoint(cp, signer), signer.verifier(), origin=ORIGIN)
    assert (opened.origin, opened.size, opened.root) == (ORIGIN, 5, ROOT)


def test_checkpoint_signing_refuses_another_origin(signer: Signer) -> None:
    with raises(ValidationError, "differs from the key name"):
        sign_checkpoint(CheckpointBody("elsewhere.example/log", 5, ROOT), signer)


def test_checkpoint_body_validates() -> None:
    with raises(ValidationError, "root hash has 3 bytes"):
        CheckpointBody("o", 1, b"abc")
    with raises(ValidationError, "tree size -1"):
        CheckpointBody("o", -1, ROOT)
    with raises(ValidationError, "line 1: origin is empty"):
        CheckpointBody("", 1, ROOT)


def test_verify_checkpoint_raises_ledger_errors(note: bytes, signer: Signer) -> None:
    """``ledger.core.wire`` is where the verifier's errors become ledger errors."""
    with raises(VerificationError, "expected origin 'x.example/log' differs from the key name"):
        verify_checkpoint(note, signer.verifier(), origin="x.example/log")
    with raises(VerificationError, "checkpoint: line 5: signature by"):
        verify_checkpoint(note.replace(b"\n5\n", b"\n6\n"), signer.verifier())


key_names = st.text(st.characters(blacklist_categories=("C", "Z"), blacklist_characters="+"), min_size=1, max_size=40)


@settings(max_examples=50)
@given(
    name=key_names,
    seed=st.binary(min_size=32, max_size=32),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_signed_checkpoint_round_trip(name: str, seed: bytes, size: int, root: bytes) -> None:
    signer = Signer.generate(name, seed)
    verifier = parse_vkey(signer.vkey)
    assert Signer.from_skey(signer.skey).vkey == signer.vkey
    opened = verify_checkpoint(sign_checkpoint(CheckpointBody(name, size, root), signer), verifier, origin=name)
    assert (opened.origin, opened.size, opened.root) == (name, size, root)


# --- tlog-proof ---------------------------------------------------------------------------------------


def test_tlog_proof_round_trip(note: bytes) -> None:
    hashes = [bytes([i]) * 32 for i in range(3)]
    text = format_tlog_proof(4, hashes, note)
    lines = [b"c2sp.org/tlog-proof@v1", b"index 4", *(base64.b64encode(h) for h in hashes), b""]
    assert text == b"\n".join(lines) + b"\n" + note
    proof = parse_tlog_proof(text)
    assert (proof.index, proof.hashes, proof.checkpoint, proof.extra) == (4, tuple(hashes), note, None)
    assert format_tlog_proof(proof.index, proof.hashes, proof.checkpoint) == text


def test_tlog_proof_without_hashes(note: bytes) -> None:
    text = format_tlog_proof(0, [], note)
    assert text == b"c2sp.org/tlog-proof@v1\nindex 0\n\n" + note
    assert parse_tlog_proof(text).hashes == ()


def test_format_tlog_proof_rejections(note: bytes) -> None:
    with raises(ValidationError, "hash 0 has 31 bytes"):
        format_tlog_proof(0, [bytes(31)], note)
    with raises(ValidationError, "index -1"):
        format_tlog_proof(-1, [], note)
    with raises(ValidationError, "at most 64"):
        format_tlog_proof(0, [ROOT] * 65, note)
    with raises(ValidationError, "not a signed note"):
        format_tlog_proof(0, [], note[:-1])
