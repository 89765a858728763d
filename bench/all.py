"""Every benchmark in one run, written to docs/performance.md (``make bench`` runs this).

    .venv/bin/python -m bench.all [--quick] [--out docs/performance.md] [--soak-seconds 60]
                                  [--sizes 1000,10000,100000,1000000] [--before COMMIT] [--proofs-size N]

Runs, one after the other (never two at once, so they do not steal each other's cores): bench.log_bench
(Merkle operations against pymerkle), bench.ingest (durable appends against pyeventsourcing's SQLite
recorder and the raw SQLite insert rate of the same rows), bench.http (wrk against a bare aiohttp app and
``hrledger serve`` in one run; with ``--before COMMIT`` also that commit's ``hrledger serve``, checked out
in a temporary git worktree, for a before/after table), bench.mongo_vs_sqlite when present, bench.scaling
(cost against log size), bench.proofs_at_scale (proofs at 10M entries, measured), bench.soak (RSS and
latency over time), and a cProfile of the ingest path. ``--quick`` uses small sizes and short phases.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.sections import ANALYSIS, STRESS, http_section, projection_section, proofs_section, split_section

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], timeout: float) -> tuple[str, float, int]:
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        out, code = done.stdout + (f"\n[stderr]\n{done.stderr[-2000:]}" if done.returncode else ""), done.returncode
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        out, code = f"(stopped after {timeout:g} s)\n{partial}", -1
    elapsed = time.perf_counter() - started
    print(f"  python -m {' '.join(args)}: {elapsed:.0f} s, exit {code}", file=sys.stderr, flush=True)
    return out if isinstance(out, str) else out.decode(), elapsed, code


def _cmd(args: list[str]) -> str:
    return "`.venv/bin/python -m " + " ".join(args) + "`"


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    import os

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def _log_bench_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        parts = line.rsplit(None, 3)
        if len(parts) == 4 and parts[3].endswith("x") and not line.startswith("metric"):
            rows.append([parts[0].strip(), parts[1], parts[2], parts[3]])
    return rows


def _http_args(seconds: int, rounds: int, before: str | None) -> tuple[list[str], None]:
    """bench.http's arguments as the doc shows them."""
    args = ["bench.http", "--seconds", str(seconds), "--rounds", str(rounds), "--profile", "/tmp/hrledger-profiles"]
    if before:
        args += ["--root", f"before-{before}=<worktree of {before}>", "--root", f"after={ROOT}"]
    return args, None


def _http(seconds: int, rounds: int, before: str | None) -> tuple[list[str], dict[str, Any] | None]:
    """bench.http on this checkout, and on ``before`` (a commit, in a temporary worktree) when given."""
    import shutil

    if shutil.which("wrk") is None:
        return ["bench.http"], None
    args, _ = _http_args(seconds, rounds, None)
    worktree: Path | None = None
    if before:
        worktree = Path(tempfile.mkdtemp(prefix="hrledger-before-")) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), before], cwd=ROOT, check=True, capture_output=True
        )
        args += ["--root", f"before-{before}={worktree}", "--root", f"after={ROOT}"]
    try:
        out, _, code = _run([*args, "--json"], 3600)
    finally:
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    if code != 0:
        print(f"bench.http failed:\n{out[-3000:]}", file=sys.stderr)
    shown = [a if not a.startswith("before-") else a.split("=")[0] + "=<worktree of " + str(before) + ">" for a in args]
    return shown, (json.loads(out.strip().splitlines()[-1]) if code == 0 else None)


def _profile(n: int) -> str:
    import asyncio

    from bench.ingest import run_ours

    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory() as tmp:
        profiler.enable()
        asyncio.run(run_ours(n, 1000, Path(tmp)))
        profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("tottime").print_stats(12)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    total = next((ln.strip() for ln in lines if "function calls" in ln), "")
    return total + "\n" + "\n".join(ln.replace(str(ROOT) + "/", "") for ln in lines[start:])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.all", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short phases")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--soak-seconds", type=float, default=None)
    parser.add_argument("--sizes", default=None, help="sizes for bench.scaling, comma-separated")
    parser.add_argument("--before", help="a commit whose hrledger serve bench.http measures beside this one")
    parser.add_argument("--proofs-size", type=int, default=None, help="entries for bench.proofs_at_scale")
    parser.add_argument("--proofs-json", help="use this earlier bench.proofs_at_scale --json output instead")
    parser.add_argument("--http-json", help="use this earlier bench.http --json output instead (with --before)")
    args = parser.parse_args()
    q = args.quick
    merkle_n, ingest_n = (20_000, 20_000) if q else (200_000, 100_000)
    sizes = args.sizes or ("1000,10000,100000" if q else "1000,10000,100000,1000000")
    soak_s = args.soak_seconds or (20.0 if q else 60.0)
    load_s = 3 if q else 10
    started = datetime.now(UTC)
    print(f"bench.all ({'quick' if q else 'full'}) started {started:%Y-%m-%d %H:%M} UTC", file=sys.stderr)

    log_args = ["bench.log_bench", "--n", str(merkle_n), "--batch", "1000", "--proofs", "500" if q else "2000"]
    log_out, _, _ = _run(log_args, 3600)
    ingest_args = ["bench.ingest", "--n", str(ingest_n), "--batch", "1000", "--json"]
    ingest_out, _, ingest_code = _run(ingest_args, 3600)
    ingest = json.loads(ingest_out.strip().splitlines()[-1]) if ingest_code == 0 else None
    if args.http_json:
        http_args, _ = _http_args(load_s, 1 if q else 3, args.before)
        http: dict[str, Any] | None = json.loads(Path(args.http_json).read_text().strip().splitlines()[-1])
    else:
        http_args, http = _http(load_s, 1 if q else 3, args.before)
    split_args = ["bench.split", "--n", "10000" if q else "20000", "--batch", "100", "--json"]
    split_out, _, split_code = _run(split_args, 1800)
    split = json.loads(split_out.strip().splitlines()[-1]) if split_code == 0 else None
    mongo = None
    if (ROOT / "bench" / "mongo_vs_sqlite.py").exists():
        mongo_args = ["bench.mongo_vs_sqlite", *(["--events", "5000", "--seconds", "10"] if q else [])]
        mongo = (mongo_args, *_run(mongo_args, 1800))
    scale_args = ["bench.scaling", "--sizes", sizes, "--json"]
    scale_out, _, scale_code = _run(scale_args, 7200)
    points = json.loads(scale_out.strip().splitlines()[-1]) if scale_code == 0 else []
    proofs_size = args.proofs_size or (200_000 if q else 10_000_000)
    proofs_args = ["bench.proofs_at_scale", "--size", str(proofs_size), "--json"]
    if args.proofs_json:
        proofs = json.loads(Path(args.proofs_json).read_text().strip().splitlines()[-1])
    else:
        proofs_out, _, proofs_code = _run(proofs_args, 4 * 3600)
        proofs = json.loads(proofs_out.strip().splitlines()[-1]) if proofs_code == 0 else None
    soak_args = ["bench.soak", "--seconds", str(soak_s), "--interval", str(max(2.0, soak_s / 12)), "--json"]
    soak_out, _, _ = _run(soak_args, soak_s + 300)
    soak_lines = [ln for ln in soak_out.splitlines() if ln.startswith('{"seconds"')]  # the summary, not a sample
    soak = json.loads(soak_lines[-1]) if soak_lines else None
    profile = _profile(ingest_n // 5)
    projection = []
    for extra in ([], ["--distinct-times"]):
        proj_args = ["bench.projection", *(["--facts", "20000"] if q else []), *extra, "--json"]
        proj_out, _, proj_code = _run(proj_args, 1800)
        projection.append((proj_args, json.loads(proj_out.strip().splitlines()[-1]) if proj_code == 0 else None))

    doc = render(
        args,
        q,
        started,
        log_args,
        log_out,
        ingest_args,
        ingest,
        (http_args, http),
        (split_args, split),
        (proofs_args, proofs),
        mongo,
        scale_args,
        points,
        soak_args,
        soak,
        profile,
        projection=projection,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(doc, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def render(
    args: argparse.Namespace,
    q: bool,
    started: datetime,
    log_args: list[str],
    log_out: str,
    ingest_args: list[str],
    ingest: dict[str, Any] | None,
    http: tuple[list[str], dict[str, Any] | None],
    split: tuple[list[str], dict[str, Any] | None],
    proofs: tuple[list[str], dict[str, Any] | None],
    mongo: tuple[list[str], str, float, int] | None,
    scale_args: list[str],
    points: list[dict[str, Any]],
    soak_args: list[str],
    soak: dict[str, Any] | None,
    profile: str,
    *,
    projection: list[tuple[list[str], dict[str, Any] | None]] | None = None,
) -> str:
    out: list[str] = []
    w = out.append
    w("# Performance\n")
    w(
        f"Written by `make bench` (`python -m bench.all{' --quick' if q else ''}`) on {started:%Y-%m-%d %H:%M} UTC. "
        f"Machine: {_machine()}. Every ratio below compares two figures measured in this same run, on this "
        "machine, one benchmark at a time. Durable means WAL with `synchronous=FULL`, one fsync per commit.\n"
    )

    w("## Summary\n")
    w("| figure | value | command |\n|---|---|---|")
    if ingest:
        ours, es, raw = ingest["hrledger"], ingest["eventsourcing"], ingest["raw-sqlite"]
        w(
            f"| durable ingest, hrledger (batches of 1000) | {ours['events_per_s']:,.0f} events/s "
            f"| {_cmd(ingest_args)} |"
        )
        w(f"| durable ingest, eventsourcing SQLite recorder | {es['events_per_s']:,.0f} events/s | same run |")
        w(f"| raw SQLite insert of the same rows (physical limit) | {raw['events_per_s']:,.0f} events/s | same run |")
    for p in points[-1:]:
        w(f"| append batch of 1000 at {p['size']:,} entries | {p['append_batch_ms']:.1f} ms | {_cmd(scale_args)} |")
        w(
            f"| inclusion / consistency proof at {p['size']:,} | "
            f"{p['inclusion_ms']:.2f} / {p['consistency_ms']:.2f} ms | same run |"
        )
    if http[1]:
        for label, ratio in http[1]["ratios"].items():
            w(
                f"| {label}: single-event POST / bare aiohttp JSON POST (wrk) | "
                f"{ratio['single_post_to_bare_post']:.2f} | {_cmd(http[0])} |"
            )
    if proofs[1]:
        top = proofs[1]["points"][-1]
        w(
            f"| inclusion / consistency proof p99 at {top['size']:,} entries (measured) | "
            f"{top['inclusion']['p99_ms']:.2f} / {top['consistency']['p99_ms']:.2f} ms, RSS {top['rss_mib']:.0f} MiB "
            f"| {_cmd(proofs[0])} |"
        )
    if soak:
        w(f"| soak {soak['seconds']:g} s at {soak['rate']:g} req/s | {soak['verdict']} | {_cmd(soak_args)} |")
    w("")

    w("## Merkle log against pymerkle\n")
    w(
        f"Command: {_cmd(log_args)}. Ours appends real events through the Log (canonical JSON, salted digest, "
        "durable commit with tree nodes); pymerkle's SqliteTree appends comparable leaf bytes. Ratio: how many times "
        "better hrledger is (>1 = hrledger better).\n"
    )
    rows = _log_bench_rows(log_out)
    if rows:
        w("| metric | hrledger | pymerkle | ratio |\n|---|---|---|---|")
        w("\n".join(f"| {' | '.join(r)} |" for r in rows))
    else:
        w("```\n" + log_out.strip() + "\n```")
    w("")

    w("## Durable appends: hrledger, eventsourcing, raw SQLite\n")
    w(f"Command: {_cmd(ingest_args)} (each side in its own process, fresh database).\n")
    if ingest:
        raw_rate = ingest["raw-sqlite"]["events_per_s"]
        w(
            "| side | events/s | seconds | peak RSS MiB | share of raw SQLite | hrledger / side |\n"
            "|---|---|---|---|---|---|"
        )
        for side, r in ingest.items():
            w(
                f"| {side} | {r['events_per_s']:,.0f} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | "
                f"{r['events_per_s'] / raw_rate:.0%} | {ingest['hrledger']['events_per_s'] / r['events_per_s']:.2f}x |"
            )
        es = ingest["eventsourcing"]
        w(
            f"\neventsourcing's datastore ran with journal_mode={es.get('journal_mode')} and synchronous="
            f"{es.get('synchronous')} (2 = FULL). It stores one row per event in one table with one unique index; "
            "hrledger also writes the Merkle nodes (about one per event), keeps two secondary indexes (subject, "
            "type), canonicalises the data and the leaf (RFC 8785), salts and hashes the data, and checks every "
            "event_id for idempotency before the commit. The raw row is the ceiling: the same rows hrledger wrote, "
            "inserted with no Python work at all.\n"
        )
    else:
        w("(bench.ingest failed in this run)\n")

    if http[1]:
        out.extend(http_section(http[1], _cmd(http[0]).strip("`")))
    else:
        w("(bench.http failed or wrk is missing in this run)\n")
    if split[1]:
        batch = next(
            (
                r["events_per_s"]
                for r in (http[1] or {}).get("rows", [])
                if r["name"] == "after batches of 100" or r["name"] == "hrledger batches of 100"
            ),
            None,
        )
        out.extend(split_section(split[1], _cmd(split[0]).strip("`"), split[1]["raw_sqlite_events_per_s"], batch))
    if mongo:
        w("## MongoDB against SQLite\n")
        w(f"Command: {_cmd(mongo[0])}.\n")
        w("```\n" + mongo[1].strip() + "\n```\n")

    w("## Cost against log size\n")
    w(
        f"Command: {_cmd(scale_args)}. Sizes are the measured log sizes (the target plus the 5 timed batches), "
        "grown through `Log.append` with real events; the next section measures proofs up to 10M entries.\n"
    )
    if points:
        w(
            "| entries | append batch of 1000, ms | events/s | inclusion proof ms | consistency proof ms "
            "| fsck entries/s | DB MiB | peak RSS MiB |\n|---|---|---|---|---|---|---|---|"
        )
        for p in points:
            fsck = f"{p['fsck_entries_per_s']:,.0f}" if p.get("fsck_entries_per_s") else "-"
            w(
                f"| {p['size']:,} | {p['append_batch_ms']:.1f} | {p['append_events_per_s']:,.0f} | "
                f"{p['inclusion_ms']:.3f} | {p['consistency_ms']:.3f} | {fsck} | {p['db_mb']:.0f} | "
                f"{p['peak_rss_mb']:.0f} |"
            )
        w("")
    if proofs[1]:
        out.extend(proofs_section(proofs[1], _cmd(proofs[0]).strip("`")))
    else:
        w("(bench.proofs_at_scale failed in this run)\n")
    w("## Soak\n")
    if soak:
        w(
            f"Command: {_cmd(soak_args)}: {soak['rate']:g} requests/s (90 % single events, 10 % batches of 20, one "
            f"auditor read per 10 writes) for {soak['seconds']:g} s, {soak['events']:,} events written.\n"
        )
        w(
            "| t (s) | server RSS MiB | requests in interval | p50 ms | p99 ms | errors so far |\n"
            "|---|---|---|---|---|---|"
        )
        for s in soak["samples"]:
            w(
                f"| {s['t']} | {s['rss_mb']:.1f} | {s['requests']} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | "
                f"{s['errors']} |"
            )
        w(f"\nVerdict: {soak['verdict']}. Server exit code after SIGTERM: {soak['exit_code']}.\n")
    else:
        w("(bench.soak failed in this run)\n")

    if projection:
        out.extend(projection_section([(_cmd(a), r) for a, r in projection]))
    w("## Where the time goes (cProfile of the ingest path)\n")
    w("```\n" + profile + "\n```\n")
    w(ANALYSIS)
    w(STRESS)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
