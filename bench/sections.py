"""The sections of docs/performance.md written from bench.http and bench.proofs_at_scale (for bench.all)."""

from __future__ import annotations

import math
from typing import Any

GOAL_SINGLE = 0.6  # issue 17: single-event POSTs >= 0.6 x the bare aiohttp JSON POST
GOAL_PROOF_P99_MS = 5.0


def _fmt(value: float, digits: int = 0) -> str:
    """A number for a table cell; a dash for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def http_section(report: dict[str, Any], command: str) -> list[str]:
    """The wrk table (medians over rounds), the ratios, the probes under ingest and the profile shares."""
    out = ["## The service under wrk, against the bare stack\n"]
    out.append(
        f"Command: `{command}`. One run: a bare aiohttp app (`bench/bare.py`: parse the JSON event, answer 201) "
        f"and each `hrledger serve` below start together; each round drives every phase once with `wrk` (one "
        f"thread, loopback, unique event_ids from `bench/wrk/*.lua`), {report['rounds']} round(s), medians. "
        "Ratios are medians of the per-round ratios, so a phase is compared with the bare app measured seconds "
        "before it. Targets: " + ", ".join(f"`{k}` = {v}" for k, v in report["targets"].items()) + ".\n"
    )
    out.append("| what | connections | req/s | events/s | p50 ms | p99 ms | errors | each round (req/s) |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in report["rows"]:
        out.append(
            f"| {r['name']} | {r['connections']} | {_fmt(r['requests_per_s'])} | {_fmt(r['events_per_s'])} | "
            f"{_fmt(r['p50_ms'], 1)} | {_fmt(r['p99_ms'], 1)} | {r['errors']} | {r['each_round']} |"
        )
    out.append("")
    out.append("| target | single-event POST / bare JSON POST (goal >= 0.6) | GET /healthz / bare GET |")
    out.append("|---|---|---|")
    for label, ratio in report["ratios"].items():
        mark = "met" if ratio["single_post_to_bare_post"] >= GOAL_SINGLE else "not met"
        out.append(
            f"| {label} | {ratio['single_post_to_bare_post']:.2f} ({mark}) | {ratio['healthz_to_bare_get']:.2f} |"
        )
    out.append("")
    if report["probes"]:
        out.append(
            "While single-event POSTs ran at 64 connections, a probe in the benchmark process read "
            "`GET /v1/cases` and `GET /v1/proofs/inclusion` every ~50 ms, posted an event about a new employee "
            "every fifth round and polled `GET /v1/employees/{id}/absence` until it answered (projection lag), "
            "and took the server's `hrledger_checkpoint_lag_seconds` histogram before and after (ack -> signed "
            "checkpoint; its p99 is a bucket edge).\n"
        )
        out.append("| target | cases p99 ms | inclusion p99 ms | ack->checkpoint p99 s | projection lag p99 s |")
        out.append("|---|---|---|---|---|")
        for label, p in report["probes"].items():
            out.append(
                f"| {label} | {_fmt(p['cases_p99_ms'], 1)} | {_fmt(p['inclusion_p99_ms'], 1)} | "
                f"{_fmt(p['checkpoint_lag_p99_s'], 3)} | {_fmt(p['projection_lag_p99_s'], 3)} |"
            )
        out.append("")
    if report["profiles"]:
        out.append(
            "Profiles: `py-spy record -p PID -d 10 -f raw` of each server under single-event POSTs (wrk, 64 "
            "connections), once with POSTs only and once with the read probe running; shares from "
            "`python -m bench.profile` (a sample counts for the projection when any frame of its stack is the "
            "follower or escalator catching up, reading entries back, decoding facts or indexing them).\n"
        )
        out.append("| target | load | samples | projection share | main thread samples | worker thread samples |")
        out.append("|---|---|---|---|---|---|")
        for label, kinds in report["profiles"].items():
            for kind, prof in kinds.items():
                threads = prof.get("threads", {})
                out.append(
                    f"| {label} | {kind} | {prof['samples']} | {prof['shares']['projection']:.1%} | "
                    f"{threads.get('main', 0)} | {threads.get('workers', 0)} |"
                )
        out.append("")
    return out


def proofs_section(report: dict[str, Any], command: str) -> list[str]:
    """The proofs-at-scale table: every size measured, none projected."""
    out = ["## Proofs at 10,000,000 entries (measured)\n"]
    out.append(
        f"Command: `{command}`. The tree is built through `SQLiteStorage.append` in batches of "
        f"{report['batch']:,} (durable commits of entries and their perfect nodes, synthetic small leaves), and "
        f"at each size {report['proofs']:,} inclusion and as many consistency proofs are read through "
        "`ledger.log.proofs.Proofs` as the service reads them, a sample verified against the root. RSS is the "
        "process's resident memory at that point (not a peak). CPU is this thread's CPU time per inclusion "
        "proof; the wall-clock tail above it is time spent waiting for a core (the load average says how "
        "busy the machine was).\n"
    )
    out.append(
        "| entries | inclusion p50 / p99 ms | consistency p50 / p99 ms | inclusion CPU p99 ms | proof hashes "
        "| RSS MiB | DB MiB | built s | load |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    for p in report["points"]:
        cpu = p.get("inclusion_cpu", {}).get("p99_ms", float("nan"))
        out.append(
            f"| {p['size']:,} | {p['inclusion']['p50_ms']:.3f} / {p['inclusion']['p99_ms']:.3f} | "
            f"{p['consistency']['p50_ms']:.3f} / {p['consistency']['p99_ms']:.3f} | {_fmt(cpu, 3)} | "
            f"{p['proof_hashes']} | {p['rss_mib']:.1f} | {p['db_mib']:,} | {p['built_s']:.0f} | "
            f"{p.get('load_average', '-')} |"
        )
    out.append("")
    return out
