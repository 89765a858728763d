"""SIGKILL the real service (``hrledger serve``) under concurrent HTTP load, 20 times, and restart it.

After every restart: fsck passes; every event the service acknowledged (201/200) is at the seq it was
acknowledged with; no event_id appears twice; and the first checkpoint the restarted service serves is
consistent (RFC 9162 proof from GET /v1/proofs/consistency) with the last checkpoint a client saw before
the kill. ``HRLEDGER_CRASH_SEED`` picks the kill moments; ``HRLEDGER_CRASH_ROUNDS`` the number of rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core.notes import Verifier
from ledger.core.wire import Checkpoint, verify_checkpoint
from tests.support.api import ORIGIN, event, make_tokens
from tests.support.ledger import assert_acknowledged
from tests.support.stress import Server, fsck_dir, start_server, verify_consistency_b64

POSTERS = 8


@dataclass
class Round:
    acked: dict[str, int] = field(default_factory=dict)  # event_id -> seq, only from 200/201 answers
    last_seen: Checkpoint | None = None  # the newest checkpoint a client saw before the kill
    refused: int = 0  # requests cut by the kill or answered otherwise


async def _poster(
    session: aiohttp.ClientSession, url: str, prefix: str, worker: int, rnd: Round, rng: random.Random
) -> None:
    for i in range(1_000_000):
        size = rng.choice((1, 1, 1, 3, 10))
        ids = [f"{prefix}-{worker}-{i}-{k}" for k in range(size)]
        docs = [event(eid.removeprefix("ev-"), subject=f"E{worker}", data={"method": "card"}) for eid in ids]
        ids = [d["event_id"] for d in docs]
        body: dict[str, Any] = docs[0] if size == 1 else {"events": docs}
        try:
            async with session.post(f"{url}/v1/events", json=body) as resp:
                if resp.status not in (200, 201):
                    rnd.refused += 1
                    continue
                doc = await resp.json()
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            rnd.refused += 1
            return  # the server is gone
        results = doc["results"] if size > 1 else [doc]
        for eid, result in zip(ids, results, strict=True):
            rnd.acked[eid] = result["seq"]


async def _watch_checkpoints(session: aiohttp.ClientSession, url: str, verifier: Verifier, rnd: Round) -> None:
    while True:
        try:
            async with session.get(f"{url}/v1/checkpoint") as resp:
                if resp.status == 200:
                    cp = verify_checkpoint(await resp.read(), verifier, origin=ORIGIN)
                    if rnd.last_seen is None or cp.size >= rnd.last_seen.size:
                        rnd.last_seen = cp
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            return
        await asyncio.sleep(0.01)


async def _load_then_kill(
    server: Server, tokens: dict[str, str], prefix: str, delay: float, verifier: Verifier, rng: random.Random
) -> Round:
    rnd = Round()
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {tokens['writer']}"}, timeout=timeout) as writers,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {tokens['auditor']}"}, timeout=timeout) as auditors,
    ):
        tasks = [
            asyncio.create_task(_poster(writers, server.url, prefix, w, rnd, random.Random(rng.random())))
            for w in range(POSTERS)
        ]
        tasks.append(asyncio.create_task(_watch_checkpoints(auditors, server.url, verifier, rnd)))
        await asyncio.sleep(delay)
        await server.kill()
        done, pending = await asyncio.wait(tasks, timeout=15)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()  # an assertion or a bug in a poster must surface
    assert not pending, "clients kept waiting after the server was killed"
    return rnd


async def _check_after_restart(
    server: Server,
    data: Path,
    tokens: dict[str, str],
    verifier: Verifier,
    acked: dict[str, int],
    before: Checkpoint | None,
    fresh: dict[str, int],
) -> int:
    report = await fsck_dir(data)
    assert report.ok, report.problems
    headers = {"Authorization": f"Bearer {tokens['auditor']}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{server.url}/v1/checkpoint") as resp:
            assert resp.status == 200, await resp.text()
            first = verify_checkpoint(await resp.read(), verifier, origin=ORIGIN)
        if before is not None:
            assert first.size >= before.size, "the restarted service serves an older checkpoint"
            params = {"first": str(before.size), "second": str(first.size)}
            async with session.get(f"{server.url}/v1/proofs/consistency", params=params) as resp:
                assert resp.status == 200, await resp.text()
                proof = (await resp.json())["proof"]
            verify_consistency_b64(before.size, first.size, before.root, first.root, proof)
        # This round's acknowledged events, one by one through HTTP (a sample keeps the round short).
        for eid, seq in random.Random(len(acked)).sample(sorted(fresh.items()), min(25, len(fresh))):
            async with session.get(f"{server.url}/v1/entries/{seq}") as resp:
                assert resp.status == 200, (eid, seq, await resp.text())
                assert json.loads((await resp.json())["entry"])["event_id"] == eid
    # Every event acknowledged so far, in every round, through the store.
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    try:
        await assert_acknowledged(store, acked)
        return first.size
    finally:
        await store.close()


async def _all_entries_once(server: Server, token: str, acked: dict[str, int]) -> int:
    """Page through GET /v1/entries: seqs contiguous, every event_id once, acknowledged ones where promised."""
    seen: dict[str, int] = {}
    next_seq: int | None = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        while next_seq is not None:
            async with session.get(
                f"{server.url}/v1/entries", params={"from_seq": str(next_seq), "limit": "1000"}
            ) as resp:
                assert resp.status == 200, await resp.text()
                page = await resp.json()
            for item in page["entries"]:
                assert item["seq"] == len(seen), "a gap in the sequence"
                eid = json.loads(item["entry"])["event_id"]
                assert eid not in seen, f"{eid} appears twice, at {seen[eid]} and {item['seq']}"
                seen[eid] = item["seq"]
            next_seq = page["next_from_seq"]
    assert all(seen.get(eid) == seq for eid, seq in acked.items())
    return len(seen)


async def _crash_rounds(tmp_path: Path, rounds: int, seed: int) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    tokens = await make_tokens(data)
    verifier = load_datadir(data).signer().verifier()
    rng = random.Random(seed)
    acked: dict[str, int] = {}
    server = await start_server(data)
    try:
        for n in range(rounds):
            rnd = await _load_then_kill(server, tokens, f"r{n}", rng.uniform(0.1, 0.7), verifier, rng)
            assert rnd.acked or n == 0 or rnd.refused, "no request was even attempted"
            clash = {eid for eid, seq in rnd.acked.items() if eid in acked and acked[eid] != seq}
            assert not clash
            dup_seqs = set(rnd.acked.values()) & set(acked.values())
            assert not dup_seqs, f"two acknowledged events share seqs {sorted(dup_seqs)[:5]}"
            acked.update(rnd.acked)
            server = await start_server(data)
            await _check_after_restart(server, data, tokens, verifier, acked, rnd.last_seen, rnd.acked)
        total = await _all_entries_once(server, tokens["auditor"], acked)
        assert len(acked) > rounds * 10, f"too little load to mean anything: {len(acked)} events acknowledged"
        assert total >= len(acked)
    finally:
        with contextlib.suppress(Exception):
            await server.stop()


async def test_sigkill_under_http_load_20_times(tmp_path: Path) -> None:
    rounds = int(os.environ.get("HRLEDGER_CRASH_ROUNDS", "20"))
    await _crash_rounds(tmp_path, rounds, int(os.environ.get("HRLEDGER_CRASH_SEED", "11")))


@pytest.mark.slow
async def test_sigkill_under_http_load_100_times(tmp_path: Path) -> None:
    await _crash_rounds(tmp_path, 100, random.SystemRandom().randrange(1 << 30))
