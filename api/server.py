"""Running the service: ``serve`` (used by ``hrledger serve``).

Shutdown on SIGTERM or SIGINT is graceful: the listening socket closes, requests in flight finish
(up to ``SHUTDOWN_GRACE`` seconds), then the app's cleanup drains the sequencer, commits what was
accepted and publishes a last checkpoint covering every acknowledged event.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from api.app import create_app
from api.config import ESCALATOR, NOTIFIER, AppConfig
from ledger.admin.datadir import load_datadir
from ledger.errors import LedgerError

log = logging.getLogger("hrledger.server")
SHUTDOWN_GRACE = 30.0
KEEPALIVE_TIMEOUT = 10.0


async def run(config: AppConfig, host: str, port: int, *, ready: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or until cancelled), then shut down gracefully."""
    app = create_app(config)
    # keepalive_timeout also bounds a client that opens a connection and stalls inside its headers.
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE, handle_signals=False, keepalive_timeout=KEEPALIVE_TIMEOUT
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    set_on_shutdown_signals(loop, stop)
    try:
        site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise LedgerError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; another hrledger may be running there: stop "
                "it, or choose another port (--port, or make run PORT=...)"
            ) from None
        for address in runner.addresses:
            if isinstance(address, tuple):
                print(f"hrledger serving on http://{_host(address[0])}:{address[1]}", flush=True)
        notifier = app.get(NOTIFIER)
        if notifier is not None:
            print(notifier.describe(), flush=True)
        escalator = app.get(ESCALATOR)
        warning = escalator.calendar_status().warning if escalator is not None else None
        if warning is not None:
            print(f"WARNING: {warning}", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("shutting down: draining requests, committing and publishing a last checkpoint")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
    log.info("stopped")


def set_on_shutdown_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT, and never miss one.

    asyncio's add_signal_handler delivers a signal as one byte on the loop's self-pipe, which holds only a
    few hundred bytes; every call_soon_threadsafe (each SQLite call finishing in a worker thread) writes
    one too. Under load the pipe can be full when SIGTERM arrives: the byte is dropped and the signal lost
    (CPython gh-74224; seen here as a server still running 60 s after SIGTERM). So a Python-level handler
    is installed as well: the interpreter records the signal as a flag that cannot overflow and runs the
    handler in the main thread, which schedules the same ``stop.set``."""

    def on_signal(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # the usual path: wakes the loop through its self-pipe
        signal.signal(sig, on_signal)  # replaces asyncio's no-op Python-level handler; the wake-up fd stays


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serve(config: AppConfig, host: str = "127.0.0.1", port: int = 8080) -> int:
    """Run the service in the foreground; returns the process exit code (0 after a clean shutdown)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    load_datadir(config.data_dir)  # a clear DataDirError before anything listens
    asyncio.run(run(config, host, port))
    return 0
