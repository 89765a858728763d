"""Step 7 (RFC 3161 timestamps over checkpoint notes) and step 8 (the timeline of facts)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verifier.result import NOT_CHECKED, Fact, Result
from verifier.rfc3339 import parse_time

if TYPE_CHECKING:
    from verifier.archive import Bundle

_TSR = re.compile(r"^timestamps/(0|[1-9][0-9]*)\.tsr$")
_SUMMARY_KEYS = (
    "kind",
    "leave_id",
    "start",
    "end",
    "channel",
    "target",
    "result",
    "notice_id",
    "recipients",
    "channels",
    "method",
    "policy_id",
    "version",
    "effective_on",
    "union",
    "case_id",
    "reason",
)


def zone(name: Any) -> tzinfo:
    if not isinstance(name, str):
        raise ValueError("time zone is not a string")
    return UTC if name == "UTC" else ZoneInfo(name)


def in_period(occurred: Any, start: date | None, end: date | None, tz: tzinfo | None) -> bool | None:
    """Whether the local date (in the company time zone) is within [start, end]; None when unknowable."""
    t = parse_time(occurred)
    if t is None or start is None or end is None or tz is None:
        return None
    return start <= t.astimezone(tz).date() <= end


def _short(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def late_recorded(occurred: datetime | None, recorded: datetime | None, hours: float | None) -> bool:
    """Recorded more than ``hours`` after it occurred (the policy's ``late_recorded_hours``, from the manifest)."""
    return bool(occurred and recorded and hours is not None and recorded - occurred > timedelta(hours=hours))


def describe(fact: Fact, leaf: dict[str, Any], data: Any, late_hours: float | None) -> None:
    """Fill a timeline line from the leaf and, unless erased, a few telling fields of the data."""
    for key in ("occurred_at", "recorded_at", "type", "subject", "source"):
        value = leaf.get(key)
        setattr(fact, key, value if isinstance(value, str) else None)
    fact.late = late_recorded(parse_time(fact.occurred_at), parse_time(fact.recorded_at), late_hours)
    if isinstance(data, dict):
        if fact.type == "escalation.stage_entered" and isinstance(data.get("stage"), str):
            fact.stage = data["stage"]
        fact.summary = " ".join(f"{k}={_short(data[k])}" for k in _SUMMARY_KEYS if k in data)[:160]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def step7_timestamps(b: Bundle, r: Result, roots: list[Any] | None) -> dict[int, str]:
    """Verified TSA time per checkpoint size; tokens are checked only when trusted roots are given."""
    times: dict[int, str] = {}
    names = sorted((n for n in b.files if n.startswith("timestamps/")), key=lambda n: (len(n), n))
    if not names:
        r.note(7, "no timestamps in the bundle")
    if roots is None:
        r.steps[7].status = NOT_CHECKED
    for name in names:
        m = _TSR.match(name)
        if not m:
            r.fail(7, f"{name}: not a timestamps/<tree size>.tsr file name")
            continue
        size = int(m.group(1))
        note = b.checkpoints.get(size)
        if note is None:
            r.fail(7, f"{name}: the bundle holds no verified checkpoint of size {size} for it to cover")
            continue
        if roots is None:
            r.note(7, f"{name}: present, not checked (give --tsa-root to check it)")
            continue
        from rfc3161_client import VerifierBuilder, decode_timestamp_response

        try:
            response = decode_timestamp_response(b.files[name])
            builder = VerifierBuilder()
            for root in roots:
                builder = builder.add_root_certificate(root)
            builder.build().verify_message(response, note)
        except Exception as exc:  # the library raises several types for bad tokens
            r.fail(7, f"{name}: not a valid timestamp over the checkpoint of size {size}: {exc}")
            continue
        times[size] = _iso(response.tst_info.gen_time)
        r.note(7, f"{name}: checkpoint of size {size} existed by {times[size]} (TSA)")
    return times


def step8_timeline(b: Bundle, r: Result, tsa_times: dict[int, str]) -> None:
    def key(f: Fact) -> tuple[datetime, int]:
        return (parse_time(f.occurred_at) or datetime.max.replace(tzinfo=UTC), f.seq)

    for fact in b.facts.values():
        later = [t for size, t in tsa_times.items() if size > fact.seq]
        fact.tsa_time = min(later) if later else None
    r.timeline = sorted(b.facts.values(), key=key)
    late = [f.seq for f in r.timeline if f.late]
    erased = [f.seq for f in r.timeline if f.erased]
    r.note(8, f"{len(r.timeline)} facts in occurred_at order")
    if late:
        hours = r.late_recorded_hours
        r.note(8, f"recorded more than {hours:g} h after they occurred: seq {', '.join(map(str, late))}")
    if erased:
        r.note(8, f"personal data erased (leaf still proven): seq {', '.join(map(str, erased))}")
