"""Reading and writing the policy file (TOML; the keys are described in ``ledger.domain.policy``).

Every key is optional (the SPEC default applies); an unknown key, or a value of the wrong kind, is a
PolicyError naming the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.core.entries import canonical_json
from ledger.domain.calendar import CalendarOverrides, YearCalendar, year_problem
from ledger.domain.policy import (
    DEFAULT_POLICY,
    DEFAULT_STAGES,
    STAGE_CHANNELS,
    LeaveRule,
    Policy,
    Smtp,
    StageRule,
    Webhook,
)
from ledger.domain.schemas import LEAVE_KINDS, STAGES
from ledger.errors import PolicyError


class _Reader:
    """Takes keys out of one table, so leftovers can be reported as unknown."""

    def __init__(self, table: Any, path: str) -> None:
        if not isinstance(table, dict):
            raise PolicyError(path or "policy", "must be a table")
        self.table = dict(table)
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def take(self, name: str, kind: type | tuple[type, ...], what: str) -> Any:
        if name not in self.table:
            return None
        value = self.table.pop(name)
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise PolicyError(self.key(name), f"must be {what}")
        if not isinstance(value, kind):
            raise PolicyError(self.key(name), f"must be {what}, not {value!r}")
        return value

    def count(self, name: str, lo: int, hi: int) -> int | None:
        value: int | None = self.take(name, int, f"an integer from {lo} to {hi}")
        if value is not None and not lo <= value <= hi:
            raise PolicyError(self.key(name), f"must be an integer from {lo} to {hi}, not {value}")
        return value

    def text(self, name: str) -> str | None:
        value: str | None = self.take(name, str, "a string")
        return value or None

    def strings(self, name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.take(name, list, "a list of strings")
        if value is None:
            return None
        for i, v in enumerate(value):
            if not isinstance(v, str) or (allowed is not None and v not in allowed):
                choice = f"one of {', '.join(allowed)}" if allowed else "a string"
                raise PolicyError(f"{self.key(name)}[{i}]", f"{v!r} is not {choice}")
        return tuple(value)

    def dates(self, name: str) -> frozenset[date]:
        out = set()
        for i, v in enumerate(self.strings(name) or ()):
            try:
                out.add(date.fromisoformat(v))
            except ValueError:
                raise PolicyError(f"{self.key(name)}[{i}]", f"{v!r} is not a date YYYY-MM-DD") from None
        return frozenset(out)

    def done(self) -> None:
        if self.table:
            name = sorted(self.table)[0]
            raise PolicyError(self.key(name), "unknown key")


def _stages(reader: _Reader) -> tuple[StageRule, ...]:
    table = reader.take("stages", dict, "a table")
    if table is None:
        return DEFAULT_STAGES
    r = _Reader(table, reader.key("stages"))
    rules = []
    for rule in DEFAULT_STAGES:
        sub = r.take(rule.name, dict, "a table")
        if sub is None:
            rules.append(rule)
            continue
        s = _Reader(sub, r.key(rule.name))
        days = s.count("overdue_days", 1, 366)
        channels = s.strings("channels", STAGE_CHANNELS)
        s.done()
        rules.append(
            StageRule(
                rule.name, rule.overdue_days if days is None else days, rule.channels if channels is None else channels
            )
        )
    r.done()
    for before, after in pairwise(rules):
        if after.overdue_days <= before.overdue_days:
            raise PolicyError(
                f"stages.{after.name}.overdue_days",
                f"must be more than {before.name} ({before.overdue_days}): stages run in the order {', '.join(STAGES)}",
            )
    return tuple(rules)


def _calendar(reader: _Reader) -> CalendarOverrides:
    table = reader.take("calendar", dict, "a table")
    if table is None:
        return CalendarOverrides()
    r = _Reader(table, "calendar")
    holidays, workdays = r.dates("holidays"), r.dates("workdays")
    both = sorted(holidays & workdays)
    if both:
        raise PolicyError("calendar.workdays", f"{both[0].isoformat()} is also listed in calendar.holidays")
    years = []
    for name, sub in sorted((r.take("years", dict, "a table") or {}).items()):
        key = f"calendar.years.{name}"
        if not (name.isdigit() and len(name) == 4):
            raise PolicyError(key, "years are given as 4-digit tables, e.g. [calendar.years.2027]")
        y = _Reader(sub, key)
        ys = YearCalendar(
            int(name),
            y.dates("holidays"),
            y.dates("workdays"),
            y.text("source") or f"policy file [calendar.years.{name}]",
        )
        y.done()
        both = sorted(ys.holidays & ys.workdays)
        if both:
            raise PolicyError(f"{key}.workdays", f"{both[0].isoformat()} is also listed in holidays")
        problem = year_problem(ys)
        if problem is not None:
            field, _, detail = problem.partition(": ")
            raise PolicyError(f"{key}.{field}" if detail else key, detail or problem)
        years.append(ys)
    r.done()
    return CalendarOverrides(holidays, workdays, tuple(years))


def _leave_rules(reader: _Reader) -> tuple[LeaveRule, ...]:
    table = reader.take("leave_rules", dict, "a table")
    if table is None:
        return ()
    r = _Reader(table, "leave_rules")
    rules = []
    for kind in LEAVE_KINDS:
        sub = r.take(kind, dict, "a table")
        if sub is None:
            continue
        s = _Reader(sub, r.key(kind))
        certificate = s.take("certificate", bool, "true or false")
        rules.append(LeaveRule(kind, certificate, s.count("min_notice_days", 0, 366), s.count("max_days", 1, 3660)))
        s.done()
    if r.table:
        name = sorted(r.table)[0]
        raise PolicyError(r.key(name), f"is not a leave kind (one of {', '.join(LEAVE_KINDS)})")
    return tuple(rules)


def load_policy(toml_text: str) -> Policy:
    """Read a policy file; every key is optional (the SPEC default applies), unknown keys are refused."""
    try:
        doc = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("policy", f"is not valid TOML: {exc}") from None
    r = _Reader(doc, "")
    p = DEFAULT_POLICY
    changes: dict[str, Any] = {}
    tz = r.text("timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError("timezone", f"{tz!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        changes["timezone"] = tz
    start = r.text("shift_start")
    if start is not None:
        try:
            changes["shift_start"] = time.fromisoformat(start)
        except ValueError:
            raise PolicyError("shift_start", f"{start!r} is not a time HH:MM") from None
        if changes["shift_start"].tzinfo is not None:
            raise PolicyError("shift_start", "is local company time: give it without an offset")
    grace = r.count("grace_minutes", 0, 24 * 60 - 1)
    if grace is not None:
        changes["grace"] = timedelta(minutes=grace)
    for name in ("termination_threshold", "contact_stale_months", "publication_days"):
        value = r.count(name, 1, 3660)
        if value is not None:
            changes[name] = value
    days = r.count("return_demand_min_days", 0, 366)
    if days is not None:
        changes["return_demand_min_days"] = days
    for flag in ("has_union", "count_absence_without_request"):
        value = r.take(flag, bool, "true or false")
        if value is not None:
            changes[flag] = value
    changes["leave_rules"] = _leave_rules(r)
    late = r.count("late_recorded_hours", 1, 24 * 366)
    if late is not None:
        changes["late_recorded"] = timedelta(hours=late)
    changes["stages"] = _stages(r)
    wh = r.take("webhook", dict, "a table")
    if wh is not None:
        w = _Reader(wh, "webhook")
        changes["webhook"] = Webhook(w.text("url"), w.text("secret"))
        w.done()
        if changes["webhook"].url and not changes["webhook"].url.startswith(("http://", "https://")):
            raise PolicyError("webhook.url", "must be an http:// or https:// URL")
    sm = r.take("smtp", dict, "a table")
    if sm is not None:
        s = _Reader(sm, "smtp")
        port = s.count("port", 1, 65535)
        starttls = s.take("starttls", bool, "true or false")
        use_tls = s.take("use_tls", bool, "true or false")
        changes["smtp"] = Smtp(
            s.text("host"),
            p.smtp.port if port is None else port,
            s.text("username"),
            s.text("password"),
            s.text("sender"),
            s.strings("recipients") or (),
            p.smtp.starttls if starttls is None else starttls,
            bool(use_tls),
        )
        if changes["smtp"].starttls and changes["smtp"].use_tls:
            raise PolicyError("smtp.use_tls", "cannot be combined with starttls = true; choose one")
        s.done()
    changes["calendar"] = _calendar(r)
    r.done()
    return replace(p, **changes)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return canonical_json(value).decode("utf-8")  # a JSON string is a valid TOML basic string
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def dump_policy(policy: Policy, *, secrets: bool = True) -> str:
    """The policy as a TOML file :func:`load_policy` reads back to an equal Policy."""
    lines: list[str] = []

    def table(name: str, body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if name:
            lines.append(f"\n[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{name}.{k}" if name else k, v)

    table("", policy.to_dict(secrets=secrets))
    return "\n".join(lines).lstrip("\n") + "\n"
