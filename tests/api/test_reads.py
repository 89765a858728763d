"""Auditor routes: log, checkpoint, entries, inclusion and consistency proofs, against the RFC 9162 math."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from api.config import LOG
from ledger.core import merkle
from ledger.core.wire import verify_checkpoint
from tests.support.api import ORIGIN, AiohttpClient, Api, event, problem, start_api
from tests.support.memtree import root_of_leaf_hashes
from verifier.merkle import verify_consistency, verify_inclusion
from verifier.statement import open_subject_head


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    return await start_api(tmp_path, aiohttp_client, store_uri)


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def fill(api: Api, n: int, **over: Any) -> None:
    resp = await api.post({"events": [event(f"f{i}", **over) for i in range(n)]}, params={"wait": "checkpoint"})
    assert resp.status in (200, 201)


async def checkpoint(api: Api) -> Any:
    resp = await api.get("/v1/checkpoint")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    return verify_checkpoint(await resp.read(), api.verifier, origin=ORIGIN)


async def test_log_info(api: Api) -> None:
    await fill(api, 3)
    doc = await (await api.get("/v1/log")).json()
    assert doc == {"origin": ORIGIN, "vkey": api.verifier.text, "tree_size": 3, "checkpoint_size": 3}


async def test_checkpoint_verifies_and_matches_leaves(api: Api) -> None:
    cp = await checkpoint(api)
    assert cp.size == 0 and cp.root == merkle.EMPTY_ROOT
    await fill(api, 9)
    cp = await checkpoint(api)
    leaves = [b64((await (await api.get(f"/v1/entries/{s}")).json())["leaf_hash"]) for s in range(9)]
    assert cp.size == 9 and cp.root == root_of_leaf_hashes(leaves)


async def test_entry_is_exact_leaf_with_data_and_salt(api: Api) -> None:
    await fill(api, 1, data={"method": "gps", "location": "上海"})
    doc = await (await api.get("/v1/entries/0")).json()
    assert set(doc) == {"seq", "entry", "leaf_hash", "data", "salt"}
    stored = await api.app[LOG].store.get_entry(0)
    assert stored is not None
    assert doc["entry"].encode("utf-8") == stored.entry
    assert b64(doc["leaf_hash"]) == merkle.leaf_hash(doc["entry"].encode("utf-8"))
    assert doc["data"] == {"method": "gps", "location": "上海"}
    assert len(b64(doc["salt"])) == 32
    leaf = json.loads(doc["entry"])
    assert leaf["seq"] == 0 and leaf["event_id"] == "ev-f0"
    await api.app[LOG].store.erase_data([0])
    erased = await (await api.get("/v1/entries/0")).json()
    assert erased["data"] is None and erased["salt"] is None and erased["entry"] == doc["entry"]


async def test_entry_errors(api: Api) -> None:
    await problem(await api.get("/v1/entries/0"), 404, "not-found")
    await problem(await api.get("/v1/entries/-1"), 400, "bad-request", "seq")
    await problem(await api.get("/v1/entries/abc"), 400, "bad-request", "seq")
    await problem(await api.get("/v1/entries/99999999999999999999"), 400, "bad-request", "seq")


async def test_list_entries_filters_and_pages(api: Api) -> None:
    await api.post({"events": [event(f"a{i}", subject="E1" if i % 2 else "E2") for i in range(10)]})
    await api.post(event("c1", subject="E1", type="custom.note", data={"x": 1}))
    doc = await (await api.get("/v1/entries")).json()
    assert [e["seq"] for e in doc["entries"]] == list(range(11)) and doc["next_from_seq"] is None
    page = await (await api.get("/v1/entries", subject="E1", limit=3)).json()
    assert [e["seq"] for e in page["entries"]] == [1, 3, 5] and page["next_from_seq"] == 6
    rest = await (await api.get("/v1/entries", subject="E1", from_seq=6, limit=3)).json()
    assert [e["seq"] for e in rest["entries"]] == [7, 9, 10] and rest["next_from_seq"] is None
    typed = await (await api.get("/v1/entries", type="custom.note")).json()
    assert [e["seq"] for e in typed["entries"]] == [10] and typed["entries"][0]["data"] == {"x": 1}
    none = await (await api.get("/v1/entries", subject="nobody")).json()
    assert none == {"entries": [], "next_from_seq": None}


async def test_list_entries_bad_params(api: Api) -> None:
    for params, field in [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"from_seq": "-3"}, "from_seq"),
        ({"subjet": "E1"}, "subjet"),
    ]:
        await problem(await api.get("/v1/entries", **params), 400, "bad-request", field)
    resp = await api.client.get("/v1/entries?limit=1&limit=2", headers=api.auth("auditor"))
    await problem(resp, 400, "bad-request", "limit")


async def test_inclusion_proofs_verify_for_every_seq_and_size(api: Api) -> None:
    await fill(api, 13)
    cp = await checkpoint(api)
    leaves = [(await api.app[LOG].store.get_entry(s)).leaf_hash for s in range(13)]  # type: ignore[union-attr]
    for size in range(1, 14):
        root = root_of_leaf_hashes(leaves[:size])
        for seq in range(size):
            doc = await (await api.get("/v1/proofs/inclusion", seq=seq, tree_size=size)).json()
            assert doc["seq"] == seq and doc["tree_size"] == size and b64(doc["leaf_hash"]) == leaves[seq]
            verify_inclusion(leaves[seq], seq, size, [b64(h) for h in doc["proof"]], root)
    default = await (await api.get("/v1/proofs/inclusion", seq=5)).json()
    assert default["tree_size"] == cp.size == 13
    verify_inclusion(leaves[5], 5, 13, [b64(h) for h in default["proof"]], cp.root)


async def test_inclusion_proof_errors(api: Api) -> None:
    await fill(api, 4)
    await problem(await api.get("/v1/proofs/inclusion"), 400, "bad-request", "seq")
    await problem(await api.get("/v1/proofs/inclusion", seq="x"), 400, "bad-request", "seq")
    await problem(await api.get("/v1/proofs/inclusion", seq=1, tree_size="-1"), 400, "bad-request", "tree_size")
    await problem(await api.get("/v1/proofs/inclusion", seq=3, tree_size=2), 400, "bad-request", "seq")
    await problem(await api.get("/v1/proofs/inclusion", seq=0, tree_size=0), 400, "bad-request", "seq")
    await problem(await api.get("/v1/proofs/inclusion", seq=1, tree_size=5), 404, "not-found")
    await problem(await api.get("/v1/proofs/inclusion", seq=4), 404, "not-found")
    await problem(await api.get("/v1/proofs/inclusion", seq=9, tree_size=9), 404, "not-found")


async def test_consistency_proofs_verify_between_all_sizes(api: Api) -> None:
    await fill(api, 11)
    leaves = [(await api.app[LOG].store.get_entry(s)).leaf_hash for s in range(11)]  # type: ignore[union-attr]
    roots = [root_of_leaf_hashes(leaves[:n]) for n in range(12)]
    for second in range(12):
        for first in range(second + 1):
            doc = await (await api.get("/v1/proofs/consistency", first=first, second=second)).json()
            assert (doc["first"], doc["second"]) == (first, second)
            proof = [b64(h) for h in doc["proof"]]
            verify_consistency(first, second, roots[first], roots[second], proof)
    default = await (await api.get("/v1/proofs/consistency", first=3)).json()
    assert default["second"] == 11


async def test_consistency_with_published_checkpoints(api: Api) -> None:
    await fill(api, 3)
    old = await checkpoint(api)
    await api.post({"events": [event(f"g{i}") for i in range(6)]}, params={"wait": "checkpoint"})
    new = await checkpoint(api)
    doc = await (await api.get("/v1/proofs/consistency", first=old.size, second=new.size)).json()
    verify_consistency(old.size, new.size, old.root, new.root, [b64(h) for h in doc["proof"]])


async def test_consistency_proof_errors(api: Api) -> None:
    await fill(api, 4)
    await problem(await api.get("/v1/proofs/consistency"), 400, "bad-request", "first")
    await problem(await api.get("/v1/proofs/consistency", first=3, second=2), 400, "bad-request", "first")
    await problem(await api.get("/v1/proofs/consistency", first="a", second=2), 400, "bad-request", "first")
    await problem(await api.get("/v1/proofs/consistency", first=1, second=5), 404, "not-found")
    await problem(await api.get("/v1/proofs/consistency", first=1, second=2, third=3), 400, "bad-request", "third")


async def test_subject_head_statement_pins_the_chain_in_a_published_tree(api: Api) -> None:
    events = [event(f"h{i}", subject="E7") for i in range(4)] + [event("h4", subject="E8")]
    assert (await api.post({"events": events[:4]}, params={"wait": "checkpoint"})).status == 201
    assert (await api.post({"events": events[4:]}, params={"wait": "checkpoint"})).status == 201
    resp = await api.get("/v1/subjects/E7/head")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    head = open_subject_head(await resp.read(), api.verifier)
    cp = await checkpoint(api)
    assert (head.tree_size, head.root, head.head, head.count) == (5, cp.root, 3, 4) and head.is_about("E7")
    earlier = open_subject_head(await (await api.get("/v1/subjects/E7/head", tree_size=4)).read(), api.verifier)
    assert (earlier.tree_size, earlier.head, earlier.count) == (4, 3, 4)
    nobody = open_subject_head(await (await api.get("/v1/subjects/E9/head")).read(), api.verifier)
    assert nobody.head is None and nobody.count == 0
    await problem(await api.get("/v1/subjects/E7/head", tree_size=3), 404, "not-found")  # never published
    await problem(await api.get("/v1/subjects/E7/head", tree_size="x"), 400, "bad-request", "tree_size")
    await problem(await api.get("/v1/subjects/E7/head", colour="red"), 400, "bad-request", "colour")
    await problem(await api.get("/v1/subjects/E7/head", role="writer"), 403, "forbidden")
