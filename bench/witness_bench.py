"""Cosigning latency: from a checkpoint's publication to its cosignature, under the service benchmark's ingest load.

    .venv/bin/python -m bench.witness_bench [--seconds 10] [--connections 64] [--min-interval 0.25]

Starts two ``hrledger witness serve`` processes and ``hrledger serve --witnesses`` (quorum 2) on a fresh ledger,
drives single-event POSTs exactly as ``bench.load`` does, then reads the store: for every checkpoint published,
the delay until a checkpoint at least as large carried a cosignature by each witness, and by both (the quorum).
Both times are the server's clock (``published_at`` of the checkpoint, ``received_at`` of each cosignature), so
the figures need no polling. Checkpoints are published after each group commit, many per second under load;
witness rounds run at most every ``--min-interval`` seconds and always send the latest, so most checkpoints
are covered by a later one's cosignature: that wait is part of the latency measured.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.load import Phase, make_tokens, percentile, run_phase, serving_url
from ledger.admin.datadir import init_datadir, load_datadir
from ledger.services.witness_records import COSIGNATURES
from ledger.storage.sqlite import SQLiteStorage
from ledger.witness.datadir import init_witness_dir

ROOT = Path(__file__).resolve().parent.parent
WITNESSES = ("lawfirm.example/witness", "union.example/witness")


def _t(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def _witness(wdir: Path, log_vkey: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "ledger.admin.cli", "witness", "serve", "--data", str(wdir), "--port", "0"],
        *["--log", log_vkey, "--rate", "1000", "--burst", "1000"],
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the witness exited before listening")
        if line.startswith("hrledger witness serving on http://"):
            return proc, line.split()[-1]


def latencies(published: list[tuple[int, float]], cosigned: list[dict[str, Any]], quorum: int) -> dict[str, Any]:
    """Per witness and for the quorum: for each published (size, time), the delay until a checkpoint of at least
    that size held the cosignature(s); the suffix minimum over sizes answers each in one pass."""
    cosigned = sorted(cosigned, key=lambda d: d["size"])
    sizes = [d["size"] for d in cosigned]
    labels = sorted({label for d in cosigned for label in d["lines"]})
    series: dict[str, list[float]] = {key: [] for key in [*labels, "quorum"]}
    best: dict[str, list[float]] = {}
    for key in series:
        times = []
        for d in cosigned:
            got = sorted(_t(v["received_at"]) for v in d["lines"].values())
            if key == "quorum":
                times.append(got[quorum - 1] if len(got) >= quorum else float("inf"))
            else:
                line = d["lines"].get(key)
                times.append(_t(line["received_at"]) if line else float("inf"))
        for i in range(len(times) - 2, -1, -1):
            times[i] = min(times[i], times[i + 1])
        best[key] = times
    uncovered = dict.fromkeys(series, 0)
    for size, at in published:
        i = bisect.bisect_left(sizes, size)
        for key, times in best.items():
            if i < len(times) and times[i] != float("inf"):
                series[key].append(max(0.0, times[i] - at))
            else:
                uncovered[key] += 1
    return {"series": series, "uncovered": uncovered}


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="hrledger-witness-bench-", dir=args.tmp) as tmp:
        data = Path(tmp) / "d"
        init_datadir(data, origin="bench.example/log")
        log_vkey = load_datadir(data).signer().vkey
        writer, _ = await make_tokens(data)
        procs: list[asyncio.subprocess.Process] = []
        entries = []
        for n, name in enumerate(WITNESSES):
            wdir = init_witness_dir(Path(tmp) / f"w{n}", name, os.urandom(32))
            proc, url = await _witness(wdir.path, log_vkey)
            procs.append(proc)
            entries.append(f'[[witness]]\nvkey = "{wdir.cosigner().vkey}"\nurl = "{url}"\n')
        policy = Path(tmp) / "witnesses.toml"
        policy.write_text(f"quorum = 2\nmin_interval_seconds = {args.min_interval}\n\n" + "\n".join(entries))
        server = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "ledger.admin.cli", "serve", "--data", str(data), "--port", "0"],
            *["--witnesses", str(policy), "--no-access-log"],
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.insert(0, server)
        try:
            base = await serving_url(server)
            print(
                f"server {base}, 2 witnesses (quorum 2), min interval {args.min_interval:g} s, "
                f"{args.seconds:g} s of single-event POSTs on {args.connections} connections",
                flush=True,
            )
            phase = Phase("single-event POSTs")
            await run_phase(phase, f"{base}/v1/events", writer, args.connections, 1, args.seconds, [0], "aiohttp")
            started = time.time() - phase.elapsed
            await asyncio.sleep(3.0)  # the last rounds land
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
                await proc.wait()
        store = SQLiteStorage(data / "ledger.sqlite3")
        await store.open()
        try:
            published = [
                (cp.size, _t(cp.published_at))
                for cp in await store.list_checkpoints()
                if _t(cp.published_at) >= started
            ]
            cosigned = [doc for _, doc in await store.list_records(COSIGNATURES, limit=10_000_000)]
        finally:
            await store.close()
    result = latencies(published, cosigned, quorum=2)
    p50, p99 = percentile(phase.latencies, 0.5) * 1000, percentile(phase.latencies, 0.99) * 1000
    print(
        f"ingest {phase.events / phase.elapsed:,.0f} events/s, request p50 {p50:.1f} ms p99 {p99:.1f} ms, "
        f"{phase.errors} errors; "
        f"{len(published)} checkpoints published, {len(cosigned)} cosigned",
        flush=True,
    )
    for key, values in result["series"].items():
        name = "both witnesses (quorum 2)" if key == "quorum" else key
        print(
            f"publication -> cosignature  {name:<48} p50 {percentile(values, 0.5) * 1000:7.1f} ms  "
            f"p99 {percentile(values, 0.99) * 1000:7.1f} ms  ({len(values)} checkpoints, "
            f"{result['uncovered'][key]} not covered by the end)",
            flush=True,
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.witness_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the ingest load")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections, single events")
    parser.add_argument("--min-interval", type=float, default=0.25, help="the policy's min_interval_seconds")
    parser.add_argument("--tmp", default=None, help="directory for the temporary ledger (default: system temp)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
