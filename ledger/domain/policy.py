"""The company policy (SPEC section 4): defaults, the TOML file, and its digest.

```toml
timezone = "Asia/Shanghai"
shift_start = "09:00"
grace_minutes = 120
termination_threshold = 8     # overdue working days at or above which a termination may be ready
late_recorded_hours = 24
contact_stale_months = 6
publication_days = 30

[stages.absenteeism]          # reminder, hr_alert, lost_contact, absenteeism, termination_review
overdue_days = 4              # "more than 3" is written as the first count that qualifies: 4
channels = ["sms", "email", "post"]

[webhook]
url = "https://hr.example/hooks/ledger"
secret = "..."                # never part of the digest

[smtp]
host = "smtp.example"
port = 587
sender = "ledger@example.com"
recipients = ["hr@example.com"]

[calendar]                    # company overrides on top of the national calendar
holidays = ["2026-02-24"]
workdays = []

[calendar.years.2027]         # a whole year the bundled national calendar does not know yet; the service
holidays = ["2027-01-01"]     # records it in the log as calendar.adopted when it first needs it
workdays = []                 # weekdays off, and weekend days worked (调休)
source = "国办发明电〔2026〕N号"  # the official notice
```
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.core.entries import canonical_json
from ledger.domain.calendar import CalendarOverrides, YearCalendar, year_problem
from ledger.domain.schemas import ATTEMPT_CHANNELS, NOTICE_CHANNELS, STAGES
from ledger.errors import PolicyError

STAGE_CHANNELS = tuple(dict.fromkeys(ATTEMPT_CHANNELS + NOTICE_CHANNELS))


@dataclass(frozen=True, slots=True)
class StageRule:
    name: str
    overdue_days: int
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str | None = None
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    starttls: bool = True
    use_tls: bool = False  # implicit TLS (port 465) instead of STARTTLS


DEFAULT_STAGES = (
    StageRule("reminder", 1, ("sms", "email", "wechat")),
    StageRule("hr_alert", 2, ("email",)),
    StageRule("lost_contact", 3, ("phone", "sms", "email", "wechat", "post")),
    StageRule("absenteeism", 4, ("sms", "email", "post")),  # more than 3
    StageRule("termination_review", 8, ("visit", "post")),  # more than 7
)


@dataclass(frozen=True)
class Policy:
    timezone: str = "Asia/Shanghai"
    shift_start: time = time(9, 0)
    grace: timedelta = timedelta(hours=2)
    stages: tuple[StageRule, ...] = DEFAULT_STAGES
    termination_threshold: int = 8
    late_recorded: timedelta = timedelta(hours=24)
    contact_stale_months: int = 6
    publication_days: int = 30
    webhook: Webhook = field(default_factory=Webhook)
    smtp: Smtp = field(default_factory=Smtp)
    calendar: CalendarOverrides = field(default_factory=CalendarOverrides)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stage(self, name: str) -> StageRule:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self, *, secrets: bool = False) -> dict[str, Any]:
        """The effective policy as plain data (the shape of the TOML file); secrets only when asked."""
        hm = self.grace.total_seconds() / 60
        late = self.late_recorded.total_seconds() / 3600
        out: dict[str, Any] = {
            "timezone": self.timezone,
            "shift_start": self.shift_start.strftime("%H:%M"),
            "grace_minutes": int(hm) if hm == int(hm) else hm,
            "termination_threshold": self.termination_threshold,
            "late_recorded_hours": int(late) if late == int(late) else late,
            "contact_stale_months": self.contact_stale_months,
            "publication_days": self.publication_days,
            "stages": {s.name: {"overdue_days": s.overdue_days, "channels": list(s.channels)} for s in self.stages},
            "webhook": {"url": self.webhook.url or ""},
            "smtp": {
                "host": self.smtp.host or "",
                "port": self.smtp.port,
                "username": self.smtp.username or "",
                "sender": self.smtp.sender or "",
                "recipients": list(self.smtp.recipients),
                "starttls": self.smtp.starttls,
                "use_tls": self.smtp.use_tls,
            },
            "calendar": {
                "holidays": sorted(d.isoformat() for d in self.calendar.holidays),
                "workdays": sorted(d.isoformat() for d in self.calendar.workdays),
                "years": {
                    str(y.year): {
                        "holidays": sorted(d.isoformat() for d in y.holidays),
                        "workdays": sorted(d.isoformat() for d in y.workdays),
                        "source": y.source,
                    }
                    for y in sorted(self.calendar.years, key=lambda y: y.year)
                },
            },
        }
        if secrets:
            out["webhook"]["secret"] = self.webhook.secret or ""
            out["smtp"]["password"] = self.smtp.password or ""
        return out

    @cached_property
    def digest(self) -> str:
        """``sha256:`` + SHA-256 of the canonical JSON of the effective policy, secrets excluded."""
        return "sha256:" + hashlib.sha256(canonical_json(self.to_dict())).hexdigest()


DEFAULT_POLICY = Policy()


# -- reading the TOML file -------------------------------------------------------------------------


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
