"""Per-type validation of event ``data`` (SPEC section 3), table-driven.

A schema is a tree of small checkers; each is called with the value and its dotted path
(``data.contacts[1].channel``) and raises ``ValidationError(path, what was wrong)``. An ``Obj`` lists its
fields; a name ending in ``?`` is optional; any other field is refused.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from ledger.core.entries import SYSTEM_TYPES, Event, instant_problem, parse_rfc3339
from ledger.domain.calendar import CALENDAR_TYPE, FIRST_YEAR, LAST_YEAR, year_from_data, year_problem
from ledger.errors import ValidationError

Check = Callable[[Any, str], None]

COMPANY = "company"
ERASED_TYPE = "ledger.erased"  # appended by ledger.admin.erase; its data names the seqs whose data is dropped
CONTACT_CHANNELS = ("mobile", "email", "wechat", "address")
ATTEMPT_CHANNELS = ("phone", "sms", "email", "wechat", "post", "visit")
NOTICE_CHANNELS = ("visit", "post", "sms", "email", "wechat", "newspaper", "notice_board")
NOTICE_KINDS = ("reminder", "return_demand", "absenteeism", "termination", "publication")
LEAVE_KINDS = ("sick", "annual", "personal", "marriage", "maternity", "bereavement", "other")
ATTEMPT_RESULTS = (
    "answered",
    "no_answer",
    "number_invalid",
    "unreachable",
    "delivered",
    "read",
    "replied",
    "bounced",
    "returned",
    "refused",
)
STAGES = ("reminder", "hr_alert", "lost_contact", "absenteeism", "termination_review")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGEST = re.compile(r"^(sha256|sha384|sha512|sm3):([0-9a-fA-F]+)$")
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128, "sm3": 64}


def parse_date(value: Any, path: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValidationError(path, f"{value!r} is not a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(path, f"{value!r} is not a valid calendar date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(path, f"{value} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return day


# -- the checkers -----------------------------------------------------------------------------------


def Str(max_len: int = 256) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(path, "must be a string")
        if not 1 <= len(value) <= max_len:
            raise ValidationError(path, f"must be 1 to {max_len} characters")
        if not value.replace("\n", " ").replace("\t", " ").isprintable():
            raise ValidationError(path, "must not contain control characters")

    return check


def Enum(*values: str) -> Check:
    def check(value: Any, path: str) -> None:
        if value not in values:
            raise ValidationError(path, f"{value!r} is not one of {', '.join(values)}")

    return check


def Date(value: Any, path: str) -> None:
    parse_date(value, path)


def Time(value: Any, path: str) -> None:
    problem = instant_problem(parse_rfc3339(value, path))
    if problem is not None:
        raise ValidationError(path, problem)


def Bool(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise ValidationError(path, "must be true or false")


def Seq(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(path, "must be a non-negative integer")


def Count(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(path, "must be a positive integer")


def Digest(value: Any, path: str) -> None:
    m = _DIGEST.match(value) if isinstance(value, str) else None
    if not m or len(m.group(2)) != _DIGEST_HEX[m.group(1)]:
        raise ValidationError(path, f"{value!r} is not a digest like sha256:<64 hex digits>")


def AnyObject(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise ValidationError(path, "must be a JSON object")


def OneOf(*checks: Check, what: str) -> Check:
    def check(value: Any, path: str) -> None:
        for c in checks:
            try:
                c(value, path)
                return
            except ValidationError:
                continue
        raise ValidationError(path, f"must be {what}")

    return check


def ListOf(item: Check, *, min_len: int = 0, max_len: int = 100) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise ValidationError(path, "must be a list")
        if not min_len <= len(value) <= max_len:
            raise ValidationError(path, f"must hold {min_len} to {max_len} items")
        for i, v in enumerate(value):
            item(v, f"{path}[{i}]")

    return check


def Obj(fields: Mapping[str, Check], *, rule: Callable[[dict[str, Any], str], None] | None = None) -> Check:
    required = {k for k in fields if not k.endswith("?")}
    checks = {k.rstrip("?"): c for k, c in fields.items()}

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ValidationError(path, "must be a JSON object")
        for key in value:
            if key not in checks:
                raise ValidationError(f"{path}.{key}", f"unknown field (allowed: {', '.join(checks)})")
        for key in fields:
            name = key.rstrip("?")
            if name not in value:
                if key in required:
                    raise ValidationError(f"{path}.{name}", "is required")
                continue
            checks[name](value[name], f"{path}.{name}")
        if rule is not None:
            rule(value, path)

    return check


def Year(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
        raise ValidationError(path, f"must be a year from {FIRST_YEAR} to {LAST_YEAR}")


def _calendar_days(value: dict[str, Any], path: str) -> None:
    for label in ("holidays", "workdays"):
        if len(set(value[label])) != len(value[label]):
            raise ValidationError(f"{path}.{label}", "lists a date twice")
    both = sorted(set(value["holidays"]) & set(value["workdays"]))
    if both:
        raise ValidationError(f"{path}.workdays", f"{both[0]} is also listed in holidays")
    cal = year_from_data(value)
    problem = "does not parse" if cal is None else year_problem(cal)
    if problem is not None:
        field, _, detail = problem.partition(": ")
        raise ValidationError(f"{path}.{field}" if detail else path, detail or problem)


def _end_not_before_start(value: dict[str, Any], path: str) -> None:
    if parse_date(value["end"], f"{path}.end") < parse_date(value["start"], f"{path}.start"):
        raise ValidationError(f"{path}.end", "is before start")


# -- the tables -------------------------------------------------------------------------------------

ID = Str(128)
TEXT = Str(2000)
_person = Obj(
    {
        "name": Str(),
        "hired_on?": Date,
        "contacts": ListOf(Obj({"channel": Enum(*CONTACT_CHANNELS), "value": Str(512), "verified_at?": Time})),
        "emergency_contacts": ListOf(
            Obj(
                {
                    "name": Str(),
                    "relation": Str(64),
                    "mobile": Str(64),
                    "address?": Str(512),
                    "service_agent?": Bool,
                }
            )
        ),
    }
)
# the kind on file (mobile, ...) or the way it was reached (sms, ...); contact health maps the latter back
VERIFY_CHANNELS = CONTACT_CHANNELS + tuple(c for c in ATTEMPT_CHANNELS if c not in CONTACT_CHANNELS)
_verification = Obj({"channel": Enum(*VERIFY_CHANNELS), "value": Str(512), "method?": Str(64)})
_leave_ref = Obj({"leave_id": ID})
_attendance = Obj(
    {
        "method": Enum("face", "gps", "card", "manual"),
        "location?": OneOf(Str(512), AnyObject, what="a string or a JSON object"),
    }
)

SCHEMAS: dict[str, Check] = {
    "employee.enrolled": _person,
    "employee.contacts_updated": _person,
    "contact.verification_requested": _verification,
    "contact.verified": _verification,
    "policy.adopted": Obj(
        {
            "policy_id": ID,
            "version": Str(64),
            "document_digest": Digest,
            "effective_from": Date,
            "democratic_procedure": TEXT,
        }
    ),
    "policy.acknowledged": Obj({"policy_id": ID, "version": Str(64)}),
    "leave.requested": Obj(
        {
            "leave_id": ID,
            "kind": Enum(*LEAVE_KINDS),
            "start": Date,
            "end": Date,
            "certificate_digest?": Digest,
        },
        rule=_end_not_before_start,
    ),
    "leave.approved": _leave_ref,
    "leave.cancelled": _leave_ref,
    "leave.rejected": Obj({"leave_id": ID, "reason?": TEXT}),
    "leave.extended": Obj({"leave_id": ID, "end": Date}),
    "attendance.clock_in": _attendance,
    "attendance.clock_out": _attendance,
    "contact.attempted": Obj(
        {
            "channel": Enum(*ATTEMPT_CHANNELS),
            "target": Enum("employee", "emergency_contact"),
            "value?": Str(512),
            "result": Enum(*ATTEMPT_RESULTS),
            "note?": TEXT,
        }
    ),
    "notice.issued": Obj(
        {
            "notice_id": ID,
            "kind": Enum(*NOTICE_KINDS),
            "document_digest": Digest,
            "recipients": ListOf(Str(512), min_len=1),
            "channels": ListOf(Enum(*NOTICE_CHANNELS), min_len=1),
        }
    ),
    "notice.delivered": Obj({"notice_id": ID, "channel": Enum(*NOTICE_CHANNELS), "evidence": Str(1024)}),
    "notice.delivery_failed": Obj({"notice_id": ID, "channel": Enum(*NOTICE_CHANNELS), "reason": TEXT}),
    "union.notified": Obj({"union": Str(), "note?": TEXT}),
    "employment.terminated": Obj({"effective_on": Date, "notice_id": ID, "confirmed_by": Str()}),
    "case.closed": Obj({"case_id": Str(512), "reason": TEXT}),
    CALENDAR_TYPE: Obj(
        {
            "year": Year,
            "holidays": ListOf(Date, max_len=366),
            "workdays": ListOf(Date, max_len=366),
            "source": TEXT,
        },
        rule=_calendar_days,
    ),
    # system types, written by hrledger itself (the envelope refuses them from clients)
    "escalation.stage_entered": Obj(
        {
            "case_id": Str(512),
            "stage": Enum(*STAGES),
            "overdue_days": Count,
            "basis": ListOf(Seq, max_len=10000),
            "policy_digest": Digest,
            "reached_on?": Date,
            "calendar_seqs?": ListOf(Seq, max_len=1000),
        }
    ),
    "ledger.erased": AnyObject,
}

#: types whose subject must be ``company``; types that may be either; every other type names an employee
COMPANY_ONLY = frozenset({"policy.adopted", CALENDAR_TYPE})
#: types only an admin may post (SPEC section 4: the calendar decides what counts as a working day)
ADMIN_TYPES = frozenset({CALENDAR_TYPE})
COMPANY_ALLOWED = frozenset({"union.notified"})


def validate_data(type: str, data: Any) -> None:
    """Check ``data`` against the schema of ``type``; raises ValidationError naming the field."""
    if type.startswith("custom."):
        AnyObject(data, "data")
        return
    schema = SCHEMAS.get(type)
    if schema is None:
        close = difflib.get_close_matches(type, [t for t in SCHEMAS if t not in SYSTEM_TYPES], n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValidationError("type", f"{type!r} is not a known event type ({hint}custom types start with custom.)")
    schema(data, "data")


def validate_event(event: Event) -> None:
    """Subject rules plus :func:`validate_data`; call after ``ledger.core.entries.validate_envelope``."""
    validate_data(event.type, event.data)
    if event.subject == COMPANY and event.type.startswith("custom."):
        # SPEC section 1: company entries travel in every bundle, so they take no free-form (maybe personal) data
        raise ValidationError("subject", f"the subject {COMPANY!r} takes only {', '.join(sorted(COMPANY_ONLY))}")
    if event.type.startswith("custom.") or event.type in COMPANY_ALLOWED:
        return
    if event.type in COMPANY_ONLY and event.subject != COMPANY:
        raise ValidationError("subject", f"{event.type} is company-wide: subject must be {COMPANY!r}")
    if event.type not in COMPANY_ONLY and event.subject == COMPANY:
        raise ValidationError("subject", f"{event.type} concerns one employee: subject must be an employee id")
