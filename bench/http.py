"""HTTP benchmark with an independent load generator: ``wrk`` against a bare aiohttp app and ``hrledger serve``.

    .venv/bin/python -m bench.http [--seconds 10] [--root DIR] [--profile DIR] [--json]

Both servers run in this one run, one phase at a time, on fresh data (SQLite, WAL, ``synchronous=FULL``),
so the ratios compare figures measured minutes apart on the same machine. ``wrk`` (one thread, loopback;
``make bench`` installs it) drives every phase with the Lua scripts in ``bench/wrk/``, which give every
event a unique ``event_id``. The phases:

- bare aiohttp: ``GET /`` (a constant), ``POST /v1/events`` parsing the JSON event and answering 201;
- hrledger: ``GET /healthz``; single-event POSTs at 64 and 256 connections; batches of 100 at 16;
- while single-event POSTs run at 64 connections, a probe in this process measures the p99 of
  ``GET /v1/cases`` and ``GET /v1/proofs/inclusion``, the lag from acknowledgment to a signed checkpoint
  (the server's own ``hrledger_checkpoint_lag_seconds`` histogram) and the projection lag (an event about
  a new employee, then ``GET /v1/employees/{id}/absence`` until it answers 200).

``--root DIR`` runs ``hrledger serve`` from another checkout (``git worktree add /tmp/before efcd07a``) with
this venv's packages, for before/after tables. ``--profile DIR`` also records ``py-spy record -f raw`` of
the server under single-event POSTs and prints the share of samples in the projection (``bench.profile``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.profile import projection_share

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass
class WrkResult:
    """What one wrk run reported."""

    name: str
    connections: int
    requests_per_s: float
    events_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    command: str
    probe: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group())  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[text.lstrip("0123456789.")]


def run_wrk(name: str, url: str, script: str, connections: int, seconds: float, env: dict[str, str]) -> WrkResult:
    """Run wrk once (one thread) and parse its summary."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(WRK_DIR / script), url]
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env}, check=True)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if "50" not in lat or "99" not in lat:
        raise RuntimeError(f"cannot read wrk's latency distribution:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(g) for g in sock.groups()) if sock else 0
    batch = int(env.get("WRK_BATCH", "1")) if script == "batch.lua" else 1
    command = " ".join(["WRK_TOKEN=... " if env.get("WRK_TOKEN") else "", *args[:-3], f"bench/wrk/{script}", url])
    return WrkResult(name, connections, rps, rps * batch, _ms(lat["50"]), _ms(lat["99"]), errors, command.strip())


class Server:
    """A server process on a free port, started and stopped by this benchmark."""

    def __init__(self, args: list[str], root: Path, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.port = port
        self.root = root
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    @property
    def pid(self) -> int:
        """The server's process id (for py-spy)."""
        return self.process.pid

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        """Poll ``path`` until it answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    if s.recv(12).startswith(b"HTTP/1.1"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer in time")

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        self.process.terminate()
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def _cli(root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "ledger.admin.cli", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def make_ledger(root: Path, data: Path) -> dict[str, str]:
    """A fresh data directory and one token per role the benchmark needs."""
    _cli(root, "init", "--data", str(data), "--origin", "bench.example/log")
    return {
        role: _cli(root, "token", "create", "--data", str(data), "--role", role, "--name", f"bench-{role}")
        for role in ("writer", "legal")
    }


def start_hrledger(root: Path, data: Path) -> Server:
    """``hrledger serve`` of the checkout at ``root`` on ``data``, access log off."""
    port = free_port()
    args = ["ledger.admin.cli", "serve", "--data", str(data), "--port", str(port), "--no-access-log"]
    server = Server(args, root, port)
    server.wait_ready("/healthz")
    return server


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _histogram_p99(before: dict[float, float], after: dict[float, float]) -> float:
    """p99 upper bound (a bucket edge) of a Prometheus histogram's growth between two scrapes."""
    edges = sorted(after)
    counts = [after[e] - before.get(e, 0.0) for e in edges]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return float("nan")
    for edge, count in zip(edges, counts, strict=True):
        if count >= 0.99 * total:
            return edge
    return float("inf")


async def _scrape_lag(session: aiohttp.ClientSession, url: str) -> dict[float, float]:
    async with session.get(url + "/metrics") as resp:
        text = await resp.text()
    found = re.findall(r'^hrledger_checkpoint_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
    return {float(le): float(v) for le, v in found}


async def probe(url: str, tokens: dict[str, str], stop: asyncio.Event) -> dict[str, float]:
    """Reads and lags while ingest runs: p99 of the two reads, checkpoint lag, projection lag."""
    legal = {"Authorization": f"Bearer {tokens['legal']}"}
    writer = {"Authorization": f"Bearer {tokens['writer']}"}
    cases: list[float] = []
    proofs: list[float] = []
    visible: list[float] = []
    async with aiohttp.ClientSession() as session:
        lag_before = await _scrape_lag(session, url)
        n = 0
        while not stop.is_set():
            n += 1
            t = time.perf_counter()
            async with session.get(url + "/v1/cases", headers=legal) as resp:
                await resp.read()
                if resp.status == 200:
                    cases.append(time.perf_counter() - t)
            async with session.get(url + "/v1/log", headers=legal) as resp:
                size = (await resp.json()).get("checkpoint_size") or 1
            seq = random.randrange(max(1, size))
            t = time.perf_counter()
            async with session.get(url + f"/v1/proofs/inclusion?seq={seq}", headers=legal) as resp:
                await resp.read()
                if resp.status == 200:
                    proofs.append(time.perf_counter() - t)
            if n % 5 == 0:  # projection lag: an event about a new employee until its absence answers
                subject = f"probe-{os.getpid()}-{n}"
                body = {
                    "event_id": f"{subject}-ev",
                    "type": "attendance.clock_in",
                    "subject": subject,
                    "occurred_at": "2026-01-05T09:00:00+08:00",
                    "source": "probe",
                    "data": {"method": "face"},
                }
                async with session.post(url + "/v1/events", json=body, headers=writer) as resp:
                    await resp.read()
                acked = time.perf_counter()
                for _ in range(2000):
                    async with session.get(url + f"/v1/employees/{subject}/absence", headers=legal) as resp:
                        await resp.read()
                        if resp.status == 200:
                            visible.append(time.perf_counter() - acked)
                            break
                    await asyncio.sleep(0.002)
            await asyncio.sleep(0.05)
        lag_after = await _scrape_lag(session, url)
    return {
        "cases_p99_ms": _percentile(cases, 0.99) * 1000,
        "inclusion_p99_ms": _percentile(proofs, 0.99) * 1000,
        "reads": float(len(cases) + len(proofs)),
        "checkpoint_lag_p99_s": _histogram_p99(lag_before, lag_after),
        "projection_lag_p99_s": _percentile(visible, 0.99),
        "projection_samples": float(len(visible)),
    }


async def _wrk_with_probe(url: str, tokens: dict[str, str], env: dict[str, str], seconds: float) -> WrkResult:
    stop = asyncio.Event()
    task = asyncio.create_task(probe(url, tokens, stop))
    result = await asyncio.to_thread(
        run_wrk, "hrledger single-event POST", url + "/v1/events", "single.lua", 64, seconds, env
    )
    stop.set()
    result.probe = await task
    return result


def run(seconds: float, root: Path, profile_dir: Path | None) -> dict[str, Any]:
    """Every phase; returns the figures and ratios."""
    results: list[WrkResult] = []
    work = Path(tempfile.mkdtemp(prefix="hrledger-http-"))
    try:
        port = free_port()
        bare = Server(["bench.bare", "--port", str(port)], ROOT, port)
        bare.wait_ready("/")
        try:
            results.append(run_wrk("bare aiohttp GET constant", bare.url + "/", "get.lua", 64, seconds, {}))
            env = {"WRK_PREFIX": f"b{os.getpid()}"}
            results.append(
                run_wrk("bare aiohttp POST JSON event -> 201", bare.url + "/v1/events", "single.lua", 64, seconds, env)
            )
        finally:
            bare.stop()
        data = work / "data"
        tokens = make_ledger(root, data)
        server = start_hrledger(root, data)
        try:
            env = {"WRK_TOKEN": tokens["writer"]}
            results.append(run_wrk("hrledger GET /healthz", server.url + "/healthz", "get.lua", 64, seconds, {}))
            results.append(asyncio.run(_wrk_with_probe(server.url, tokens, {**env, "WRK_PREFIX": "s64"}, seconds)))
            results.append(
                run_wrk(
                    "hrledger single-event POST",
                    server.url + "/v1/events",
                    "single.lua",
                    256,
                    seconds,
                    {**env, "WRK_PREFIX": "s256"},
                )
            )
            results.append(
                run_wrk(
                    "hrledger batches of 100",
                    server.url + "/v1/events",
                    "batch.lua",
                    16,
                    seconds,
                    {**env, "WRK_PREFIX": "b100", "WRK_BATCH": "100"},
                )
            )
            shares = None
            if profile_dir:
                shares = {
                    "posts only": _profile(server, env, profile_dir, None),
                    "posts and reads": _profile(server, env, profile_dir, tokens),
                }
        finally:
            code = server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by = {r.name + f"@{r.connections}": r for r in results}
    bare_post = by["bare aiohttp POST JSON event -> 201@64"].requests_per_s
    single = by["hrledger single-event POST@64"].requests_per_s
    return {
        "results": [asdict(r) for r in results],
        "ratio_single_to_bare_post": single / bare_post,
        "ratio_healthz_to_bare_get": by["hrledger GET /healthz@64"].requests_per_s
        / by["bare aiohttp GET constant@64"].requests_per_s,
        "server_exit": code,
        "profile": shares,
        "root": str(root),
    }


def _profile(server: Server, env: dict[str, str], out: Path, reads: dict[str, str] | None) -> dict[str, Any]:
    """py-spy under single-event POSTs (wrk runs 4 s longer than the recording), with the read probe when
    ``reads`` holds its tokens (HR staff reading cases while HR systems post)."""
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"single-event{'-reads' if reads else ''}.raw.txt"
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "-p", str(server.pid), "-d", "10", "-f", "raw", "-o", str(raw)]
    load = subprocess.Popen(
        ["wrk", "-t1", "-c64", "-d14s", "-s", str(WRK_DIR / "single.lua"), server.url + "/v1/events"],
        env={**os.environ, **env, "WRK_PREFIX": f"prof{int(bool(reads))}"},
        stdout=subprocess.DEVNULL,
    )
    stop = threading.Event()
    prober = threading.Thread(target=lambda: asyncio.run(_probe_until(server.url, reads, stop))) if reads else None
    if prober:
        prober.start()
    time.sleep(2)
    subprocess.run(cmd, check=True, capture_output=True)
    stop.set()
    load.wait()
    if prober:
        prober.join()
    return {"command": " ".join(["py-spy", *cmd[1:]]), **projection_share(raw.read_text(), server.root)}


async def _probe_until(url: str, tokens: dict[str, str], stop: threading.Event) -> None:
    flag = asyncio.Event()
    task = asyncio.create_task(probe(url, tokens, flag))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    flag.set()
    await task


def print_table(report: dict[str, Any]) -> None:
    """The figures as a table, then the ratios."""
    print(f"{'what':<44} {'conns':>5} {'req/s':>9} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in report["results"]:
        print(
            f"{r['name']:<44} {r['connections']:>5} {r['requests_per_s']:>9,.0f} {r['events_per_s']:>9,.0f} "
            f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6}"
        )
        if r["probe"]:
            print("    while it ran: " + ", ".join(f"{k} {v:.3g}" for k, v in r["probe"].items()))
    print(f"single-event POST / bare JSON POST: {report['ratio_single_to_bare_post']:.2f}")
    print(f"GET /healthz / bare GET: {report['ratio_healthz_to_bare_get']:.2f}")
    if report["profile"]:
        print("profile: " + json.dumps(report["profile"]))


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose hrledger serve is measured")
    parser.add_argument("--profile", type=Path, help="directory for the py-spy profile (raw format)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs it: apt-get install wrk)")
    report = run(args.seconds, args.root.resolve(), args.profile)
    print(json.dumps(report) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        print_table(report)


if __name__ == "__main__":
    main()
