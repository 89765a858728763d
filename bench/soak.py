"""Soak: a steady load for a given time against a service this script starts; RSS and latency over time.

    .venv/bin/python -m bench.soak [--seconds 600] [--interval 10] [--rate 300] [--json]

Starts ``hrledger serve`` on a fresh ledger (loopback, free port), then holds ``--rate`` requests per second
(a mix: 90 % single events, 10 % batches of 20, plus one auditor read per 10 writes), paced, never faster,
for ``--seconds`` (at most an hour). Every ``--interval`` seconds it samples the server's RSS (VmRSS from
/proc) and the latency of the requests of that interval. Verdict on RSS: flat when the mean RSS of the last
third of the samples exceeds that of the second third by less than 5 % and 8 MiB (the first third is
warm-up: caches, allocator arenas, the prometheus registry fill up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import ROOT, make_tokens, percentile, serving_url
from ledger.admin.datadir import init_datadir

MAX_SECONDS = 3600.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def verdict(samples: list[dict[str, Any]]) -> tuple[bool, str]:
    if len(samples) < 3:
        return False, "too few samples for a verdict (run longer or sample more often)"
    third = len(samples) // 3
    middle = [s["rss_mb"] for s in samples[third : 2 * third]]
    last = [s["rss_mb"] for s in samples[2 * third :]]
    a, b = sum(middle) / len(middle), sum(last) / len(last)
    growth = b - a
    flat = growth <= 0 or (growth < 0.05 * a and growth < 8.0)
    return flat, (
        f"RSS {'flat' if flat else 'GROWING'}: mean {a:.1f} MiB in the middle third, {b:.1f} MiB in the "
        f"last third ({growth:+.1f} MiB, {growth / a:+.1%})"
    )


async def soak(seconds: float, interval: float, rate: float, tmp: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hrledger-soak-", dir=tmp) as workdir:
        data = Path(workdir) / "d"
        init_datadir(data, origin="soak.example/log")
        writer, auditor = await make_tokens(data)
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ledger.admin.cli",
            "serve",
            "--data",
            str(data),
            "--port",
            "0",
            "--no-access-log",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert server.stdout is not None
        base = await serving_url(server)
        samples: list[dict[str, Any]] = []
        latencies: list[float] = []
        errors = [0]
        counter = [0]
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
                wh = {"Authorization": f"Bearer {writer}"}
                ah = {"Authorization": f"Bearer {auditor}"}

                async def one(n: int) -> None:
                    started = time.perf_counter()
                    try:
                        if n % 10 == 9:
                            async with session.get(f"{base}/v1/entries", params={"limit": "20"}, headers=ah) as r:
                                await r.read()
                                ok = r.status == 200
                        else:
                            k = counter[0]
                            counter[0] += 20 if n % 10 == 0 else 1
                            evs = [
                                {
                                    "event_id": f"soak-{k + i}",
                                    "type": "attendance.clock_in",
                                    "subject": f"E{(k + i) % 5000}",
                                    "occurred_at": "2026-01-05T09:00:00+08:00",
                                    "source": "soak",
                                    "data": {"method": "face"},
                                }
                                for i in range(20 if n % 10 == 0 else 1)
                            ]
                            body = {"events": evs} if len(evs) > 1 else evs[0]
                            async with session.post(f"{base}/v1/events", json=body, headers=wh) as r:
                                await r.read()
                                ok = r.status in (200, 201)
                    except aiohttp.ClientError:
                        ok = False
                    if ok:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors[0] += 1

                started = time.perf_counter()
                next_sample = started + interval
                tasks: set[asyncio.Task[None]] = set()
                n = 0
                while (now := time.perf_counter()) - started < seconds:
                    due = started + n / rate
                    if now >= next_sample:
                        samples.append(
                            {
                                "t": round(now - started),
                                "rss_mb": rss_mb(server.pid),
                                "requests": len(latencies),
                                "p50_ms": percentile(latencies, 0.5) * 1e3,
                                "p99_ms": percentile(latencies, 0.99) * 1e3,
                                "errors": errors[0],
                                "events": counter[0],
                            }
                        )
                        print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
                        latencies.clear()
                        next_sample += interval
                    elif now >= due:
                        task = asyncio.create_task(one(n))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        n += 1
                    else:
                        await asyncio.sleep(min(due, next_sample) - now)
                await asyncio.gather(*tasks)
        finally:
            server.send_signal(signal.SIGTERM)
            code = await server.wait()
    flat, text = verdict(samples)
    return {
        "seconds": seconds,
        "rate": rate,
        "samples": samples,
        "flat": flat,
        "verdict": text,
        "exit_code": code,
        "events": counter[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help=f"duration (default 600, at most {MAX_SECONDS:g})")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second")
    parser.add_argument("--tmp", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS)
    result = asyncio.run(soak(seconds, args.interval, args.rate, args.tmp))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{'t s':>6}{'RSS MiB':>10}{'requests':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for s in result["samples"]:
            print(
                f"{s['t']:>6}{s['rss_mb']:>10.1f}{s['requests']:>10}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
                f"{s['errors']:>8}"
            )
        print(result["verdict"])
    return 0 if result["flat"] and result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
