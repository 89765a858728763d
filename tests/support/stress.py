"""Helpers for the stress tests: a real service process on a free loopback port, and checks on its store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.admin.datadir import load_datadir
from ledger.admin.fsck import FsckReport, fsck
from verifier.merkle import verify_consistency

ROOT = Path(__file__).resolve().parents[2]
READY_PREFIX = "hrledger serving on http://"


@dataclass
class Server:
    """``hrledger serve`` as a child process; stderr is drained into ``log_lines`` (a pipe, never a file,
    so a file-size limit on the process cannot stop it from logging)."""

    proc: asyncio.subprocess.Process
    url: str
    log_lines: list[str] = field(default_factory=list)
    _drain: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return "".join(self.log_lines)

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        await self._finish()

    async def stop(self, timeout: float = 30.0) -> int:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.kill()
            raise
        await self._finish()
        return code

    async def _finish(self) -> None:
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._drain, 5)
        if self.proc.stdout is not None:
            with contextlib.suppress(Exception):
                await self.proc.stdout.read()


async def _drain_lines(stream: asyncio.StreamReader, sink: list[str]) -> None:
    while line := await stream.readline():
        sink.append(line.decode("utf-8", "replace"))
        if len(sink) > 5000:
            del sink[:1000]


async def start_server(
    data: Path, *, extra: Sequence[str] = (), preexec: Callable[[], Any] | None = None, timeout: float = 30.0
) -> Server:
    """Start ``hrledger serve --data DATA --port 0`` (the kernel picks a free loopback port)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.admin.cli",
        "serve",
        "--data",
        str(data),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    server = Server(proc, "")
    server._drain = asyncio.create_task(_drain_lines(proc.stderr, server.log_lines))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        line = (await asyncio.wait_for(proc.stdout.readline(), max(remaining, 0.1))).decode()
        if not line:
            await server.kill()
            raise AssertionError(f"the server exited before listening:\n{server.log_text()}")
        if line.startswith(READY_PREFIX):
            server.url = line.split()[-1]
            return server


async def fsck_dir(data: Path) -> FsckReport:
    """fsck of the data dir's store through its own connection (SQLite WAL lets it run beside the server)."""
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    try:
        return await fsck(store, datadir.signer().verifier())
    finally:
        await store.close()


def verify_consistency_b64(first: int, second: int, old_root: bytes, new_root: bytes, proof: list[str]) -> None:
    import base64

    verify_consistency(first, second, old_root, new_root, [base64.b64decode(p) for p in proof])
