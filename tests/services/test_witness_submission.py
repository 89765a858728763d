"""What the log makes of each witness answer (SPEC section 7): a fork refused and recorded as split-view evidence,
a lost answer understood, our checkpoint sent by someone else confirmed, a witness that does not know the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ledger.core.notes import Signer
from ledger.errors import SigningHeldError
from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_client import WitnessClient
from tests.support.witness import (
    LOG_SEED,
    ORIGIN,
    RunningWitness,
    eventually,
    latest_cosigned_by,
    log_event,
    start_witness,
    witness_client,
    witness_policy,
)


async def status(c: WitnessClient, log: Log) -> dict[str, Any]:
    return c.status(await log.latest_checkpoint())


async def test_a_forked_log_is_refused_and_its_evidence_holds_signing(
    log: Log, forked_log: Log, two_witnesses: list[RunningWitness]
) -> None:
    genuine = witness_client(log, witness_policy(two_witnesses))
    await genuine.start()
    await log.append([log_event(i) for i in range(5)])
    await eventually(lambda: latest_cosigned_by(log, two_witnesses, 5))
    await genuine.stop()
    # The fork: same key, other entries, first shorter (the witness names a larger size), then longer (422).
    await forked_log.append([log_event(f"x{i}", "E2") for i in range(3)])
    await forked_log.wait_for_checkpoint(3)
    forked = witness_client(forked_log, witness_policy(two_witnesses, quorum=1))
    await forked.start()
    try:
        await eventually(lambda: _disputed(forked, 2))
        docs = await records.list_evidence(forked_log.store)
        assert {(d["status"], d["size"]) for d in docs} == {(409, 3)}
        assert {d["body"] for d in docs} == {"5\n"} and all("larger" in d["meaning"] for d in docs)
        assert forked_log.signing_hold is not None and "split-view evidence" in forked_log.signing_hold
        await forked_log.append([log_event(f"y{i}", "E2") for i in range(5)])  # ingest goes on; nothing is signed
        with pytest.raises(SigningHeldError):
            await forked_log.publish_checkpoint()
        assert await forked_log.store.tree_size() == 8
        for w in two_witnesses:
            assert w.state is not None and (await w.state.latest(ORIGIN)).size == 5  # never moved by the fork
    finally:
        await forked.stop()


async def _disputed(c: WitnessClient, n: int) -> bool:
    return sum(bool(w["disputed"]) for w in c.status(None)["witnesses"]) == n


async def test_a_longer_fork_fails_the_consistency_proof(
    log: Log, forked_log: Log, two_witnesses: list[RunningWitness]
) -> None:
    genuine = witness_client(log, witness_policy(two_witnesses))
    await genuine.start()
    await log.append([log_event(i) for i in range(3)])
    await eventually(lambda: latest_cosigned_by(log, two_witnesses, 3))
    await genuine.stop()
    await forked_log.append([log_event(f"x{i}", "E2") for i in range(6)])
    await forked_log.wait_for_checkpoint(6)
    forked = witness_client(forked_log, witness_policy(two_witnesses, quorum=1))
    await forked.start()
    try:
        await eventually(lambda: _disputed(forked, 2))
        assert {(d["status"], d["old"]) for d in await records.list_evidence(forked_log.store)} == {(422, 3)}
        assert two_witnesses[0].state is not None
        assert [r.status for r in await two_witnesses[0].state.refusals(ORIGIN)] == [422]  # the witness keeps it too
    finally:
        await forked.stop()


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


async def test_a_lost_answer_is_understood_and_no_evidence(log: Log, two_witnesses: list[RunningWitness]) -> None:
    proxy = LossyProxy(two_witnesses[0].url)
    await proxy.start()
    c = witness_client(log, witness_policy(two_witnesses[:1], urls=[proxy.url]))
    await c.start()
    try:
        await log.append([log_event(0)])
        await eventually(lambda: latest_cosigned_by(log, two_witnesses[:1], 1))
        proxy.drop = True
        await log.append([log_event(1)])
        assert two_witnesses[0].state is not None
        await eventually(lambda: _witness_at(two_witnesses[0], 2))  # it cosigned 2; the log never heard
        assert (await status(c, log))["witnesses"][0]["cosigned_size"] == 1
        proxy.drop = False
        await eventually(
            lambda: latest_cosigned_by(log, two_witnesses[:1], 2)
        )  # 409 "2", then a resend from 2: a fresh cosignature
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()
        assert proxy.runner is not None
        await proxy.runner.cleanup()


async def _witness_at(w: RunningWitness, size: int) -> bool:
    assert w.state is not None
    return (await w.state.latest(ORIGIN)).size == size


async def test_our_checkpoint_sent_by_someone_else_is_recorded_then_confirmed(
    log: Log, two_witnesses: list[RunningWitness]
) -> None:
    await log.append([log_event(i) for i in range(2)])
    latest = await log.wait_for_checkpoint(2)
    async with (
        aiohttp.ClientSession() as s,
        s.post(two_witnesses[0].url + "/add-checkpoint", data=b"old 0\n\n" + latest.note) as r,
    ):
        assert r.status == 200  # a monitor submitted our checkpoint first
    c = witness_client(log, witness_policy(two_witnesses[:1]))
    await c.start()
    try:
        await eventually(lambda: latest_cosigned_by(log, two_witnesses[:1], 2))
        docs = await records.list_evidence(log.store)
        assert [(d["status"], d["body"]) for d in docs] == [(409, "2\n")]
        assert "no submission of ours" in docs[0]["meaning"] and "cosigned our very root" in docs[0]["meaning"]
        assert (await status(c, log))["witnesses"][0]["disputed"] is False and log.signing_hold is None
    finally:
        await c.stop()


async def test_a_witness_that_does_not_know_the_log_is_a_configuration_error(log: Log, tmp_path: Path) -> None:
    stranger = await start_witness(tmp_path, "w.example/other", [Signer("other.example/log", LOG_SEED).vkey])
    c = witness_client(log, witness_policy([stranger]))
    await c.start()
    try:
        await log.append([log_event(0)])
        await eventually(lambda: _failed(c))
        assert "404" in str((await status(c, log))["witnesses"][0]["last_error"])
        assert await records.list_evidence(log.store) == [] and log.signing_hold is None
    finally:
        await c.stop()
        await stranger.stop()


async def _failed(c: WitnessClient) -> bool:
    return bool(c.status(None)["witnesses"][0]["last_error"])
