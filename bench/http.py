"""HTTP benchmark with an independent load generator: ``wrk`` against a bare aiohttp app and ``hrledger serve``.

    .venv/bin/python -m bench.http [--seconds 10] [--root DIR] [--profile DIR] [--json]

Both servers run in this one run, one phase at a time, on fresh data (SQLite, WAL, ``synchronous=FULL``),
so the ratios compare figures measured minutes apart on the same machine. ``wrk`` (one thread, loopback;
``make bench`` installs it) drives every phase with the Lua scripts in ``bench/wrk/``, which give every
event a unique ``event_id``. The phases:

- bare aiohttp: ``GET /`` (a constant), ``POST /v1/events`` parsing the JSON event and answering 201;
- hrledger: ``GET /healthz``; single-event POSTs at 64 and 256 connections; batches of 100 at 16;
- while single-event POSTs run at the goal's rate (0.6 x the bare JSON POST, paced by wrk's ``delay()``),
  a probe in this process measures the p99 of
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.profile import projection_share

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
GOAL_RATIO = 0.6  # issue 17: single-event POSTs at 0.6 x the bare aiohttp JSON POST


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
    print(f"  wrk: {name}, {connections} connections, {seconds:g} s", file=sys.stderr, flush=True)
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
        # A file, not a pipe: nobody reads the pipe while wrk runs, and a server whose log fills the 64 KiB
        # pipe blocks on its next log line (an earlier run lost a target for whole rounds that way).
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *args], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=self.log
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
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode()[-2000:]}")
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
        finally:
            self.log.close()


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


UVLOOP_MAIN = "import sys, uvloop; uvloop.install(); from ledger.admin.cli import main; sys.exit(main())"


def start_hrledger(root: Path, data: Path, *, uvloop: bool = False) -> Server:
    """``hrledger serve`` of the checkout at ``root`` on ``data``, access log off; ``uvloop``: on uvloop's loop."""
    port = free_port()
    serve = ["serve", "--data", str(data), "--port", str(port), "--no-access-log"]
    args = ["-c", UVLOOP_MAIN, *serve] if uvloop else ["-m", "ledger.admin.cli", *serve]
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


PROBE_TIMEOUT = aiohttp.ClientTimeout(total=20)


async def probe(url: str, tokens: dict[str, str], stop: asyncio.Event) -> dict[str, float]:
    """Reads and lags while ingest runs: p99 of the two reads, checkpoint lag, projection lag.

    A request that fails or takes over 20 s is counted in ``probe_errors`` (and its figure left out)."""
    legal = {"Authorization": f"Bearer {tokens['legal']}"}
    writer = {"Authorization": f"Bearer {tokens['writer']}"}
    cases: list[float] = []
    proofs: list[float] = []
    visible: list[float] = []
    errors = 0
    lag_before: dict[float, float] = {}
    lag_after: dict[float, float] = {}
    async with aiohttp.ClientSession(timeout=PROBE_TIMEOUT) as session:

        async def timed(path: str) -> float | None:
            nonlocal errors
            t = time.perf_counter()
            try:
                async with session.get(url + path, headers=legal) as resp:
                    await resp.read()
                    return time.perf_counter() - t if resp.status == 200 else None
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
                return None

        try:
            lag_before = await _scrape_lag(session, url)
        except (TimeoutError, aiohttp.ClientError):
            errors += 1
        n = 0
        while not stop.is_set():
            n += 1
            took = await timed("/v1/cases")
            if took is not None:
                cases.append(took)
            seq = random.randrange(max(1, n * 10))  # committed long ago: every seq below the checkpoint
            took = await timed(f"/v1/proofs/inclusion?seq={seq}")
            if took is not None:
                proofs.append(took)
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
                try:
                    async with session.post(url + "/v1/events", json=body, headers=writer) as resp:
                        await resp.read()
                    acked = time.perf_counter()
                    for _ in range(200):
                        if await timed(f"/v1/employees/{subject}/absence") is not None:
                            visible.append(time.perf_counter() - acked)
                            break
                        await asyncio.sleep(0.005)
                except (TimeoutError, aiohttp.ClientError):
                    errors += 1
            await asyncio.sleep(0.05)
        try:
            lag_after = await _scrape_lag(session, url)
        except (TimeoutError, aiohttp.ClientError):
            errors += 1
    return {
        "cases_p99_ms": _percentile(cases, 0.99) * 1000,
        "inclusion_p99_ms": _percentile(proofs, 0.99) * 1000,
        "reads": float(len(cases) + len(proofs)),
        "checkpoint_lag_p99_s": _histogram_p99(lag_before, lag_after) if lag_before and lag_after else float("nan"),
        "projection_lag_p99_s": _percentile(visible, 0.99),
        "projection_samples": float(len(visible)),
        "probe_errors": float(errors),
    }


async def _wrk_with_probe(url: str, tokens: dict[str, str], env: dict[str, str], seconds: float) -> WrkResult:
    stop = asyncio.Event()
    task = asyncio.create_task(probe(url, tokens, stop))
    result = await asyncio.to_thread(run_wrk, "probe", url + "/v1/events", "single.lua", 64, seconds, env)
    stop.set()
    result.probe = await task
    return result


@dataclass
class Target:
    """One ``hrledger serve`` under test: a checkout, its server, its tokens."""

    label: str
    root: Path
    server: Server
    tokens: dict[str, str]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def _round(bare: Server, targets: list[Target], seconds: float, r: int) -> list[WrkResult]:
    """One round: the bare app's two phases, then every target's four, one after the other."""
    out = [
        run_wrk("bare aiohttp GET constant", bare.url + "/", "get.lua", 64, seconds, {}),
        run_wrk(
            "bare aiohttp POST JSON event -> 201",
            bare.url + "/v1/events",
            "single.lua",
            64,
            seconds,
            {"WRK_PREFIX": f"b{r}"},
        ),
    ]
    for t in targets:
        env = {"WRK_TOKEN": t.tokens["writer"]}
        url = t.server.url
        out += [
            run_wrk(f"{t.label} GET /healthz", url + "/healthz", "get.lua", 64, seconds, {}),
            run_wrk(
                f"{t.label} single-event POST",
                url + "/v1/events",
                "single.lua",
                64,
                seconds,
                {**env, "WRK_PREFIX": f"s64r{r}"},
            ),
            run_wrk(
                f"{t.label} single-event POST",
                url + "/v1/events",
                "single.lua",
                256,
                seconds,
                {**env, "WRK_PREFIX": f"s256r{r}"},
            ),
            run_wrk(
                f"{t.label} batches of 100",
                url + "/v1/events",
                "batch.lua",
                16,
                seconds,
                {**env, "WRK_PREFIX": f"b100r{r}", "WRK_BATCH": "100"},
            ),
        ]
    return out


def run(
    seconds: float, roots: list[tuple[str, Path]], profile_dir: Path | None, rounds: int, profile_seconds: int = 10
) -> dict[str, Any]:
    """Every phase, ``rounds`` times interleaved (bare, then each target); returns medians and ratios."""
    work = Path(tempfile.mkdtemp(prefix="hrledger-http-"))
    targets: list[Target] = []
    port = free_port()
    bare = Server(["-m", "bench.bare", "--port", str(port)], ROOT, port)
    results: list[WrkResult] = []
    probes: dict[str, dict[str, float]] = {}
    profiles: dict[str, Any] = {}
    codes: dict[str, int] = {}
    try:
        bare.wait_ready("/")
        for label, root in roots:
            data = work / label.replace(" ", "-")
            tokens = make_ledger(root, data)
            server = start_hrledger(root, data, uvloop=label.endswith("+uvloop"))
            targets.append(Target(label, root, server, tokens))
        for r in range(rounds):
            results += _round(bare, targets, seconds, r)
        # The probes run at the goal's rate (0.6 x the bare JSON POST), not at saturation: wrk's delay()
        # paces each of the 64 connections, so reads are measured beside ingest at that rate.
        bare_post = _median([r.requests_per_s for r in results if r.name.startswith("bare aiohttp POST")])
        pace = {"WRK_DELAY_MS": str(max(1, round(64 * 1000 / (GOAL_RATIO * bare_post))))}
        for t in targets:
            env = {"WRK_TOKEN": t.tokens["writer"], "WRK_PREFIX": "probe", **pace}
            probed = asyncio.run(_wrk_with_probe(t.server.url, t.tokens, env, seconds))
            probes[t.label] = {**probed.probe, "target_rate": GOAL_RATIO * bare_post, "rate": probed.requests_per_s}
            if profile_dir:
                out = profile_dir / t.label.replace(" ", "-")
                env = {"WRK_TOKEN": t.tokens["writer"]}
                profiles[t.label] = {
                    "posts only": _profile(t.server, env, out, None, profile_seconds),
                    "posts and reads": _profile(t.server, env, out, t.tokens, profile_seconds),
                }
    finally:
        bare.stop()
        for t in targets:
            codes[t.label] = t.server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return _summary(results, targets, probes, profiles, codes, rounds)


def _summary(
    results: list[WrkResult],
    targets: list[Target],
    probes: dict[str, dict[str, float]],
    profiles: dict[str, Any],
    codes: dict[str, int],
    rounds: int,
) -> dict[str, Any]:
    """Medians over rounds per phase, and each ratio as the median of the per-round ratios."""
    keys = list(dict.fromkeys((r.name, r.connections) for r in results))
    rows = []
    for name, conns in keys:
        runs = [r for r in results if (r.name, r.connections) == (name, conns)]
        rows.append(
            {
                "name": name,
                "connections": conns,
                "requests_per_s": _median([r.requests_per_s for r in runs]),
                "events_per_s": _median([r.events_per_s for r in runs]),
                "p50_ms": _median([r.p50_ms for r in runs]),
                "p99_ms": _median([r.p99_ms for r in runs]),
                "errors": sum(r.errors for r in runs),
                "each_round": [round(r.requests_per_s) for r in runs],
                "command": runs[0].command,
            }
        )

    def per_round(name: str, conns: int) -> list[float]:
        return [r.requests_per_s for r in results if (r.name, r.connections) == (name, conns)]

    bare_post = per_round("bare aiohttp POST JSON event -> 201", 64)
    bare_get = per_round("bare aiohttp GET constant", 64)
    ratios = {}
    for t in targets:
        single = per_round(f"{t.label} single-event POST", 64)
        health = per_round(f"{t.label} GET /healthz", 64)
        ratios[t.label] = {
            "single_post_to_bare_post": _median([a / b for a, b in zip(single, bare_post, strict=True)]),
            "healthz_to_bare_get": _median([a / b for a, b in zip(health, bare_get, strict=True)]),
        }
    return {
        "rows": rows,
        "ratios": ratios,
        "probes": probes,
        "profiles": profiles,
        "server_exit": codes,
        "rounds": rounds,
        "targets": {t.label: str(t.root) for t in targets},
    }


def _profile(
    server: Server, env: dict[str, str], out: Path, reads: dict[str, str] | None, seconds: int
) -> dict[str, Any]:
    """py-spy for ``seconds`` under single-event POSTs (wrk runs 4 s longer than the recording), with the read
    probe when ``reads`` holds its tokens (HR staff reading cases while HR systems post)."""
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"single-event{'-reads' if reads else ''}.raw.txt"
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "-p", str(server.pid), "-d", str(seconds), "-f", "raw", "-o", str(raw)]
    load = subprocess.Popen(
        ["wrk", "-t1", "-c64", f"-d{seconds + 4}s", "-s", str(WRK_DIR / "single.lua"), server.url + "/v1/events"],
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
    """The medians as a table, then the ratios, probes and profile shares."""
    print(f"{report['rounds']} round(s), medians; targets: {report['targets']}")
    print(f"{'what':<44} {'conns':>5} {'req/s':>9} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  rounds")
    for r in report["rows"]:
        print(
            f"{r['name']:<44} {r['connections']:>5} {r['requests_per_s']:>9,.0f} {r['events_per_s']:>9,.0f} "
            f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6}  {r['each_round']}"
        )
    for label, ratio in report["ratios"].items():
        print(
            f"{label}: single-event POST / bare JSON POST {ratio['single_post_to_bare_post']:.2f}; "
            f"GET /healthz / bare GET {ratio['healthz_to_bare_get']:.2f}"
        )
    for label, probe in report["probes"].items():
        print(f"{label} while single-event POSTs ran: " + ", ".join(f"{k} {v:.3g}" for k, v in probe.items()))
    for label, shares in report["profiles"].items():
        print(f"{label} profile: " + json.dumps(shares))


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions (ratios: median)")
    parser.add_argument(
        "--root",
        type=Path,
        action="append",
        help="a checkout whose hrledger serve is measured "
        "(repeat for before/after in one run; default this one); LABEL=DIR names it; a LABEL ending in "
        "+uvloop runs it on uvloop's event loop",
    )
    parser.add_argument("--profile", type=Path, help="directory for the py-spy profiles (raw format)")
    parser.add_argument(
        "--profile-seconds",
        type=int,
        default=10,
        help="length of each profile; 70 spans one 60 s escalation tick (a checkout that projects at ticks)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs it: apt-get install wrk)")
    roots = []
    for item in args.root or [ROOT]:
        text = str(item)
        label, _, path = text.rpartition("=") if "=" in text else ("hrledger", "", text)
        roots.append((label, Path(path).resolve()))
    report = run(args.seconds, roots, args.profile, args.rounds, args.profile_seconds)
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
