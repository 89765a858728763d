"""The projection in memory and in time: bytes per fact held, and milliseconds per ``Projector.cases``.

    .venv/bin/python -m bench.projection [--subjects 5000] [--facts 100000] [--leaves 500] [--rounds 20]
                                         [--distinct-times] [--json]

Facts are decoded from stored entries as the service's follower decodes a commit (``fact_from_entry``):
attendance clock-ins spread over ``--subjects`` employees (the shape ``bench.http`` posts), then
``--leaves`` of them get an approved leave that ended in the past with no clock-in since, so each is an open,
overdue case. Memory: ``tracemalloc`` around feeding the attendance facts (everything the projector keeps for
them: the facts, their times and data, the per-subject timelines, the event_id index), divided by their
number. Time: the median of ``--rounds`` calls of ``cases(as_of)`` with a different ``as_of`` each (as
the service's clock gives), first with attendance only, then with the leaves; then ``attention(as_of)``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from datetime import datetime, timedelta
from typing import Any

from ledger.core.records import StoredEntry
from ledger.domain import Policy, Projector, fact_from_entry
from ledger.domain.facts import Fact

START = datetime.fromisoformat("2026-01-05T09:00:00+08:00")
AS_OF = datetime.fromisoformat("2026-03-02T15:00:00+08:00")


def _entry(seq: int, type: str, subject: str, occurred: str, data: dict[str, Any]) -> StoredEntry:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return StoredEntry(seq, f"bench-{seq}", type, subject, occurred, occurred, b"", b"", raw, b"")


def attendance(n: int, subjects: int, distinct_times: bool = False) -> list[Fact]:
    """``n`` clock-ins (the event ``bench/wrk/single.lua`` posts) over ``subjects`` employees, a day apart
    (all at 09:00, as wrk posts them, or each at its own second with ``distinct_times``)."""
    out = []
    for seq in range(n):
        day = START + timedelta(days=seq // subjects % 40, seconds=seq % subjects if distinct_times else 0)
        entry = _entry(seq, "attendance.clock_in", f"E{seq % subjects}", day.isoformat(), {"method": "face"})
        out.append(fact_from_entry(entry))
    return out


def leaves(first_seq: int, count: int) -> list[Fact]:
    """An approved leave for each of ``count`` employees, over before AS_OF, no clock-in after it."""
    out = []
    for i in range(count):
        subject, leave_id = f"L{i}", f"lv-{i}"
        request = {"leave_id": leave_id, "kind": "annual", "start": "2026-02-02", "end": "2026-02-06"}
        seq = first_seq + 2 * i
        out.append(fact_from_entry(_entry(seq, "leave.requested", subject, "2026-01-20T10:00:00+08:00", request)))
        approve = {"leave_id": leave_id, "approved_by": "hr-1"}
        out.append(fact_from_entry(_entry(seq + 1, "leave.approved", subject, "2026-01-21T10:00:00+08:00", approve)))
    return out


def _median_ms(call: Any, rounds: int) -> float:
    took = []
    for r in range(rounds):
        as_of = AS_OF + timedelta(milliseconds=37 * r)  # the service's clock moves between requests
        t0 = time.perf_counter()
        call(as_of)
        took.append(time.perf_counter() - t0)
    return statistics.median(took) * 1000


def measure(subjects: int, n: int, n_leaves: int, rounds: int, distinct_times: bool) -> dict[str, float]:
    facts = attendance(n, subjects, distinct_times)
    projector = Projector(Policy())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    projector.feed_all(facts)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # what the facts hold apart from the projector's own structures: the list above keeps them alive too, so
    # ``held`` is what the projector adds; the facts themselves are measured by decoding them again traced
    tracemalloc.start()
    again = attendance(n, subjects, distinct_times)
    decoded = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del again
    out = {
        "facts": float(n),
        "subjects": float(subjects),
        "bytes_per_fact_decoded": decoded / n,
        "bytes_per_fact_indexed": held / n,
        "bytes_per_fact_total": (decoded + held) / n,
        "cases_ms_attendance_only": _median_ms(projector.cases, rounds),
    }
    projector.feed_all(leaves(n, n_leaves))
    out["cases_ms_with_leaves"] = _median_ms(projector.cases, rounds)
    out["open_cases"] = float(len(projector.cases(AS_OF, status="open")))
    out["attention_ms"] = _median_ms(projector.attention, max(3, rounds // 4))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--leaves", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--distinct-times", action="store_true", help="every clock-in at its own second")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.subjects, args.facts, args.leaves, args.rounds, args.distinct_times)
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        print(f"{name:28} {value:12,.1f}")


if __name__ == "__main__":
    main()
