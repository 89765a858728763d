"""Witnesses for tests: the C2SP vectors (``tests/vectors/c2sp-witness.json``), real witness servers on loopback
ports, in this process (``RunningWitness``) or as ``hrledger witness serve`` processes, and the log's side: a
witness policy for them, the witness client and fixtures of two witnesses and of a forked log."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from ledger.core.cosignature import Cosigner
from ledger.core.entries import Event
from ledger.core.notes import Signer, Verifier
from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_client import WitnessClient
from ledger.services.witness_policy import WitnessEndpoint, WitnessPolicy
from ledger.storage.sqlite import SQLiteStorage
from ledger.witness.server import RateLimiter, Witness, create_witness_app
from ledger.witness.state import WitnessState
from verifier.cosignature import check, parse_witness_vkey
from verifier.note import parse_note, parse_vkey

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "c2sp-witness.json"
ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "test.example/log"  # the ``log`` fixture's origin


def vectors() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return doc


def vector_cosigner() -> Cosigner:
    g = vectors()["generated"]
    return Cosigner(g["witness_name"], bytes.fromhex(g["witness_seed_hex"]))


@dataclass
class RunningWitness:
    """A witness app listening on a loopback port, with its state file; ``stop`` and ``start`` again
    restart it on the same port with the same file (a witness restarted mid-stream)."""

    cosigner: Cosigner
    logs: dict[str, tuple[Verifier, ...]]
    path: Path
    clock: Callable[[], float]
    limiter: RateLimiter | None = None
    port: int = 0
    runner: web.AppRunner | None = None
    state: WitnessState | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def vkey(self) -> str:
        return self.cosigner.vkey

    async def start(self) -> RunningWitness:
        self.state = WitnessState(self.path)
        await self.state.open(self.cosigner.vkey)
        witness = Witness(self.cosigner, self.logs, self.state, clock=self.clock)
        self.runner = web.AppRunner(create_witness_app(witness, self.limiter), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.state is not None:
            await self.state.close()
            self.state = None


async def start_witness(
    tmp_path: Path,
    name: str,
    log_vkeys: Sequence[str],
    *,
    seed: bytes | None = None,
    clock: Callable[[], float] | None = None,
    limiter: RateLimiter | None = None,
) -> RunningWitness:
    import time

    cosigner = Cosigner(name, seed if seed is not None else os.urandom(32))
    logs: dict[str, tuple[Verifier, ...]] = {}
    for text in log_vkeys:
        key = parse_vkey(text)
        logs[key.name] = (*logs.get(key.name, ()), key)
    path = tmp_path / f"{name.replace('/', '_')}.sqlite3"
    running = RunningWitness(cosigner, logs, path, clock or time.time, limiter)
    return await running.start()


async def start_witness_process(data: Path, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    """``hrledger witness serve`` as its own process on a free port; returns it once it listens, and its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.admin.cli",
        "witness",
        "serve",
        "--data",
        str(data),
        "--port",
        "0",
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the witness exited before listening"
        if line.startswith("hrledger witness serving on http://"):
            return proc, line.split()[-1]


# -- the log's side: a witness policy for running witnesses, the client, and what the log's checkpoint carries

LOG_SEED = bytes(32)  # the ``log`` fixture's key: a second log with it is a fork


def log_event(i: int | str, subject: str = "E1") -> Event:
    return Event(f"ev-{i}", "attendance.clock_in", subject, "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})


def witness_policy(
    witnesses: list[RunningWitness], quorum: int | None = None, urls: list[str] | None = None
) -> WitnessPolicy:
    endpoints = tuple(
        WitnessEndpoint(parse_witness_vkey(w.vkey), url)
        for w, url in zip(witnesses, urls or [w.url for w in witnesses], strict=True)
    )
    return WitnessPolicy(endpoints, quorum or len(witnesses), timeout_seconds=2.0, min_interval_seconds=0.0)


def witness_client(log: Log, policy: WitnessPolicy) -> WitnessClient:
    """Quick retries, so that tests of outages take a fraction of a second."""
    return WitnessClient(log, policy, clock=lambda: datetime.now(UTC), retry_initial=0.02, retry_max=0.2)


async def eventually(check_: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check_():
            await asyncio.sleep(0.02)


async def cosigned_by(log: Log, witnesses: list[RunningWitness]) -> list[str]:
    """Labels of the witnesses whose valid cosignature the log's latest checkpoint carries."""
    latest = await log.latest_checkpoint()
    assert latest is not None
    note = parse_note(await records.cosigned_note(log.store, latest))
    found = check(note, [parse_witness_vkey(w.vkey) for w in witnesses], parse_vkey(log.signer.vkey))
    assert not found.invalid
    return [c.witness.label for c in found.valid]


async def latest_cosigned_by(log: Log, witnesses: list[RunningWitness], size: int) -> bool:
    """Whether the latest checkpoint has ``size`` and carries the cosignature of every one of ``witnesses``."""
    latest = await log.latest_checkpoint()
    return latest is not None and latest.size == size and len(await cosigned_by(log, witnesses)) == len(witnesses)


@pytest.fixture
async def two_witnesses(tmp_path: Path) -> AsyncIterator[list[RunningWitness]]:
    """Two witnesses of the ``log`` fixture's key, each on its own port and state file."""
    ws = [await start_witness(tmp_path, f"w{i}.example/witness", [Signer(ORIGIN, LOG_SEED).vkey]) for i in (1, 2)]
    yield ws
    for w in ws:
        await w.stop()


@pytest.fixture
async def forked_log(tmp_path: Path) -> AsyncIterator[Log]:
    """Another log with the ``log`` fixture's key and another history."""
    store = SQLiteStorage(tmp_path / "fork.sqlite3")
    await store.open()
    lg = Log(store, Signer(ORIGIN, LOG_SEED), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await lg.start()
    yield lg
    await lg.stop()
    await store.close()
