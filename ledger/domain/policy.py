"""The company policy (SPEC section 4): defaults, the TOML file, and its digest.

```toml
timezone = "Asia/Shanghai"
shift_start = "09:00"
grace_minutes = 120
termination_threshold = 8     # overdue working days at or above which a termination may be ready
late_recorded_hours = 24
contact_stale_months = 6
publication_days = 30
has_union = true              # the union is told before a termination (劳动合同法 art. 43)
return_demand_min_days = 3    # a 催告函's deadline at least this many days after its service
count_absence_without_request = false  # absence with no leave request at all (needs all attendance posted)

[leave_rules.sick]            # the rule book's leave rules: flags, never refusals; each key optional
certificate = true            # a certificate (certificate_digest) is required
min_notice_days = 1           # requested at least this many calendar days before the start
max_days = 15                 # at most this many calendar days (a 医疗期 may be longer: a flag only)

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

Reading and writing the file is ``ledger.domain.policy_toml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.entries import canonical_json
from ledger.domain.calendar import CalendarOverrides
from ledger.domain.schemas import ATTEMPT_CHANNELS, NOTICE_CHANNELS

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


@dataclass(frozen=True, slots=True)
class LeaveRule:
    """The rule book's rules for one kind of leave (``[leave_rules.<kind>]``); None = no such rule."""

    kind: str
    certificate: bool | None = None
    min_notice_days: int | None = None
    max_days: int | None = None

    def to_dict(self) -> dict[str, Any]:
        rules = {"certificate": self.certificate, "min_notice_days": self.min_notice_days, "max_days": self.max_days}
        return {k: v for k, v in rules.items() if v is not None}


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
    has_union: bool = True
    return_demand_min_days: int = 3
    count_absence_without_request: bool = False
    leave_rules: tuple[LeaveRule, ...] = ()
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

    def leave_rule(self, kind: str) -> LeaveRule | None:
        return next((r for r in self.leave_rules if r.kind == kind), None)

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
            "has_union": self.has_union,
            "return_demand_min_days": self.return_demand_min_days,
            "count_absence_without_request": self.count_absence_without_request,
            "leave_rules": {r.kind: r.to_dict() for r in sorted(self.leave_rules, key=lambda r: r.kind)},
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
