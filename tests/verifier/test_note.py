"""C2SP signed notes, checkpoints, tlog-proofs and verifier keys (`verifier.note`): the reference vectors,
round trips, and every rejection with the line and the fault it names."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.notes import CheckpointBody, Signer, format_tlog_proof, sign_checkpoint, sign_note
from tests.support.vectors import load_vectors
from verifier.note import (
    MAX_SIGNATURES,
    NoteError,
    Verifier,
    key_id,
    open_checkpoint,
    origin_problem,
    parse_checkpoint,
    parse_checkpoint_body,
    parse_note,
    parse_tlog_proof,
    parse_vkey,
    verify_note,
)

ORIGIN = "ledger.example/test-log"
ROOT = bytes(range(32))
EM = "\u2014"
VECTORS = load_vectors()


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate(ORIGIN, bytes([7]) * 32)


@pytest.fixture(scope="module")
def verifier(signer: Signer) -> Verifier:
    return parse_vkey(signer.vkey)


@pytest.fixture(scope="module")
def note(signer: Signer) -> bytes:
    return sign_checkpoint(CheckpointBody(ORIGIN, 5, ROOT), signer)


def refused(message: str) -> pytest.RaisesExc[Exception]:
    """Expect NoteError whose message contains ``message`` literally."""
    return pytest.raises(NoteError, match=re.escape(message))


def rejected(note: bytes, verifier: Verifier, match: str) -> None:
    with refused(match):
        verify_note(parse_note(note), verifier)


# --- reference vectors -------------------------------------------------------------------------------


def test_vectors_verify() -> None:
    verifier = parse_vkey(VECTORS["note_vkey"])
    assert verifier.text == VECTORS["note_vkey"]
    assert verifier.key_id.hex() == VECTORS["note_vkey"].split("+")[1]
    assert VECTORS["notes"]
    for case in VECTORS["notes"]:
        opened = parse_note(case["signed"].encode("utf-8"))
        assert opened.text == case["text"]
        verify_note(opened, verifier)
        cp = open_checkpoint(case["signed"].encode("utf-8"), verifier)
        assert cp.origin == verifier.name and cp.note.text == case["text"]
        tampered = case["signed"].replace("\n", "\n ", 1).encode()
        with refused("does not verify"):
            verify_note(parse_note(tampered), verifier)


# --- keys ----------------------------------------------------------------------------------------------


def test_verifier_basics(signer: Signer, verifier: Verifier) -> None:
    sig = signer.sign(b"hello\n")
    assert verifier.verify(b"hello\n", sig)
    assert not verifier.verify(b"hello!\n", sig)
    assert not verifier.verify(b"hello\n", sig[:63])
    assert verifier.key_id == key_id(ORIGIN, signer.public_key)


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
        (lambda v: "a+b", "expected <name>"),
        (lambda v: "name+0000000g+AAAA", "8 lowercase hex"),
        (lambda v: "n+00000000+" + base64.b64encode(b"\1" * 34).decode(), "0x01"),
    ],
)
def test_vkey_rejections(verifier: Verifier, mutate: Any, match: str) -> None:
    with refused(match):
        parse_vkey(mutate(verifier.text))


def test_origin_rules() -> None:
    assert origin_problem(ORIGIN) is None
    assert "forbidden character U+0020" in str(origin_problem("a b"))
    assert "names the log's signed statements" in str(origin_problem("hrledger.dev/bundle/v2"))
    assert "non-printable" in str(origin_problem("a\u200eb"))


# --- signed notes ------------------------------------------------------------------------------------


def test_other_signatures_are_left_alone(signer: Signer, verifier: Verifier) -> None:
    witness = Signer.generate("witness.example/w1", bytes([9]) * 32)
    signed = sign_note("any text\n\nwith an empty line\n", [signer, witness])
    opened = parse_note(signed)
    assert opened.text == "any text\n\nwith an empty line\n"
    assert [s.name for s in opened.signatures] == [ORIGIN, "witness.example/w1"]
    verify_note(opened, verifier)
    verify_note(opened, witness.verifier())


def test_reject_no_blank_line(note: bytes, verifier: Verifier) -> None:
    rejected(note.replace(b"=\n\n", b"=\n"), verifier, "no blank line separates the text from the signatures")


def test_reject_bad_base64(note: bytes, verifier: Verifier) -> None:
    rejected(note[:-3] + b"!=\n", verifier, "line 5 (signature 1): signature is not canonical standard base64")


def test_reject_non_canonical_base64(note: bytes, verifier: Verifier) -> None:
    rejected(note[:-2] + b"\n", verifier, "line 5 (signature 1): signature is not canonical")


def test_reject_only_unknown_keys(note: bytes) -> None:
    other = Signer.generate("other.example/log", bytes([1]) * 32).verifier()
    rejected(note, other, f"no signature by a trusted key: signed only by unknown keys {ORIGIN}+")


def test_reject_wrong_key_id(signer: Signer, note: bytes, verifier: Verifier) -> None:
    text, sig_line = note.decode().rsplit("\n\n", 1)
    raw = base64.b64decode(sig_line.rsplit(" ", 1)[1])
    forged = f"{text}\n\n{EM} {ORIGIN} {base64.b64encode(bytes(4) + raw[4:]).decode()}\n"
    expected = f"line 5: key '{ORIGIN}' has key id 00000000, the trusted key has {signer.key_id.hex()}"
    rejected(forged.encode(), verifier, expected)


def test_reject_other_key_with_same_name(verifier: Verifier) -> None:
    impostor = Signer.generate(ORIGIN, bytes([8]) * 32)
    assert impostor.key_id != verifier.key_id
    forged = sign_checkpoint(CheckpointBody(ORIGIN, 5, ROOT), impostor)
    with refused("no signature by a trusted key: line 5: key"):
        open_checkpoint(forged, verifier)


def test_reject_control_and_format_errors(note: bytes, verifier: Verifier) -> None:
    rejected(note.replace(b"\n5\n", b"\n5\r\n"), verifier, "line 2: control character U+000D is not allowed")
    rejected(note.replace(b"\n5\n", b"\n5\x7f\n"), verifier, "line 2: control character U+007F is not allowed")
    rejected(note.replace(b"\n5\n", b"\n5\xc3\n"), verifier, "line 2: not valid UTF-8")
    rejected(note + b"junk\n", verifier, "line 6 (signature 2): does not start with an em dash and a space")
    rejected(note + b"junk", verifier, "line 6: missing final newline after the last signature line")
    rejected(note[:-1], verifier, "line 5: missing final newline after the last signature line")
    rejected(note.split(b"\n\n")[0] + b"\n\n", verifier, "line 5: no signature lines after the blank line")


def test_reject_malformed_signature_lines(note: bytes, verifier: Verifier) -> None:
    body = note.split(b"\n\n")[0] + b"\n\n"
    rejected(body + f"{EM} {ORIGIN}\n".encode(), verifier, "signature 1): no space between key name")
    rejected(body + f"{EM}  AAAAAAAA\n".encode(), verifier, "signature 1): key name is empty")
    rejected(body + f"{EM} a+b AAAAAAAA\n".encode(), verifier, "signature 1): key name 'a+b'")
    rejected(body + f"{EM} {ORIGIN} AAAAAA==\n".encode(), verifier, "signature 1): signature has 4 bytes")
    rejected(body + f"- {ORIGIN} AAAAAAAA\n".encode(), verifier, "signature 1): does not start with an em dash")


def test_reject_known_key_that_fails(note: bytes, signer: Signer, verifier: Verifier) -> None:
    rejected(note.replace(b"\n5\n", b"\n6\n"), verifier, f"line 5: signature by {ORIGIN}+{signer.key_id.hex()}")
    # A good signature does not excuse a bad one by the same known key.
    bad_line = f"{EM} {ORIGIN} {base64.b64encode(signer.key_id + bytes(64)).decode()}\n".encode()
    rejected(note + bad_line, verifier, "line 6: signature by ")


def test_reject_too_many_signatures(note: bytes, verifier: Verifier) -> None:
    sig_line = note.split(b"\n\n")[1]
    rejected(note + sig_line * MAX_SIGNATURES, verifier, f"more than the limit {MAX_SIGNATURES}")
    verify_note(parse_note(note + sig_line * (MAX_SIGNATURES - 1)), verifier)


# --- checkpoints --------------------------------------------------------------------------------------


def test_checkpoint_origin_differs_from_key_name(signer: Signer, verifier: Verifier) -> None:
    note = sign_note(CheckpointBody("elsewhere.example/log", 5, ROOT).format(), [signer])
    with refused(f"origin 'elsewhere.example/log' differs from the key name '{ORIGIN}'"):
        open_checkpoint(note, verifier)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("\n5\n" + base64.b64encode(ROOT).decode() + "\n", "line 1: origin is empty"),
        ("o\x7f\n5\n" + base64.b64encode(ROOT).decode() + "\n", "line 1: origin 'o\\x7f' contains a non-printable"),
        ("o\n05\n" + base64.b64encode(ROOT).decode() + "\n", "line 2: tree size '05' is not a decimal"),
        ("o\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "line 2: tree size '-1'"),
        ("o\n" + str(2**64) + "\n" + base64.b64encode(ROOT).decode() + "\n", "is outside 0..2**64-1"),
        ("o\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "line 3: root hash has 31 bytes"),
        ("o\n5\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n", "line 3: root hash is not canonical"),
        ("o\n5\n" + base64.b64encode(ROOT).decode() + "\next\n", "line 4: extension lines are not allowed"),
        ("o\n5\n" + base64.b64encode(ROOT).decode(), "must end with a newline"),
        ("o\n5\n", "2 lines, expected origin"),
    ],
)
def test_parse_checkpoint_rejections(body: str, match: str) -> None:
    with refused(match):
        parse_checkpoint_body(body)


origins = st.text(st.characters(blacklist_categories=("C", "Z")) | st.just(" "), min_size=1, max_size=60).filter(
    str.isprintable
)


@given(origin=origins, size=st.integers(0, 2**64 - 1), root=st.binary(min_size=32, max_size=32))
def test_checkpoint_round_trip(origin: str, size: int, root: bytes) -> None:
    assert parse_checkpoint_body(CheckpointBody(origin, size, root).format().decode()) == (origin, size, root)


def test_signed_checkpoint_parses(note: bytes, verifier: Verifier) -> None:
    cp = parse_checkpoint(note)
    assert (cp.origin, cp.size, cp.root, cp.raw) == (ORIGIN, 5, ROOT, note)
    assert open_checkpoint(note, verifier) == cp


# --- tlog-proof ---------------------------------------------------------------------------------------


def test_tlog_proof_extra_line_parsed(note: bytes) -> None:
    text = b"c2sp.org/tlog-proof@v1\nextra " + base64.b64encode(b"ctx") + b"\nindex 2\n" + base64.b64encode(ROOT)
    proof = parse_tlog_proof(text + b"\n\n" + note)
    assert (proof.index, proof.hashes, proof.checkpoint, proof.extra) == (2, (ROOT,), note, b"ctx")
    assert parse_tlog_proof(format_tlog_proof(2, [ROOT], note)).extra is None


@pytest.mark.parametrize(
    ("head", "match"),
    [
        (b"c2sp.org/tlog-proof@v2\nindex 0\n\n", "line 1: first line must be c2sp.org/tlog-proof@v1"),
        (b"c2sp.org/tlog-proof@v1\nindex 01\n\n", "line 2: index '01' is not a decimal"),
        (b"c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n", "line 2: index '18446744073709551616'"),
        (b"c2sp.org/tlog-proof@v1\nidx 1\n\n", "line 2: expected 'index <n>'"),
        (b"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n", "line 2: extra data is not canonical"),
        (b"c2sp.org/tlog-proof@v1\nextra \xff\nindex 1\n\n", "line 2: extra data is not canonical"),
        (b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", "line 3: proof hash is not a canonical base64 SHA-256"),
        (b"c2sp.org/tlog-proof@v1\nindex 1\n\xff\n\n", "line 3: proof hash is not a canonical base64 SHA-256"),
        (b"c2sp.org/tlog-proof@v1\nindex 1\n" + (base64.b64encode(ROOT) + b"\n") * 65 + b"\n", "line 67: more than 64"),
    ],
)
def test_tlog_proof_rejections(note: bytes, head: bytes, match: str) -> None:
    with refused(match):
        parse_tlog_proof(head + note)


def test_tlog_proof_missing_checkpoint() -> None:
    with refused("line 4: missing the blank line and the signed checkpoint"):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 1\n" + base64.b64encode(ROOT))
    with refused("line 4: the signed checkpoint is empty"):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 1\n\n")
