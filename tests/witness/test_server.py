"""The witness over real HTTP against the C2SP vectors: every status of tlog-witness v1.0.0, byte for byte."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger.core.cosignature import read_cosignatures
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint, sign_note
from ledger.witness.server import RateLimiter
from tests.support.witness import RunningWitness, start_witness, vector_cosigner, vectors
from verifier.cosignature import signed_message

G = vectors()["generated"]
T = G["timestamp"]


@pytest.fixture
async def witness(tmp_path: Path) -> AsyncIterator[RunningWitness]:
    w = await start_witness(
        tmp_path, G["witness_name"], [G["log_vkey"]], seed=bytes.fromhex(G["witness_seed_hex"]), clock=lambda: T
    )
    yield w
    await w.stop()


async def post(witness: RunningWitness, body: str | bytes) -> tuple[int, dict[str, str], bytes]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    async with aiohttp.ClientSession() as s, s.post(f"{witness.url}/add-checkpoint", data=data) as r:
        return r.status, dict(r.headers), await r.read()


def request(old: int, proof: list[str], size: str) -> str:
    note: str = G["checkpoints"][size]
    return "".join(f"{line}\n" for line in [f"old {old}", *proof]) + "\n" + note


async def at_three(witness: RunningWitness) -> None:
    status, _, body = await post(witness, G["flow_a_request"])
    assert (status, body.decode()) == (200, G["flow_a_response"])


async def test_first_contact_and_a_consistency_proof_give_the_vector_cosignatures(witness: RunningWitness) -> None:
    status, headers, body = await post(witness, G["flow_a_request"])
    assert status == 200 and body.decode() == G["flow_a_response"]
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    status, _, body = await post(witness, G["flow_b_request"])
    assert status == 200 and body.decode() == G["flow_b_response"]
    blob = base64.b64decode(body.decode().split(" ")[2])
    assert blob.hex() == G["flow_b_blob_hex"]


async def test_a_409_names_the_latest_size_with_the_exact_content_type(witness: RunningWitness) -> None:
    await at_three(witness)
    for old in (5, 0):
        status, headers, body = await post(witness, request(old, [], "7"))
        assert status == 409 and body == b"3\n"
        assert headers["Content-Type"] == "text/x.tlog.size"  # no charset: strict clients compare it exactly


async def test_a_fresh_witness_names_size_zero(witness: RunningWitness) -> None:
    status, headers, body = await post(witness, request(3, G["proof_3_7_b64"], "7"))
    assert (status, headers["Content-Type"], body) == (409, "text/x.tlog.size", b"0\n")


async def test_an_old_size_beyond_the_checkpoint_is_a_400(witness: RunningWitness) -> None:
    await at_three(witness)
    status, _, body = await post(witness, request(8, [], "7"))
    assert status == 400 and b"larger than the checkpoint size" in body


@pytest.mark.parametrize("damage", ["alter", "omit", "extra"])
async def test_a_proof_that_does_not_verify_is_a_422_and_kept(witness: RunningWitness, damage: str) -> None:
    await at_three(witness)
    proof = list(G["proof_3_7_b64"])
    if damage == "alter":
        proof[-1] = base64.b64encode(bytes(32)).decode()
    elif damage == "omit":
        proof = []
    else:
        proof.append(proof[0])
    status, _, _ = await post(witness, request(3, proof, "7"))
    assert status == 422
    assert witness.state is not None
    kept = await witness.state.refusals("example.com/hrledger-test")
    assert [r.status for r in kept] == [422] and kept[0].request == request(3, proof, "7").encode()
    assert (await witness.state.latest("example.com/hrledger-test")).size == 3  # nothing moved


async def test_the_latest_checkpoint_again_is_cosigned_afresh(witness: RunningWitness) -> None:
    await at_three(witness)
    status, _, body = await post(witness, request(3, [], "3"))
    assert status == 200 and body.decode() == G["flow_a_response"]  # same clock: the same deterministic line


def log_signer() -> Signer:
    return Signer("example.com/hrledger-test", bytes.fromhex(G["log_seed_hex"]))


async def test_another_root_for_a_cosigned_size_is_a_409_without_a_size(witness: RunningWitness) -> None:
    """tlog-witness v1.0.0: "If they don't match, the witness MUST respond with a 409 Conflict" (the newer,
    untagged text says 422). Without text/x.tlog.size, so that no client takes it for "resend from"."""
    assert (await post(witness, request(0, [], "7")))[0] == 200  # trust on first use: size 7
    fork = sign_checkpoint(CheckpointBody("example.com/hrledger-test", 7, bytes(range(32))), log_signer()).decode()
    status, headers, body = await post(witness, f"old 7\n\n{fork}")
    assert status == 409 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"another root" in body
    assert witness.state is not None
    kept = await witness.state.refusals("example.com/hrledger-test")
    assert [(r.status, r.request) for r in kept] == [(409, f"old 7\n\n{fork}".encode())]
    assert (await post(witness, request(7, [], "7")))[0] == 200  # the cosigned root is still the one


async def test_a_forked_larger_checkpoint_fails_its_proof(witness: RunningWitness) -> None:
    """Same key, other history: a size-7 tree that does not extend the cosigned size-3 one."""
    await at_three(witness)
    fork = sign_checkpoint(CheckpointBody("example.com/hrledger-test", 7, bytes(32)), log_signer()).decode()
    status, _, _ = await post(witness, "".join(f"{h}\n" for h in ["old 3", *G["proof_3_7_b64"]]) + "\n" + fork)
    assert status == 422


async def test_unknown_origin_is_404_and_a_broken_log_signature_403(witness: RunningWitness) -> None:
    other = G["checkpoints"]["7"].replace("example.com/hrledger-test", "example.com/other")
    assert (await post(witness, f"old 0\n\n{other}"))[0] == 404
    note = G["checkpoints"]["7"]
    line = note.rsplit("\u2014 ", 1)[1]
    _, b64 = line.split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 0x01  # flip a decoded byte, not a base64 character (its padding bits are ignored by some)
    broken = note.replace(b64.strip(), base64.b64encode(bytes(raw)).decode())
    status, _, body = await post(witness, f"old 0\n\n{broken}")
    assert status == 403 and b"does not verify" in body


@pytest.mark.parametrize(
    "body",
    [
        "old 03\n\n",
        "old -1\n\n",
        "old 3 \n\n",
        "old\n\n",
        "new 3\n\n",
        "old 3\nnot base64!\n\n",
        "old 3\nAAAA\n\n",
        "old 3\n" + "qze6NNHf4pAV3nF6bVdkqPsCnDp6D1tkuTtUNRiFv3w=\n" * 64 + "\n",
    ],
)
async def test_malformed_requests_are_400(witness: RunningWitness, body: str) -> None:
    status, _, _ = await post(witness, body + G["checkpoints"]["7"])
    assert status == 400
    assert witness.state is not None
    assert (await witness.state.latest("example.com/hrledger-test")).size == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"old 0\n" + b"\xff\xfe\n\n",
        b"old 0\n\nexample.com/hrledger-test\n7\n",
        b"old 0\n\n" + G["checkpoints"]["7"].encode().replace(b"\n7\n", b"\n07\n"),
        b"old 0\n\n" + G["checkpoints"]["7"].encode().replace(b"\n7\n", b"\n7\r\n"),
        b"old 0\n\n" + G["checkpoints"]["7"].encode()[:-1],
        b"",
    ],
)
async def test_malformed_checkpoints_are_400(witness: RunningWitness, raw: bytes) -> None:
    assert (await post(witness, raw))[0] == 400


async def test_a_replay_after_moving_on_is_a_409(witness: RunningWitness) -> None:
    await at_three(witness)
    assert (await post(witness, G["flow_b_request"]))[0] == 200
    status, headers, body = await post(witness, G["flow_b_request"])
    assert (status, headers["Content-Type"], body) == (409, "text/x.tlog.size", b"7\n")


async def test_racing_submissions_never_roll_back(witness: RunningWitness) -> None:
    """tlog-witness: the old-size check and the store are atomic; of two requests from one size, one wins."""
    await at_three(witness)
    results = await asyncio.gather(post(witness, G["flow_b_request"]), post(witness, request(3, [], "3")))
    statuses = sorted(r[0] for r in results)
    assert statuses in ([200, 200], [200, 409])
    assert witness.state is not None
    assert (await witness.state.latest("example.com/hrledger-test")).size == 7


async def test_state_survives_a_restart(witness: RunningWitness) -> None:
    await at_three(witness)
    await witness.stop()
    await witness.start()
    status, _, body = await post(witness, request(0, [], "7"))
    assert (status, body) == (409, b"3\n")
    assert (await post(witness, G["flow_b_request"]))[0] == 200


async def test_wrong_methods_and_big_bodies(witness: RunningWitness) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{witness.url}/add-checkpoint") as r:
            assert r.status == 405
        async with s.get(f"{witness.url}/") as r:
            text = await r.text()
            assert r.status == 200 and witness.vkey in text and G["log_vkey"] in text
    status, _, _ = await post(witness, b"old 0\n\n" + b"x" * (65 * 1024))
    assert status == 413


async def test_a_client_over_its_allowance_gets_429(tmp_path: Path) -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])
    w = await start_witness(tmp_path, "w.example/limited", [G["log_vkey"]], limiter=limiter)
    try:
        statuses: list[Any] = [(await post(w, G["flow_a_request"]))[0] for _ in range(3)]
        assert statuses[:2] == [200, 409] and statuses[2] == 429
        async with aiohttp.ClientSession() as s, s.post(f"{w.url}/add-checkpoint", data=b"") as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
        now[0] += 1.0
        assert (await post(w, request(3, [], "3")))[0] == 200
    finally:
        await w.stop()


async def test_extension_lines_are_cosigned_verbatim(witness: RunningWitness) -> None:
    # another log's checkpoint with extension lines (hrledger's own log writes none)
    body = CheckpointBody("example.com/hrledger-test", 2, bytes(32)).format() + b"ext one\next two\n"
    note = sign_note(body, [log_signer()])
    status, _, body = await post(witness, b"old 0\n\n" + note)
    assert status == 200
    found = read_cosignatures(note, body, [vector_cosigner().key], G["log_vkey"])
    assert [c.timestamp for c in found] == [T]
    assert signed_message(note.split(b"\n\n")[0] + b"\n", T).endswith(b"ext one\next two\n")
