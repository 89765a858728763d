"""Witnesses for tests: the C2SP vectors (``tests/vectors/c2sp-witness.json``) and real witness servers on
loopback ports, in this process (``RunningWitness``) or as ``hrledger witness serve`` processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ledger.core.cosignature import Cosigner
from ledger.core.notes import Verifier
from ledger.witness.server import RateLimiter, Witness, create_witness_app
from ledger.witness.state import WitnessState

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "c2sp-witness.json"
ROOT = Path(__file__).resolve().parents[2]


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
        key = Verifier.from_vkey(text)
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
