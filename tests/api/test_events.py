"""POST /v1/events: statuses, idempotency, all-or-nothing batches, validation errors, waiting for a checkpoint."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from api.config import LOG
from ledger.core.wire import verify_checkpoint
from tests.support.api import ORIGIN, AiohttpClient, Api, event, future, problem, start_api
from tests.support.memtree import root_of_leaf_hashes
from verifier.merkle import verify_inclusion
from verifier.note import parse_tlog_proof


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    return await start_api(tmp_path, aiohttp_client, store_uri)


async def tree_size(api: Api) -> int:
    return await api.app[LOG].store.tree_size()


async def test_single_event_created_then_replayed_with_original_result(api: Api) -> None:
    first = await api.post(event(1))
    assert first.status == 201
    body = await first.json()
    assert set(body) == {"seq", "leaf_hash", "recorded_at"} and body["seq"] == 0
    entry = await api.app[LOG].store.get_entry(0)
    assert entry is not None and base64.b64decode(body["leaf_hash"]) == entry.leaf_hash
    again = await api.post(event(1))
    assert again.status == 200
    assert await again.json() == body
    assert await tree_size(api) == 1


async def test_same_event_id_other_content_is_409(api: Api) -> None:
    assert (await api.post(event(1))).status == 201
    await problem(await api.post(event(1, data={"method": "gps"})), 409, "conflict")
    await problem(await api.post(event(1, subject="E2")), 409, "conflict")
    assert await tree_size(api) == 1


async def test_batch_in_order_and_replay(api: Api) -> None:
    resp = await api.post({"events": [event(i) for i in range(5)]})
    assert resp.status == 201
    results = (await resp.json())["results"]
    assert [r["seq"] for r in results] == [0, 1, 2, 3, 4]
    replay = await api.post({"events": [event(i) for i in range(5)]})
    assert replay.status == 200 and (await replay.json())["results"] == results
    mixed = await api.post({"events": [event(4), event(5)]})
    assert mixed.status == 201  # something new was created
    assert [r["seq"] for r in (await mixed.json())["results"]] == [4, 5]


async def test_batch_is_all_or_nothing(api: Api) -> None:
    bad = event(3, occurred_at="yesterday")
    await problem(
        await api.post({"events": [event(1), event(2), bad]}), 422, "validation-error", "events[2].occurred_at"
    )
    assert await tree_size(api) == 0
    assert (await api.post(event(9))).status == 201
    conflict = await api.post({"events": [event(10), event(9, data={"method": "gps"})]})
    await problem(conflict, 409, "conflict")
    assert await tree_size(api) == 1  # event 10 was not written either


async def test_an_id_hrledger_keeps_for_its_decisions_is_refused_and_nothing_is_written(api: Api) -> None:
    """A writer's clock-in under the id of a stage not yet reached would make that stage's append a 409 on every
    tick (the escalation could never be recorded): the id is refused at intake, the batch with it too."""
    squat = event(0, event_id="escalation/E1/L-1/reminder")
    await problem(await api.post(squat), 422, "validation-error", field="event_id")
    await problem(await api.post({"events": [event(1), squat]}), 422, "validation-error", field="events[1].event_id")
    assert await tree_size(api) == 0


async def test_batch_limits_and_shape(api: Api) -> None:
    await problem(await api.post({"events": []}), 422, "validation-error", "events")
    await problem(await api.post({"events": [event(i) for i in range(1001)]}), 422, "validation-error", "events")
    await problem(await api.post({"events": {"a": 1}}), 422, "validation-error", "events")
    await problem(await api.post({"events": [event(1)], "extra": 1}), 422, "validation-error", "extra")
    twins = {"events": [event(1), event(1, data={"method": "gps"})]}
    await problem(await api.post(twins), 422, "validation-error", "events[1].event_id")
    ok = await api.post({"events": [event(i) for i in range(1000)]})
    assert ok.status == 201 and len((await ok.json())["results"]) == 1000


async def test_validation_errors_name_the_field(api: Api) -> None:
    cases: list[tuple[Any, str]] = [
        (event(1, occurred_at=future(10)), "occurred_at"),
        (event(1, type="escalation.stage_entered", data={}), "type"),
        (event(1, type="ledger.erased", data={}), "type"),
        (event(1, type="NotAType"), "type"),
        (event(1, event_id=""), "event_id"),
        (event(1, event_id="x" * 129), "event_id"),
        (event(1, subject=7), "subject"),
        (event(1, data=[1]), "data"),
        (event(1, occurred_at="2026-01-05T09:00:00"), "occurred_at"),
        ({**event(1), "colour": "red"}, "colour"),
        ({k: v for k, v in event(1).items() if k != "source"}, "source"),
        (event(1, data={"method": "telepathy"}), "data.method"),  # per-type schema (ledger.domain.schemas)
        (event(1, data={"method": "face", "mood": "ok"}), "data.mood"),
        ([event(1)], "event"),
    ]
    for body, field in cases:
        await problem(await api.post(body), 422, "validation-error", field)
    assert (await api.post(event(2, occurred_at=future(4)))).status == 201  # within the 5 minutes allowed
    assert await tree_size(api) == 1


async def test_malformed_json_is_400_and_too_large_is_413(api: Api) -> None:
    headers = {**api.auth("writer"), "Content-Type": "application/json"}
    for raw in (b"{", b"\xff\xfe", b"", b"[1,"):
        resp = await api.client.post("/v1/events", data=raw, headers=headers)
        await problem(resp, 400, "bad-request", "body")
    big = json.dumps(event(1, data={"method": "face", "location": "x" * (1 << 20)})).encode()
    resp = await api.client.post("/v1/events", data=io.BytesIO(big), headers=headers)
    await problem(resp, 413, "payload-too-large")
    assert await tree_size(api) == 0


async def test_bad_wait_parameter_is_400(api: Api) -> None:
    await problem(await api.post(event(1), params={"wait": "forever"}), 400, "bad-request", "wait")
    await problem(await api.post(event(1), params={"colour": "red"}), 400, "bad-request", "colour")
    assert await tree_size(api) == 0


async def test_wait_checkpoint_returns_verifiable_proofs(api: Api) -> None:
    assert (await api.post({"events": [event(i) for i in range(7)]})).status == 201
    resp = await api.post({"events": [event(i) for i in range(5, 12)]}, params={"wait": "checkpoint"})
    assert resp.status == 201
    body = await resp.json()
    checkpoint = verify_checkpoint(body["checkpoint"].encode(), api.verifier, origin=ORIGIN)
    assert checkpoint.size == body["tree_size"] >= 12
    for result in body["results"]:
        proof = [base64.b64decode(h) for h in result["proof"]]
        leaf = base64.b64decode(result["leaf_hash"])
        verify_inclusion(leaf, result["seq"], checkpoint.size, proof, checkpoint.root)
        tlog = parse_tlog_proof(result["tlog_proof"])
        assert tlog.index == result["seq"] and list(tlog.hashes) == proof
        assert tlog.checkpoint == body["checkpoint"].encode()
        # a receipt: the exact leaf rides in the extra line, so the holder can show the entry itself
        stored = await (await api.get(f"/v1/entries/{result['seq']}", "auditor")).json()
        assert tlog.extra is not None and tlog.extra == stored["entry"].encode()
        assert hashlib.sha256(b"\x00" + tlog.extra).digest() == leaf
    single = await api.post(event(1), params={"wait": "checkpoint"})  # a replay may wait too
    assert single.status == 200
    doc = await single.json()
    assert doc["seq"] == 1 and doc["tree_size"] >= 12 and "proof" in doc


async def test_concurrent_posts_get_distinct_contiguous_seqs(api: Api) -> None:
    responses = await asyncio.gather(*(api.post(event(i)) for i in range(200)))
    assert all(r.status == 201 for r in responses)
    seqs = sorted([(await r.json())["seq"] for r in responses])
    assert seqs == list(range(200))
    await api.app[LOG].wait_for_checkpoint(200, 10)
    checkpoint = verify_checkpoint(await (await api.get("/v1/checkpoint", "auditor")).read(), api.verifier)
    leaves = [(await api.app[LOG].store.get_entry(s)).leaf_hash for s in range(200)]  # type: ignore[union-attr]
    assert checkpoint.size == 200 and checkpoint.root == root_of_leaf_hashes(leaves)


async def test_concurrent_batches_from_many_clients(api: Api) -> None:
    batches = [{"events": [event(f"{c}-{i}") for i in range(10)]} for c in range(40)]
    responses = await asyncio.gather(*(api.post(b) for b in batches))
    assert all(r.status == 201 for r in responses)
    for r in responses:
        seqs = [x["seq"] for x in (await r.json())["results"]]
        assert seqs == list(range(seqs[0], seqs[0] + 10))  # a batch stays contiguous and in order
    assert await tree_size(api) == 400


async def test_an_event_naming_an_unknown_leave_is_recorded_with_a_warning(api: Api) -> None:
    """A mistyped leave_id is a fact all the same (recorded, 201), but the answer says nothing links it."""
    request = event(
        "req",
        type="leave.requested",
        data={"leave_id": "L1", "kind": "sick", "start": "2026-01-05", "end": "2026-01-09"},
    )
    assert (await api.post(request)).status == 201
    resp = await api.post(event("ok", type="leave.approved", data={"leave_id": "L-1"}))
    doc = await resp.json()
    assert resp.status == 201 and "seq" in doc
    (warning,) = doc["warnings"]
    assert "data.leave_id 'L-1' names no leave.requested of this employee" in warning
    # the matching id, in the log or in the same batch, carries no warning
    resp = await api.post(
        {
            "events": [
                event("ok2", type="leave.approved", data={"leave_id": "L1"}),
                event(
                    "req2",
                    type="leave.requested",
                    data={"leave_id": "L2", "kind": "annual", "start": "2026-02-02", "end": "2026-02-03"},
                ),
                event("ok3", type="leave.approved", data={"leave_id": "L2"}),
            ]
        }
    )
    assert all("warnings" not in r for r in (await resp.json())["results"])
    absence = await (await api.get("/v1/employees/E1/absence", "legal")).json()
    assert [u["value"] for u in absence["unmatched"]] == ["L-1"]


async def test_obvious_personal_data_in_a_leaf_field_is_recorded_with_a_warning(api: Api) -> None:
    """SPEC section 1: subject, event_id and source stay in the leaf forever, so intake warns on obvious cases."""
    resp = await api.post(event("zhang.san@example.com"))
    doc = await resp.json()
    assert resp.status == 201 and "seq" in doc
    (warning,) = doc["warnings"]
    assert warning.startswith("event_id looks like an e-mail address")
    resp = await api.post({"events": [event("b1"), event("b2", subject="13800138000")]})
    first, second = (await resp.json())["results"]
    assert "warnings" not in first and second["warnings"][0].startswith("subject looks like a mobile number")
    assert await tree_size(api) == 3  # warned, all the same recorded
