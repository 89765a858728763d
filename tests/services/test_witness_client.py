"""The witness client's rounds against real witnesses over loopback HTTP: every latest checkpoint cosigned by all,
an outage that never stops ingest, a witness restarted, a log that forgot, status and latencies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_client import WitnessClient
from tests.support.witness import (
    ORIGIN,
    RunningWitness,
    cosigned_by,
    eventually,
    latest_cosigned_by,
    log_event,
    witness_client,
    witness_policy,
)
from verifier.cosignature import parse_witness_vkey


async def status(c: WitnessClient, log: Log) -> dict[str, Any]:
    return c.status(await log.latest_checkpoint())


async def test_two_witnesses_cosign_every_latest_checkpoint(log: Log, two_witnesses: list[RunningWitness]) -> None:
    c = witness_client(log, witness_policy(two_witnesses))
    await c.start()
    try:
        for i in range(5):
            await log.append([log_event(i)])
            await log.wait_for_checkpoint(i + 1)
        await eventually(lambda: latest_cosigned_by(log, two_witnesses, 5))
        doc = await status(c, log)
        assert [(w["cosigned_size"], w["lag_entries"], w["evidence"]) for w in doc["witnesses"]] == [(5, 0, 0)] * 2
        assert doc["signing_hold"] is None and doc["quorum"] == 2 and doc["checkpoint_witnessed"] is True
        per_witness, quorum = c.drain_latencies()
        assert all(len(v) >= 1 for v in per_witness.values()) and len(quorum) >= 1
        assert c.drain_latencies() == ({w: [] for w in per_witness}, [])
    finally:
        await c.stop()


async def test_a_witness_down_does_not_stop_ingest_and_is_caught_up_after_restart(
    log: Log, two_witnesses: list[RunningWitness]
) -> None:
    c = witness_client(log, witness_policy(two_witnesses))
    await c.start()
    try:
        await log.append([log_event(0)])
        await eventually(lambda: latest_cosigned_by(log, two_witnesses, 1))
        await two_witnesses[1].stop()
        for i in range(1, 4):
            await log.append([log_event(i)])
        await log.wait_for_checkpoint(4)
        await eventually(lambda: _only_first(log, two_witnesses))
        w2 = (await status(c, log))["witnesses"][1]
        assert w2["cosigned_size"] == 1 and w2["lag_entries"] == 3 and w2["failures"] >= 1 and w2["last_error"]
        await two_witnesses[1].start()  # same port, same state file
        await eventually(lambda: latest_cosigned_by(log, two_witnesses, 4))
        assert (await status(c, log))["witnesses"][1]["failures"] == 0
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()


async def _only_first(log: Log, two_witnesses: list[RunningWitness]) -> bool:
    return await cosigned_by(log, two_witnesses) == [parse_witness_vkey(two_witnesses[0].vkey).label]


async def test_a_witness_that_forgot_is_sent_the_proof_from_the_size_it_names(
    log: Log, two_witnesses: list[RunningWitness], tmp_path: Path
) -> None:
    """The log's state survives a restart of the client; the witness names its size and gets a proof from it."""
    c = witness_client(log, witness_policy(two_witnesses[:1]))
    await c.start()
    await log.append([log_event(i) for i in range(3)])
    await eventually(lambda: latest_cosigned_by(log, two_witnesses[:1], 3))
    await c.stop()
    await log.store.delete_record(
        records.STATE, parse_witness_vkey(two_witnesses[0].vkey).label
    )  # the log forgot instead
    await log.append([log_event(i) for i in range(3, 9)])
    await log.wait_for_checkpoint(9)
    c = witness_client(log, witness_policy(two_witnesses[:1]))
    await c.start()
    try:
        await eventually(lambda: latest_cosigned_by(log, two_witnesses[:1], 9))
        assert await records.list_evidence(log.store) == []
    finally:
        await c.stop()


async def test_a_standby_submits_nothing_and_shows_what_the_sequencer_recorded(
    log: Log, two_witnesses: list[RunningWitness]
) -> None:
    sequencer = witness_client(log, witness_policy(two_witnesses))
    await sequencer.start()
    await log.append([log_event(i) for i in range(3)])
    await eventually(lambda: latest_cosigned_by(log, two_witnesses, 3))
    await sequencer.stop()
    standby = WitnessClient(log, witness_policy(two_witnesses), clock=lambda: datetime.now(UTC), active=lambda: False)
    await standby.start()
    try:
        await log.append([log_event(i) for i in range(3, 5)])
        await log.wait_for_checkpoint(5)
        await asyncio.sleep(0.3)
        doc = await status(standby, log)
        assert [(w["cosigned_size"], w["lag_entries"]) for w in doc["witnesses"]] == [(3, 2), (3, 2)]
        for w in two_witnesses:
            assert w.state is not None and (await w.state.latest(ORIGIN)).size == 3  # nothing was sent
    finally:
        await standby.stop()
