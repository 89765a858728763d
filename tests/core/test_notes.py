"""C2SP signed notes, checkpoints and tlog-proofs: reference vectors, round trips, every rejection."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.notes import (
    MAX_SIGNATURES,
    Checkpoint,
    Signer,
    TlogProof,
    Verifier,
    compute_key_id,
    format_tlog_proof,
    open_note,
    parse_checkpoint,
    parse_tlog_proof,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
)
from ledger.errors import ValidationError, VerificationError
from tests.support.vectors import load_vectors

ORIGIN = "ledger.example/test-log"
ROOT = bytes(range(32))
EM = "\u2014"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return load_vectors()


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN, bytes([7]) * 32)


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> Verifier:
    return Verifier.from_vkey(signer.vkey)


@pytest.fixture(scope="module")
def note(signer: Signer) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, 5, ROOT), signer)


def raises(exc: type[Exception], message: str) -> pytest.RaisesExc[Exception]:
    """Expect ``exc`` whose message contains ``message`` literally."""
    return pytest.raises(exc, match=re.escape(message))


def rejected(note: bytes, verifier: Verifier, match: str) -> None:
    with raises(VerificationError, match):
        open_note(note, [verifier])


# --- reference vectors -------------------------------------------------------------------------------


def test_vectors_sign_byte_for_byte(vectors: dict[str, Any]) -> None:
    signer = Signer.from_skey(vectors["note_skey"])
    assert vectors["notes"]
    for case in vectors["notes"]:
        assert sign_note(case["text"], [signer]) == case["signed"].encode("utf-8")
        assert sign_note(case["text"].encode("utf-8"), [signer]) == case["signed"].encode("utf-8")


def test_vectors_verify(vectors: dict[str, Any]) -> None:
    verifier = Verifier.from_vkey(vectors["note_vkey"])
    for case in vectors["notes"]:
        opened = open_note(case["signed"].encode("utf-8"), [verifier])
        assert opened.text == case["text"].encode("utf-8")
        assert opened.signed_by == (verifier.name,)
        cp = verify_checkpoint(case["signed"].encode("utf-8"), verifier, origin=verifier.name)
        assert cp.format() == case["text"].encode("utf-8")


def test_vector_keys_round_trip_and_match(vectors: dict[str, Any]) -> None:
    signer = Signer.from_skey(vectors["note_skey"])
    assert signer.skey == vectors["note_skey"]
    assert signer.vkey == vectors["note_vkey"]
    verifier = Verifier.from_vkey(vectors["note_vkey"])
    assert verifier.vkey == vectors["note_vkey"]
    assert verifier.key_id == signer.key_id == compute_key_id(signer.name, signer.public_key)
    assert verifier.key_id.hex() == vectors["note_vkey"].split("+")[1]


# --- keys ----------------------------------------------------------------------------------------------


def test_signer_and_verifier_basics(signer: Signer, verifier: Verifier) -> None:
    sig = signer.sign(b"hello\n")
    assert len(sig) == 64
    assert verifier.verify(b"hello\n", sig)
    assert not verifier.verify(b"hello!\n", sig)
    assert not verifier.verify(b"hello\n", sig[:63])
    assert signer.verifier().vkey == verifier.vkey
    assert Signer.from_skey(signer.skey).seed == signer.seed
    assert signer.seed.hex() not in repr(signer)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda v: v.split("+", 1)[0], "expected <name>"),
        (lambda v: v.replace("+", " +", 1), "forbidden character U+0020"),
        (lambda v: "+" + v.split("+", 1)[1], "key name is empty"),
        (lambda v: v.replace(v.split("+")[1], "00000000"), "does not match the key"),
        (lambda v: v.replace(v.split("+")[1], v.split("+")[1].upper()), "8 lowercase hex"),
        (lambda v: v[:-2], "not canonical"),
        (lambda v: v.rsplit("+", 1)[0] + "+" + base64.b64encode(b"\x02" + bytes(32)).decode(), "0x01"),
    ],
)
def test_vkey_rejections(verifier: Verifier, mutate: Any, match: str) -> None:
    with raises(ValidationError, match):
        Verifier.from_vkey(mutate(verifier.vkey))


def test_skey_rejections(signer: Signer) -> None:
    with raises(ValidationError, "starts with PRIVATE+KEY+"):
        Signer.from_skey(signer.vkey)
    bad_id = signer.skey.replace(signer.key_id.hex(), "00000000")
    with raises(ValidationError, "does not match the key") as info:
        Signer.from_skey(bad_id)
    assert signer.skey.rsplit("+", 1)[1] not in str(info.value)  # never echo the secret
    with raises(ValidationError, "32 bytes"):
        Signer.generate(ORIGIN, b"short")
    with raises(ValidationError, "forbidden character"):
        Signer.generate("bad name", bytes(32))


# --- signed notes ------------------------------------------------------------------------------------


def test_multiple_signers_and_unknown_keys_ignored(signer: Signer, verifier: Verifier) -> None:
    witness = Signer.generate("witness.example/w1", bytes([9]) * 32)
    signed = sign_note("any text\n\nwith an empty line\n", [signer, witness])
    opened = open_note(signed, [verifier])
    assert opened.text == b"any text\n\nwith an empty line\n"
    assert opened.signed_by == (ORIGIN,)
    assert opened.ignored == (f"witness.example/w1+{witness.key_id.hex()}",)
    both = open_note(signed, [verifier, witness.verifier()])
    assert both.signed_by == (ORIGIN, "witness.example/w1")


def test_sign_note_rejects_bad_text(signer: Signer) -> None:
    with raises(ValidationError, "must end with a newline"):
        sign_note("no newline", [signer])
    with raises(ValidationError, "line 2: control character U+0009"):
        sign_note("a\nb\tc\n", [signer])
    with raises(ValidationError, "not valid UTF-8 at byte offset 1"):
        sign_note(b"a\xff\n", [signer])
    with raises(ValidationError, "at least one signer"):
        sign_note("a\n", [])


def test_reject_no_blank_line(note: bytes, verifier: Verifier) -> None:
    rejected(note.replace(b"=\n\n", b"=\n"), verifier, "no blank line separates the text from the signatures")


def test_reject_bad_base64(note: bytes, verifier: Verifier) -> None:
    rejected(note[:-3] + b"!=\n", verifier, "line 5 (signature 1): signature is not canonical standard base64")


def test_reject_non_canonical_base64(note: bytes, verifier: Verifier) -> None:
    rejected(note[:-2] + b"\n", verifier, "line 5 (signature 1): signature is not canonical")


def test_reject_only_unknown_keys(note: bytes) -> None:
    other = Signer.generate("other.example/log", bytes([1]) * 32).verifier()
    with raises(VerificationError, f"no signature by a trusted key: signed only by unknown keys {ORIGIN}+"):
        open_note(note, [other])


def test_reject_wrong_key_id(signer: Signer, note: bytes, verifier: Verifier) -> None:
    text, sig_line = note.decode().rsplit("\n\n", 1)
    raw = base64.b64decode(sig_line.rsplit(" ", 1)[1])
    b64 = base64.b64encode(bytes(4) + raw[4:]).decode()
    forged = f"{text}\n\n{EM} {ORIGIN} {b64}\n"
    rejected(
        forged.encode(),
        verifier,
        f"line 5: key '{ORIGIN}' has key id 00000000, the trusted key has {signer.key_id.hex()}",
    )


def test_reject_other_key_with_same_name(verifier: Verifier) -> None:
    impostor = Signer.generate(ORIGIN, bytes([8]) * 32)
    assert impostor.key_id != verifier.key_id
    forged = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOT), impostor)
    with raises(VerificationError, "no signature by a trusted key: line 5: key"):
        verify_checkpoint(forged, verifier)


def test_reject_control_character(note: bytes, verifier: Verifier) -> None:
    rejected(note.replace(b"\n5\n", b"\n5\r\n"), verifier, "line 2: control character U+000D is not allowed")


def test_reject_non_utf8(note: bytes, verifier: Verifier) -> None:
    rejected(note.replace(b"\n5\n", b"\n5\xc3\n"), verifier, "line 2: not valid UTF-8")


def test_reject_trailing_junk_line(note: bytes, verifier: Verifier) -> None:
    rejected(note + b"junk\n", verifier, "line 6 (signature 2): does not start with an em dash and a space")


def test_reject_trailing_junk_without_newline(note: bytes, verifier: Verifier) -> None:
    rejected(note + b"junk", verifier, "line 6: missing final newline after the last signature line")


def test_reject_missing_final_newline(note: bytes, verifier: Verifier) -> None:
    rejected(note[:-1], verifier, "line 5: missing final newline after the last signature line")


def test_reject_empty_signature_block(note: bytes, verifier: Verifier) -> None:
    rejected(note.split(b"\n\n")[0] + b"\n\n", verifier, "line 5: no signature lines after the blank line")


def test_reject_malformed_signature_lines(note: bytes, verifier: Verifier) -> None:
    body = note.split(b"\n\n")[0] + b"\n\n"
    rejected(body + f"{EM} {ORIGIN}\n".encode(), verifier, "signature 1): no space between key name")
    rejected(body + f"{EM}  AAAAAAAA\n".encode(), verifier, "signature 1): key name is empty")
    rejected(body + f"{EM} a+b AAAAAAAA\n".encode(), verifier, "signature 1): key name 'a+b'")
    rejected(body + f"{EM} {ORIGIN} AAAAAA==\n".encode(), verifier, "signature 1): signature has 4 bytes")
    rejected(body + f"- {ORIGIN} AAAAAAAA\n".encode(), verifier, "signature 1): does not start with an em dash")


def test_reject_known_key_that_fails(note: bytes, signer: Signer, verifier: Verifier) -> None:
    tampered = note.replace(b"\n5\n", b"\n6\n")
    rejected(tampered, verifier, f"line 5 (signature 1): signature by {ORIGIN}+{signer.key_id.hex()} does not verify")
    # A good signature does not excuse a bad one by the same known key.
    bad_line = f"{EM} {ORIGIN} {base64.b64encode(signer.key_id + bytes(64)).decode()}\n".encode()
    rejected(note + bad_line, verifier, "line 6 (signature 2): signature by ")


def test_reject_too_many_signatures(note: bytes, verifier: Verifier) -> None:
    sig_line = note.split(b"\n\n")[1]
    rejected(note + sig_line * MAX_SIGNATURES, verifier, f"more than the limit {MAX_SIGNATURES}")
    assert open_note(note + sig_line * (MAX_SIGNATURES - 1), [verifier]).signed_by == (ORIGIN,)


# --- checkpoints --------------------------------------------------------------------------------------


def test_checkpoint_format(signer: Signer) -> None:
    cp = Checkpoint(ORIGIN, 5, ROOT)
    assert cp.format() == f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\n".encode()
    assert parse_checkpoint(cp.format()) == cp
    assert verify_checkpoint(sign_checkpoint(cp, signer), signer.verifier(), origin=ORIGIN) == cp


def test_checkpoint_origin_differs_from_key_name(signer: Signer, verifier: Verifier) -> None:
    note = sign_note(Checkpoint("elsewhere.example/log", 5, ROOT).format(), [signer])
    with raises(VerificationError, f"origin 'elsewhere.example/log' differs from the key name '{ORIGIN}'"):
        verify_checkpoint(note, verifier)
    with raises(ValidationError, "differs from the key name"):
        sign_checkpoint(Checkpoint("elsewhere.example/log", 5, ROOT), signer)


def test_checkpoint_expected_origin(note: bytes, verifier: Verifier) -> None:
    with raises(VerificationError, "expected origin 'x.example/log' differs from the key name"):
        verify_checkpoint(note, verifier, origin="x.example/log")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\n5\n" + base64.b64encode(ROOT) + b"\n", "line 1: origin is empty"),
        (b"o\x7f\n5\n" + base64.b64encode(ROOT) + b"\n", "line 1: origin 'o\\x7f' contains a non-printable character"),
        (b"o\n05\n" + base64.b64encode(ROOT) + b"\n", "line 2: tree size '05' is not a decimal"),
        (b"o\n-1\n" + base64.b64encode(ROOT) + b"\n", "line 2: tree size '-1'"),
        (b"o\n" + str(2**64).encode() + b"\n" + base64.b64encode(ROOT) + b"\n", "is outside 0..2**64-1"),
        (b"o\n5\n" + base64.b64encode(ROOT[:31]) + b"\n", "line 3: root hash has 31 bytes"),
        (b"o\n5\n" + base64.b64encode(ROOT).rstrip(b"=") + b"\n", "line 3: root hash is not canonical"),
        (b"o\n5\n" + base64.b64encode(ROOT) + b"\next\n", "line 4: extension lines are not allowed"),
        (b"o\n5\n" + base64.b64encode(ROOT), "must end with a newline"),
        (b"o\n5\n", "2 lines, expected origin"),
    ],
)
def test_parse_checkpoint_rejections(body: bytes, match: str) -> None:
    with raises(VerificationError, match):
        parse_checkpoint(body)


def test_checkpoint_extensions_when_allowed() -> None:
    body = b"o\n0\n" + base64.b64encode(ROOT) + b"\next one\next two\n"
    cp = parse_checkpoint(body, allow_extensions=True)
    assert cp == Checkpoint("o", 0, ROOT, ("ext one", "ext two"))
    assert cp.format() == body
    with raises(VerificationError, "line 5: extension line must be non-empty"):
        parse_checkpoint(b"o\n0\n" + base64.b64encode(ROOT) + b"\nx\n\n", allow_extensions=True)


def test_checkpoint_constructor_validates() -> None:
    with raises(ValidationError, "root hash has 3 bytes"):
        Checkpoint("o", 1, b"abc")
    with raises(ValidationError, "tree size -1"):
        Checkpoint("o", -1, ROOT)


origins = st.text(st.characters(blacklist_categories=("C", "Z")) | st.just(" "), min_size=1, max_size=60).filter(
    str.isprintable
)
key_names = st.text(st.characters(blacklist_categories=("C", "Z"), blacklist_characters="+"), min_size=1, max_size=40)


@given(origin=origins, size=st.integers(0, 2**64 - 1), root=st.binary(min_size=32, max_size=32))
def test_checkpoint_round_trip(origin: str, size: int, root: bytes) -> None:
    cp = Checkpoint(origin, size, root)
    assert parse_checkpoint(cp.format()) == cp


@settings(max_examples=50)
@given(
    name=key_names,
    seed=st.binary(min_size=32, max_size=32),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_signed_checkpoint_round_trip(name: str, seed: bytes, size: int, root: bytes) -> None:
    signer = Signer.generate(name, seed)
    verifier = Verifier.from_vkey(signer.vkey)
    assert Signer.from_skey(signer.skey).vkey == signer.vkey
    cp = Checkpoint(name, size, root)
    assert verify_checkpoint(sign_checkpoint(cp, signer), verifier, origin=name) == cp


# --- tlog-proof ---------------------------------------------------------------------------------------


def test_tlog_proof_round_trip(note: bytes, verifier: Verifier) -> None:
    hashes = [bytes([i]) * 32 for i in range(3)]
    text = format_tlog_proof(4, hashes, note)
    lines = [b"c2sp.org/tlog-proof@v1", b"index 4", *(base64.b64encode(h) for h in hashes), b""]
    assert text == b"\n".join(lines) + b"\n" + note
    proof = parse_tlog_proof(text)
    assert proof == TlogProof(4, tuple(hashes), note)
    assert format_tlog_proof(proof.index, proof.hashes, proof.checkpoint_note) == text
    assert verify_checkpoint(proof.checkpoint_note, verifier).size == 5
    assert parse_tlog_proof(text.decode()) == proof


def test_tlog_proof_without_hashes(note: bytes) -> None:
    text = format_tlog_proof(0, [], note)
    assert text == b"c2sp.org/tlog-proof@v1\nindex 0\n\n" + note
    assert parse_tlog_proof(text) == TlogProof(0, (), note)


def test_tlog_proof_extra_line_parsed(note: bytes) -> None:
    text = b"c2sp.org/tlog-proof@v1\nextra " + base64.b64encode(b"ctx") + b"\nindex 2\n" + base64.b64encode(ROOT)
    proof = parse_tlog_proof(text + b"\n\n" + note)
    assert proof == TlogProof(2, (ROOT,), note, extra=b"ctx")
    assert b"extra" not in format_tlog_proof(proof.index, proof.hashes, proof.checkpoint_note)


@pytest.mark.parametrize(
    ("head", "match"),
    [
        (b"c2sp.org/tlog-proof@v2\nindex 0\n\n", "line 1: first line must be c2sp.org/tlog-proof@v1"),
        (b"c2sp.org/tlog-proof@v1\nindex 01\n\n", "line 2: index '01' is not a decimal"),
        (b"c2sp.org/tlog-proof@v1\nidx 1\n\n", "line 2: expected 'index <n>'"),
        (b"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n", "line 2: extra data is not canonical"),
        (b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", "line 3: proof hash is not a canonical base64 SHA-256"),
    ],
)
def test_tlog_proof_rejections(note: bytes, head: bytes, match: str) -> None:
    with raises(VerificationError, match):
        parse_tlog_proof(head + note)


def test_tlog_proof_missing_checkpoint() -> None:
    with raises(VerificationError, "line 4: missing the blank line and the signed checkpoint"):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 1\n" + base64.b64encode(ROOT))
    with raises(VerificationError, "line 4: the signed checkpoint is empty"):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 1\n\n")


def test_format_tlog_proof_rejections(note: bytes) -> None:
    with raises(ValidationError, "hash 0 has 31 bytes"):
        format_tlog_proof(0, [bytes(31)], note)
    with raises(ValidationError, "index -1"):
        format_tlog_proof(-1, [], note)
    with raises(ValidationError, "not a signed note"):
        format_tlog_proof(0, [], note[:-1])
