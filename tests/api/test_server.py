"""The service as a process, on either store: graceful shutdown on SIGTERM keeps every acknowledged event; bootstrap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from ledger.admin.datadir import bootstrap, init_datadir, load_datadir
from ledger.core.wire import verify_checkpoint
from ledger.services.tokens import lookup_token
from ledger.storage.sqlite import SQLiteStorage
from tests.support.api import ORIGIN, ROOT, SERVE, event, make_tokens, start_server


async def test_sigterm_drains_and_publishes_a_last_checkpoint(tmp_path: Path, store_uri: str | None) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    token = (await make_tokens(data))["writer"]
    proc, url = await start_server(data)
    assert proc.stderr is not None
    stderr_task = asyncio.create_task(proc.stderr.read())  # drain the access log so the pipe never fills
    acked: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}

    try:
        async with aiohttp.ClientSession(headers=headers) as session:

            async def post(i: int) -> None:
                body: dict[str, Any] = event(i) if i % 3 else {"events": [event(f"{i}-{k}") for k in range(20)]}
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.post(f"{url}/v1/events", json=body) as resp:
                        if resp.status in (200, 201):
                            doc = await resp.json()
                            acked.extend(r["seq"] for r in doc.get("results", [doc]))

            first = await asyncio.gather(*(post(i) for i in range(1, 60)))
            assert len(first) == 59 and acked
            tasks = [asyncio.create_task(post(i)) for i in range(100, 400)]
            await asyncio.sleep(0.05)  # some of these are in flight when the signal arrives
            proc.send_signal(signal.SIGTERM)
            await asyncio.gather(*tasks)
            try:
                code = await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.send_signal(signal.SIGABRT)  # faulthandler prints where each thread is stuck
                await proc.wait()
                stderr = (await stderr_task).decode()
                (tmp_path / "server.err").write_text(stderr)
                raise AssertionError(
                    f"no exit within 60 s of SIGTERM (all of stderr in {tmp_path / 'server.err'}):\n{stderr[-8000:]}"
                ) from None
    finally:
        if proc.returncode is None:  # a failed assertion must not leave a server behind
            proc.kill()
            await proc.wait()
    stderr = (await stderr_task).decode()
    assert code == 0, stderr
    assert "shutting down" in stderr

    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    try:
        latest = await store.latest_checkpoint()
        size = await store.tree_size()
        assert latest is not None
        verify_checkpoint(latest.note, datadir.signer().verifier(), origin=ORIGIN)
        assert latest.size == size  # the last checkpoint covers everything committed
        assert max(acked) < size and len(set(acked)) == len(acked)
    finally:
        await store.close()


# The server's loop is blocked while a thread fills its self-pipe (which holds only a few hundred
# wake-up bytes) and SIGTERM arrives: asyncio's own signal path writes one more byte, which is dropped.
SIGNAL_WHILE_SELF_PIPE_FULL = """
import asyncio, os, signal, sys, threading, time
from pathlib import Path
from api.config import AppConfig
from api.server import run

async def main() -> None:
    ready = asyncio.Event()
    server = asyncio.create_task(run(AppConfig(data_dir=Path(sys.argv[1]), access_log=False), "127.0.0.1", 0,
                                     ready=ready))
    await ready.wait()
    loop = asyncio.get_running_loop()

    def flood_then_signal() -> None:
        for _ in range(5000):
            loop.call_soon_threadsafe(lambda: None)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=flood_then_signal).start()
    time.sleep(1.0)  # blocks the loop on purpose: nothing drains the self-pipe meanwhile
    await asyncio.wait_for(server, 20)
    print("stopped")

asyncio.run(main())
"""


async def test_sigterm_is_not_lost_when_the_loop_self_pipe_is_full(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SIGNAL_WHILE_SELF_PIPE_FULL,
        str(data),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0 and out.decode().splitlines()[-1:] == ["stopped"], err.decode()[-3000:]


async def test_bad_data_dir_exits_1_with_no_banner_and_no_traceback(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *SERVE,
        "--data",
        str(tmp_path / "missing"),
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert b"does not exist" in err and b"Traceback" not in err
    assert b"starting" not in out  # the banner is only printed for a data directory that opens


def test_bootstrap_creates_a_ledger_and_an_admin_token_once(tmp_path: Path) -> None:
    data = tmp_path / "new"
    token = bootstrap(data)
    assert token is not None and token.startswith("hrl_")
    assert bootstrap(data) is None
    assert load_datadir(data).origin.startswith("hrledger.local/")
    assert os.stat(data / "signing.key").st_mode & 0o077 == 0

    async def role() -> str | None:
        store = SQLiteStorage(data / "ledger.sqlite3")
        await store.open()
        try:
            info = await lookup_token(store, token)
        finally:
            await store.close()
        return info.role if info else None

    assert asyncio.run(role()) == "admin"


async def test_a_busy_port_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    import socket

    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            *SERVE,
            "--data",
            str(data),
            "--port",
            str(port),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err.decode() and "another port" in err.decode()
    assert b"Traceback" not in err


async def test_the_banner_says_where_escalations_go(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    proc, _ = await start_server(data)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "escalations are recorded in the log but notify nobody" in line and "POLICY=FILE" in line
    finally:
        proc.terminate()
        await proc.wait()
