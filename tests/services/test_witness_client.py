"""The log's witness client against real witnesses over loopback HTTP: cosignatures, forks, restarts, outages."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.errors import SigningHeldError
from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_client import WitnessClient
from ledger.services.witness_policy import WitnessEndpoint, WitnessPolicy
from ledger.storage.sqlite import SQLiteStorage
from tests.support.witness import RunningWitness, start_witness
from verifier.cosignature import check, parse_witness_vkey
from verifier.note import parse_note, parse_vkey

ORIGIN = "test.example/log"
SEED = bytes(32)  # the log fixture's key: a second log with it is a fork


def event(i: int | str, subject: str = "E1") -> Event:
    return Event(f"ev-{i}", "attendance.clock_in", subject, "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})


def policy(witnesses: list[RunningWitness], quorum: int | None = None, urls: list[str] | None = None) -> WitnessPolicy:
    endpoints = tuple(
        WitnessEndpoint(parse_witness_vkey(w.vkey), url)
        for w, url in zip(witnesses, urls or [w.url for w in witnesses], strict=True)
    )
    return WitnessPolicy(endpoints, quorum or len(witnesses), timeout_seconds=2.0, min_interval_seconds=0.0)


def client(log: Log, pol: WitnessPolicy) -> WitnessClient:
    return WitnessClient(log, pol, clock=lambda: datetime.now(UTC), retry_initial=0.02, retry_max=0.2)


async def eventually(check_: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check_():
            await asyncio.sleep(0.02)


async def cosigned_by(log: Log, witnesses: list[RunningWitness]) -> list[str]:
    latest = await log.store.latest_checkpoint()
    assert latest is not None
    note = parse_note(await records.cosigned_note(log.store, latest))
    found = check(note, [parse_witness_vkey(w.vkey) for w in witnesses], parse_vkey(log.signer.vkey))
    assert not found.invalid
    return [c.witness.label for c in found.valid]


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[list[RunningWitness]]:
    ws = [await start_witness(tmp_path, f"w{i}.example/witness", [Signer(ORIGIN, SEED).vkey]) for i in (1, 2)]
    yield ws
    for w in ws:
        await w.stop()


@pytest.fixture
async def fork(tmp_path: Path) -> AsyncIterator[Log]:
    """Another log with the same key and another history."""
    store = SQLiteStorage(tmp_path / "fork.sqlite3")
    await store.open()
    lg = Log(store, Signer(ORIGIN, SEED), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await lg.start()
    yield lg
    await lg.stop()
    await store.close()


async def test_two_witnesses_cosign_every_latest_checkpoint(log: Log, two: list[RunningWitness]) -> None:
    c = client(log, policy(two))
    await c.start()
    try:
        for i in range(5):
            await log.append([event(i)])
            await log.wait_for_checkpoint(i + 1)
        await eventually(lambda: _both(log, two, 5))
        doc = await status(c, log)
        assert [(w["cosigned_size"], w["lag_entries"], w["evidence"]) for w in doc["witnesses"]] == [(5, 0, 0)] * 2
        assert doc["signing_hold"] is None and doc["quorum"] == 2 and doc["checkpoint_witnessed"] is True
        per_witness, quorum = c.drain_latencies()
        assert all(len(v) >= 1 for v in per_witness.values()) and len(quorum) >= 1
        assert c.drain_latencies() == ({w: [] for w in per_witness}, [])
    finally:
        await c.stop()


async def status(c: WitnessClient, log: Log) -> dict[str, Any]:
    return c.status(await log.latest_checkpoint())


async def _both(log: Log, two: list[RunningWitness], size: int) -> bool:
    latest = await log.store.latest_checkpoint()
    return latest is not None and latest.size == size and len(await cosigned_by(log, two)) == 2


async def test_a_forked_log_is_refused_and_its_evidence_holds_signing(
    log: Log, fork: Log, two: list[RunningWitness]
) -> None:
    genuine = client(log, policy(two))
    await genuine.start()
    await log.append([event(i) for i in range(5)])
    await eventually(lambda: _both(log, two, 5))
    await genuine.stop()
    # The fork: same key, other entries, first shorter (the witness names a larger size), then longer (422).
    await fork.append([event(f"x{i}", "E2") for i in range(3)])
    await fork.wait_for_checkpoint(3)
    forked = client(fork, policy(two, quorum=1))
    await forked.start()
    try:
        await eventually(lambda: _disputed(forked, 2))
        docs = await records.list_evidence(fork.store)
        assert {(d["status"], d["size"]) for d in docs} == {(409, 3)}
        assert {d["body"] for d in docs} == {"5\n"} and all("larger" in d["meaning"] for d in docs)
        assert fork.signing_hold is not None and "split-view evidence" in fork.signing_hold
        await fork.append([event(f"y{i}", "E2") for i in range(5)])  # ingest goes on; nothing is signed
        with pytest.raises(SigningHeldError):
            await fork.publish_checkpoint()
        assert await fork.store.tree_size() == 8
        for w in two:
            assert w.state is not None and (await w.state.latest(ORIGIN)).size == 5  # never moved by the fork
    finally:
        await forked.stop()


async def _disputed(c: WitnessClient, n: int) -> bool:
    return sum(bool(w["disputed"]) for w in c.status(None)["witnesses"]) == n


async def test_a_longer_fork_fails_the_consistency_proof(log: Log, fork: Log, two: list[RunningWitness]) -> None:
    genuine = client(log, policy(two))
    await genuine.start()
    await log.append([event(i) for i in range(3)])
    await eventually(lambda: _both(log, two, 3))
    await genuine.stop()
    await fork.append([event(f"x{i}", "E2") for i in range(6)])
    await fork.wait_for_checkpoint(6)
    forked = client(fork, policy(two, quorum=1))
    await forked.start()
    try:
        await eventually(lambda: _disputed(forked, 2))
        assert {(d["status"], d["old"]) for d in await records.list_evidence(fork.store)} == {(422, 3)}
        assert two[0].state is not None
        assert [r.status for r in await two[0].state.refusals(ORIGIN)] == [422]  # the witness keeps it too
    finally:
        await forked.stop()


async def test_a_witness_down_does_not_stop_ingest_and_is_caught_up_after_restart(
    log: Log, two: list[RunningWitness]
) -> None:
    c = client(log, policy(two))
    await c.start()
    try:
        await log.append([event(0)])
        await eventually(lambda: _both(log, two, 1))
        await two[1].stop()
        for i in range(1, 4):
            await log.append([event(i)])
        await log.wait_for_checkpoint(4)
        await eventually(lambda: _only_first(log, two))
        w2 = (await status(c, log))["witnesses"][1]
        assert w2["cosigned_size"] == 1 and w2["lag_entries"] == 3 and w2["failures"] >= 1 and w2["last_error"]
        await two[1].start()  # same port, same state file
        await eventually(lambda: _both(log, two, 4))
        assert (await status(c, log))["witnesses"][1]["failures"] == 0
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()


async def _only_first(log: Log, two: list[RunningWitness]) -> bool:
    return await cosigned_by(log, two) == [parse_witness_vkey(two[0].vkey).label]


async def test_a_witness_that_forgot_is_sent_the_proof_from_the_size_it_names(
    log: Log, two: list[RunningWitness], tmp_path: Path
) -> None:
    """The log's state survives a restart of the client; the witness names its size and gets a proof from it."""
    c = client(log, policy(two[:1]))
    await c.start()
    await log.append([event(i) for i in range(3)])
    await eventually(lambda: _first_at(log, two[0], 3))
    await c.stop()
    await log.store.delete_record(records.STATE, parse_witness_vkey(two[0].vkey).label)  # the log forgot instead
    await log.append([event(i) for i in range(3, 9)])
    await log.wait_for_checkpoint(9)
    c = client(log, policy(two[:1]))
    await c.start()
    try:
        await eventually(lambda: _first_at(log, two[0], 9))
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()


async def _first_at(log: Log, w: RunningWitness, size: int) -> bool:
    latest = await log.store.latest_checkpoint()
    return latest is not None and latest.size == size and len(await cosigned_by(log, [w])) == 1


class LossyProxy:
    """Forwards to a witness; while ``drop`` is set, the witness's answer is replaced by a 502."""

    def __init__(self, target: str) -> None:
        self.target, self.drop, self.url = target, False, ""
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        async with aiohttp.ClientSession() as s, s.post(self.target + request.path, data=await request.read()) as r:
            body, ctype = await r.read(), r.headers["Content-Type"]
        if self.drop:
            return web.Response(status=502, text="bad gateway")
        return web.Response(status=r.status, body=body, headers={"Content-Type": ctype})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/add-checkpoint", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"


async def test_a_lost_answer_is_understood_and_no_evidence(log: Log, two: list[RunningWitness]) -> None:
    proxy = LossyProxy(two[0].url)
    await proxy.start()
    c = client(log, policy(two[:1], urls=[proxy.url]))
    await c.start()
    try:
        await log.append([event(0)])
        await eventually(lambda: _first_at(log, two[0], 1))
        proxy.drop = True
        await log.append([event(1)])
        assert two[0].state is not None
        await eventually(lambda: _witness_at(two[0], 2))  # it cosigned 2; the log never heard
        assert (await status(c, log))["witnesses"][0]["cosigned_size"] == 1
        proxy.drop = False
        await eventually(lambda: _first_at(log, two[0], 2))  # 409 "2", then a resend from 2: a fresh cosignature
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()
        assert proxy.runner is not None
        await proxy.runner.cleanup()


async def _witness_at(w: RunningWitness, size: int) -> bool:
    assert w.state is not None
    return (await w.state.latest(ORIGIN)).size == size


async def test_our_checkpoint_sent_by_someone_else_is_recorded_then_confirmed(
    log: Log, two: list[RunningWitness]
) -> None:
    await log.append([event(i) for i in range(2)])
    latest = await log.wait_for_checkpoint(2)
    async with (
        aiohttp.ClientSession() as s,
        s.post(two[0].url + "/add-checkpoint", data=b"old 0\n\n" + latest.note) as r,
    ):
        assert r.status == 200  # a monitor submitted our checkpoint first
    c = client(log, policy(two[:1]))
    await c.start()
    try:
        await eventually(lambda: _first_at(log, two[0], 2))
        docs = await records.list_evidence(log.store)
        assert [(d["status"], d["body"], d["meaning"]) for d in docs] == [(409, "2\n", "names our size, not from us")]
        assert (await status(c, log))["witnesses"][0]["disputed"] is False and log.signing_hold is None
    finally:
        await c.stop()


async def test_a_witness_that_does_not_know_the_log_is_a_configuration_error(log: Log, tmp_path: Path) -> None:
    stranger = await start_witness(tmp_path, "w.example/other", [Signer("other.example/log", SEED).vkey])
    c = client(log, policy([stranger]))
    await c.start()
    try:
        await log.append([event(0)])
        await eventually(lambda: _failed(c))
        assert "404" in str((await status(c, log))["witnesses"][0]["last_error"])
        assert await records.list_evidence(log.store) == [] and log.signing_hold is None
    finally:
        await c.stop()
        await stranger.stop()


async def _failed(c: WitnessClient) -> bool:
    return bool(c.status(None)["witnesses"][0]["last_error"])
