"""Cosignatures byte for byte against the C2SP tlog-cosignature v1.0.1 vectors (tests/vectors/c2sp-witness.json)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.core.cosignature import Cosigner, parse_witness_key, read_cosignatures
from ledger.core.notes import CheckpointBody, Signer, sign_note
from ledger.errors import ValidationError, VerificationError
from tests.support.witness import vector_cosigner, vectors
from verifier.cosignature import cosigner_key_id, signed_message

G = vectors()["generated"]
BODY7 = G["checkpoints"]["7"].split("\n\n")[0].encode() + b"\n"


def test_the_key_id_is_sha256_of_name_newline_0x04_and_the_key() -> None:
    preimage = bytes.fromhex(G["witness_key_id_preimage_hex"])
    assert preimage == G["witness_name"].encode() + b"\n\x04" + bytes.fromhex(G["witness_pub_hex"])
    assert hashlib.sha256(preimage).digest()[:4].hex() == G["witness_key_id_hex"]
    assert cosigner_key_id(G["witness_name"], bytes.fromhex(G["witness_pub_hex"])).hex() == G["witness_key_id_hex"]


def test_the_vkey_seed_and_skey() -> None:
    assert hashlib.sha256(G["witness_seed_preimage"].encode()).hexdigest() == G["witness_seed_hex"]
    cosigner = vector_cosigner()
    assert cosigner.vkey == G["witness_vkey"]
    assert cosigner.key.public_key.hex() == G["witness_pub_hex"]
    assert G["witness_vkey"].split("+", 2)[2].startswith("B")  # 0x04 in the first six bits
    again = Cosigner.from_skey(cosigner.skey)
    assert again.vkey == cosigner.vkey and "PRIVATE" not in repr(again)
    assert parse_witness_key(G["witness_vkey"]) == cosigner.key


def test_the_signed_message_and_the_line_match_the_vector() -> None:
    assert signed_message(BODY7, G["timestamp"]).decode() == G["flow_b_signed_message"]
    line = vector_cosigner().cosign(BODY7, G["timestamp"])
    assert line == G["flow_b_response"]
    blob = base64.b64decode(line.split(" ")[2])
    assert blob.hex() == G["flow_b_blob_hex"] and len(blob) == 76
    assert blob[4:12] == (1700000000).to_bytes(8, "big")


def test_read_cosignatures_takes_the_witness_line_and_ignores_others() -> None:
    note = G["checkpoints"]["7"].encode()
    stranger = Cosigner("stranger.example/w", bytes(32)).cosign(BODY7, 5)
    got = read_cosignatures(note, (stranger + G["flow_b_response"]).encode(), [vector_cosigner().key], G["log_vkey"])
    assert [(c.witness.vkey, c.timestamp, c.line) for c in got] == [
        (G["witness_vkey"], G["timestamp"], G["flow_b_response"])
    ]
    assert read_cosignatures(note, stranger.encode(), [vector_cosigner().key], G["log_vkey"]) == []


def test_a_cosignature_on_another_checkpoint_is_refused() -> None:
    note3 = G["checkpoints"]["3"].encode()
    with pytest.raises(VerificationError, match="does not verify"):
        read_cosignatures(note3, G["flow_b_response"].encode(), [vector_cosigner().key], G["log_vkey"])


@pytest.mark.parametrize("answer", [b"hello\n", b"\xe2\x80\x94 witness.example/w1 !!!\n", b"\n"])
def test_an_answer_that_is_not_signature_lines_is_refused(answer: bytes) -> None:
    with pytest.raises(VerificationError, match="not signature lines"):
        read_cosignatures(G["checkpoints"]["7"].encode(), answer, [vector_cosigner().key], G["log_vkey"])


def test_extension_lines_are_cosigned_verbatim() -> None:
    log = Signer("example.com/ext", bytes(32))
    note = sign_note(CheckpointBody("example.com/ext", 1, bytes(32)).format() + b"ext line\n", [log])
    body = note.split(b"\n\n")[0] + b"\n"
    line = vector_cosigner().cosign(body, 9)
    assert read_cosignatures(note, line.encode(), [vector_cosigner().key], log.vkey)[0].timestamp == 9


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (G["log_vkey"], "not a cosignature/v1 key"),
        (G["witness_vkey"].replace("e9cc1d40", "e9cc1d41"), "does not match"),
        (G["witness_vkey"].replace("njPb", "njPc"), "does not match"),
        (G["witness_vkey"].replace("+B", "+b", 1), "starts with 0x6c"),
        ("witness.example/w1+e9cc1d40", "has the form"),
        ("wit ness+e9cc1d40+" + G["witness_vkey"].split("+", 2)[2], "forbidden character"),
    ],
)
def test_bad_witness_keys_are_named(text: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        parse_witness_key(text)


def test_cosigner_refuses_bad_names_seeds_and_times() -> None:
    with pytest.raises(ValidationError, match="forbidden"):
        Cosigner("a+b", bytes(32))
    with pytest.raises(ValidationError, match="32 bytes"):
        Cosigner("a", bytes(31))
    with pytest.raises(ValidationError, match="2\\*\\*63"):
        vector_cosigner().cosign(BODY7, 2**63)
    with pytest.raises(ValidationError, match="newline"):
        vector_cosigner().cosign(BODY7[:-1], 1)
    with pytest.raises(ValidationError, match="0x04"):
        Cosigner.from_skey(Signer("a", bytes(32)).skey)
