"""The tlog-witness v1.0.0 checks one by one, without HTTP: each failure gets its status and a precise reason."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import merkle
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint, sign_note
from ledger.witness.protocol import (
    NEVER_COSIGNED,
    SAME_SIZE_FORK,
    SIZE_CONTENT_TYPE,
    Latest,
    Refusal,
    check_consistency,
    check_signature,
    parse_submission,
)
from tests.support.witness import vectors
from verifier.note import parse_vkey

G = vectors()["generated"]
LOG = parse_vkey(G["log_vkey"])
LOGS = {LOG.name: (LOG,)}
ROOT3 = base64.b64decode(G["checkpoints"]["3"].split("\n")[2])


def refusal(raw: bytes, latest: Latest = NEVER_COSIGNED) -> Refusal:
    with pytest.raises(Refusal) as caught:
        sub = parse_submission(raw)
        check_signature(sub, LOGS)
        check_consistency(sub, latest)
    return caught.value


def test_the_vector_requests_parse() -> None:
    sub = parse_submission(G["flow_b_request"].encode())
    assert sub.old == 3 and [base64.b64encode(h).decode() for h in sub.proof] == G["proof_3_7_b64"]
    assert sub.note == G["checkpoints"]["7"].encode() and sub.origin == "example.com/hrledger-test"
    assert sub.body == b"example.com/hrledger-test\n7\nWmH8K1T5z6cXdPJDIUPdQMbLKxGUf69lp9PaXLZRmcg=\n"
    check_signature(sub, LOGS)
    check_consistency(sub, Latest(3, ROOT3))  # no refusal: cosign


def test_a_409_names_the_latest_size() -> None:
    r = refusal(G["flow_b_request"].encode(), Latest(5, bytes(32)))
    assert (r.status, r.body, r.content_type, r.evidence) == (409, b"5\n", SIZE_CONTENT_TYPE, False)


def test_a_same_size_fork_follows_v1_0_0() -> None:
    r = refusal(b"old 3\n\n" + G["checkpoints"]["3"].encode(), Latest(3, bytes(32)))
    assert SAME_SIZE_FORK == 409
    assert (r.status, r.size, r.evidence) == (409, None, True)
    assert r.content_type == "text/plain; charset=utf-8" and b"another root" in r.body


def test_a_size_zero_checkpoint_must_have_the_empty_root() -> None:
    check_consistency(parse_submission(b"old 0\n\n" + G["checkpoints"]["0"].encode()), NEVER_COSIGNED)
    signer = Signer("example.com/hrledger-test", bytes.fromhex(G["log_seed_hex"]))
    odd = sign_checkpoint(CheckpointBody(signer.name, 0, bytes(32)), signer)
    assert refusal(b"old 0\n\n" + odd).status == SAME_SIZE_FORK
    assert base64.b64decode(G["checkpoints"]["0"].split("\n")[2]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize(
    ("latest", "old", "proof", "status"),
    [
        (NEVER_COSIGNED, 0, ["qze6NNHf4pAV3nF6bVdkqPsCnDp6D1tkuTtUNRiFv3w="], 422),  # a proof from size 0
        (Latest(7, bytes(32)), 7, ["qze6NNHf4pAV3nF6bVdkqPsCnDp6D1tkuTtUNRiFv3w="], 422),  # a proof between equals
        (Latest(3, bytes(32)), 3, G["proof_3_7_b64"], 422),  # the stored root differs
        (Latest(3, ROOT3), 3, G["proof_3_7_b64"][:3], 422),
    ],
)
def test_proofs_that_do_not_verify_are_422(latest: Latest, old: int, proof: list[str], status: int) -> None:
    raw = "".join(f"{line}\n" for line in [f"old {old}", *proof]).encode() + b"\n" + G["checkpoints"]["7"].encode()
    r = refusal(raw, latest)
    assert (r.status, r.evidence) == (status, True)


def test_unknown_origin_and_signatures() -> None:
    other = Signer("example.com/other", bytes(32))
    note = sign_checkpoint(CheckpointBody(other.name, 1, bytes(32)), other)
    r = refusal(b"old 0\n\n" + note)
    assert r.status == 404 and "example.com/other" in r.reason
    # the right origin, signed only by a key nobody trusts (another key of the same name is ignored)
    impostor = Signer("example.com/hrledger-test", bytes(32))
    note = sign_checkpoint(CheckpointBody(impostor.name, 1, bytes(32)), impostor)
    assert refusal(b"old 0\n\n" + note).status == 403


def test_a_trusted_signature_beside_a_broken_one_is_403() -> None:
    note = G["checkpoints"]["7"]
    line = note.split("\n\n")[1]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 0xFF
    broken = line.split(" ")[0] + " " + line.split(" ")[1] + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    r = refusal(f"old 0\n\n{note}{broken}".encode())
    assert r.status == 403 and "does not verify" in r.reason


def test_extra_signatures_by_unknown_keys_are_ignored() -> None:
    stranger = Signer("stranger.example", bytes(32))
    body = G["checkpoints"]["7"].split("\n\n")[0] + "\n"
    extra = sign_note(body, [stranger]).split(b"\n\n")[1]
    sub = parse_submission(b"old 0\n\n" + G["checkpoints"]["7"].encode() + extra)
    check_signature(sub, LOGS)
    assert len(sub.opened.signatures) == 2


def test_old_beyond_the_size_is_400_after_the_signature() -> None:
    r = refusal(b"old 8\n\n" + G["checkpoints"]["7"].encode())
    assert r.status == 400 and "larger than the checkpoint size 7" in r.reason


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"old 3\n", "no empty line"),
        (b"old 18446744073709551616\n\n", "below 2**64"),
        (b"old 3\n" + b"AA==\n" * 64 + b"\n", "more than 63"),
        (b"old 3\nAA==\n\n", "has 1 bytes"),
        (b"old 3\n\xe2\x80\x94\n\n", "canonical base64"),
        (b"old 0\n\nno signatures\n", "not a signed note"),
        (b"old 0\n\nx\n\n\xe2\x80\x94 x AAAAAAA=\n", "lines, expected origin"),
    ],
)
def test_malformed_bodies_name_their_fault(raw: bytes, words: str) -> None:
    r = refusal(raw)
    assert r.status == 400 and words in r.reason, r.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=40))
def test_any_bytes_are_a_submission_or_a_refusal(noise: bytes, cut: int) -> None:
    """Whatever a client sends, the answer is a status of the specification, never an exception."""
    genuine = G["flow_b_request"].encode()
    for raw in (noise, genuine[:cut] + noise, genuine + noise, noise + genuine):
        try:
            sub = parse_submission(raw)
            check_signature(sub, LOGS)
            check_consistency(sub, Latest(3, ROOT3))
        except Refusal as r:
            assert r.status in (400, 403, 404, 409, 422) and r.body.endswith(b"\n")
