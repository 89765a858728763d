"""Load benchmark: the service in its own process, this process as the client over loopback.

    .venv/bin/python -m bench.load [--seconds 10] [--connections 64] [--batch-connections 16]

Creates a fresh ledger in a temporary directory (durable commits: SQLite WAL, synchronous=FULL),
starts ``hrledger serve`` on it, then runs two bounded phases — single-event POSTs, then batches of 100
— and prints sustained events/s, p50/p99 request latency, and p99 lag from acknowledgment to the first
signed checkpoint covering the event (sampled by polling GET /v1/checkpoint every few milliseconds,
so the lag figure is accurate to that poll period).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from ledger.admin.datadir import init_datadir
from ledger.services.tokens import create_token
from ledger.storage.sqlite import SQLiteStorage

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.005


@dataclass
class Phase:
    name: str
    events: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    acks: list[tuple[float, int]] = field(default_factory=list)  # (ack time, tree size needed)
    elapsed: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux /proc), to express cost per event independent of load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def serving_url(server: asyncio.subprocess.Process) -> str:
    """The base URL ``hrledger serve`` prints once it listens (after its short guide)."""
    assert server.stdout is not None
    while True:
        line = (await asyncio.wait_for(server.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the server exited before listening")
        if line.startswith("hrledger serving on http://"):
            return line.split()[-1]


async def make_tokens(data: Path) -> tuple[str, str]:
    store = SQLiteStorage(data / "ledger.sqlite3")
    await store.open()
    try:
        now = datetime.now(UTC).isoformat()
        writer, _ = await create_token(store, role="writer", name="bench", created_at=now, secret=os.urandom(32))
        auditor, _ = await create_token(store, role="auditor", name="lag", created_at=now, secret=os.urandom(32))
    finally:
        await store.close()
    return writer, auditor


def event_body(n: int) -> dict[str, object]:
    return {
        "event_id": f"bench-{n}",
        "type": "attendance.clock_in",
        "subject": f"E{n % 5000}",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "source": "bench",
        "data": {"method": "face"},
    }


class CheckpointWatch:
    """Polls the checkpoint size; records when each size was first seen."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.seen: list[tuple[float, int]] = []  # (time, size), increasing sizes

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with self.session.get(self.url) as resp:
                note = await resp.read()
            size = int(note.split(b"\n", 2)[1])
            if not self.seen or size > self.seen[-1][1]:
                self.seen.append((time.perf_counter(), size))
            await asyncio.sleep(POLL_SECONDS)

    def lags(self, acks: list[tuple[float, int]]) -> list[float]:
        out, i = [], 0
        for acked, needed in sorted(acks, key=lambda a: a[1]):
            while i < len(self.seen) and self.seen[i][1] < needed:
                i += 1
            if i == len(self.seen):
                break
            out.append(max(0.0, self.seen[i][0] - acked))
        return out


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client (``--client raw``): a fraction of aiohttp's client cost per
    request, so that on a 2-core machine the client leaves the server its core."""

    def __init__(self, url: str, path: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def run_phase(
    phase: Phase, url: str, token: str, connections: int, batch: int, seconds: float, counter: list[int], client: str
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)
    deadline = time.perf_counter() + seconds

    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def aiohttp_post(body: bytes) -> tuple[int, bytes]:
            async with session.post(url, data=body) as resp:
                return resp.status, await resp.read()

        async def worker() -> None:
            raw = RawConnection(url, "/v1/events", token) if client == "raw" else None
            send = raw.post if raw is not None else aiohttp_post
            try:
                while time.perf_counter() < deadline:
                    first = counter[0]
                    counter[0] += batch
                    if batch == 1:
                        body = json.dumps(event_body(first)).encode()
                    else:
                        body = json.dumps({"events": [event_body(first + k) for k in range(batch)]}).encode()
                    started = time.perf_counter()
                    status, answer = await send(body)
                    done = time.perf_counter()
                    phase.requests += 1
                    if status not in (200, 201):
                        phase.errors += 1
                        continue
                    doc = json.loads(answer)
                    last = doc["results"][-1]["seq"] if batch > 1 else doc["seq"]
                    phase.events += batch
                    phase.latencies.append(done - started)
                    phase.acks.append((done, last + 1))
            finally:
                if raw is not None:
                    await raw.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        phase.elapsed = time.perf_counter() - started


def report(phase: Phase, lags: list[float], server_cpu: float, client_cpu: float) -> None:
    print(
        f"{phase.name:<24} {phase.events / phase.elapsed:>10,.0f} events/s  {phase.requests / phase.elapsed:>8,.0f} "
        f"req/s  p50 {percentile(phase.latencies, 0.5) * 1000:6.1f} ms  p99 "
        f"{percentile(phase.latencies, 0.99) * 1000:6.1f} ms  ack->checkpoint p50 "
        f"{percentile(lags, 0.5) * 1000:6.1f} ms p99 {percentile(lags, 0.99) * 1000:6.1f} ms  "
        f"({phase.events} events in {phase.elapsed:.1f} s, {phase.errors} errors)",
        flush=True,
    )
    print(
        f"{'':<24} server CPU {server_cpu / phase.elapsed:4.0%} of a core, "
        f"{server_cpu / max(phase.events, 1) * 1e6:6.1f} us/event -> {phase.events / max(server_cpu, 1e-9):>9,.0f} "
        f"events per server CPU-second; client CPU {client_cpu / phase.elapsed:4.0%}",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="hrledger-bench-", dir=args.tmp) as tmp:
        data = Path(tmp) / "d"
        init_datadir(data, origin="bench.example/log")
        writer, auditor = await make_tokens(data)
        cmd = [sys.executable, "-m", "ledger.admin.cli", "serve", "--data", str(data), "--port", "0"]
        if not args.access_log:
            cmd.append("--no-access-log")
        server = await asyncio.create_subprocess_exec(
            *cmd, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        assert server.stdout is not None
        base = await serving_url(server)
        print(
            f"server {base} (pid {server.pid}), {args.seconds:g} s per phase, {args.client} client, "
            f"{args.connections}/{args.batch_connections} connections, access log "
            f"{'on' if args.access_log else 'off'}",
            flush=True,
        )
        counter = [0]
        try:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {auditor}"}) as watcher_session:
                phases = [("single-event POSTs", 1, args.connections), ("batches of 100", 100, args.batch_connections)]
                for name, batch, conns in phases:
                    if args.only and not name.startswith(args.only):
                        continue
                    phase = Phase(name)
                    watch = CheckpointWatch(watcher_session, f"{base}/v1/checkpoint")
                    stop = asyncio.Event()
                    watcher = asyncio.create_task(watch.run(stop))
                    server_before, client_before = cpu_seconds(server.pid), time.process_time()
                    await run_phase(
                        phase, f"{base}/v1/events", writer, conns, batch, args.seconds, counter, args.client
                    )
                    server_cpu = cpu_seconds(server.pid) - server_before
                    client_cpu = time.process_time() - client_before
                    await asyncio.sleep(1.0)  # let the last checkpoint land
                    stop.set()
                    await watcher
                    report(phase, watch.lags(phase.acks), server_cpu, client_cpu)
        finally:
            server.send_signal(signal.SIGTERM)
            code = await server.wait()
        print(f"server exited with {code} after SIGTERM", flush=True)
        return 0 if code == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each phase")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections, single events")
    parser.add_argument("--batch-connections", type=int, default=16, help="concurrent connections, batches")
    parser.add_argument(
        "--client",
        choices=("aiohttp", "raw"),
        default="aiohttp",
        help="aiohttp's client, or a minimal keep-alive HTTP/1.1 client that costs less CPU",
    )
    parser.add_argument("--only", choices=("single", "batches"), help="run one phase only")
    parser.add_argument("--access-log", action="store_true", help="let the server log a line per request")
    parser.add_argument("--tmp", default=None, help="directory for the temporary ledger (default: system temp)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
