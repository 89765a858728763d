"""Per-type validation of event ``data`` (SPEC section 3), table-driven; the checkers are in ``checks``.

Intake rules beside the tables: subject ``company`` takes only ``policy.adopted`` and ``calendar.adopted``
(so that no personal data travels in every bundle); every other type, ``custom.*`` included, names one
employee; the system types are written by hrledger itself and refused from clients.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ledger.core.entries import SYSTEM_TYPES, Event
from ledger.domain.calendar import CALENDAR_TYPE, FIRST_YEAR, LAST_YEAR, year_from_data, year_problem
from ledger.domain.checks import (
    AnyObject,
    Bool,
    Check,
    Count,
    Date,
    Digest,
    Enum,
    ListOf,
    Obj,
    OneOf,
    Seq,
    Str,
    Time,
    parse_date,
)
from ledger.errors import ValidationError

__all__ = ["SCHEMAS", "parse_date", "validate_data", "validate_event"]

COMPANY = "company"
ERASED_TYPE = "ledger.erased"  # appended by ledger.admin.erase; its data names the seqs whose data is dropped
STAGE_ENTERED = "escalation.stage_entered"
STAGE_WITHDRAWN = "escalation.stage_withdrawn"
CONTACT_CHANNELS = ("mobile", "email", "wechat", "address")
E_SERVICE_CHANNELS = ("email", "sms", "wechat")
ATTEMPT_CHANNELS = ("phone", "sms", "email", "wechat", "post", "visit")
NOTICE_CHANNELS = ("visit", "post", "sms", "email", "wechat", "newspaper", "notice_board")
NOTICE_KINDS = ("reminder", "return_demand", "absenteeism", "termination", "publication")
LEAVE_KINDS = ("sick", "annual", "personal", "marriage", "maternity", "bereavement", "other")
RECEIVED_BY = ("employee", "co_resident_adult", "service_agent", "other")
ABSENCE_REASONS = ("illness", "injury", "hospitalised", "detained", "force_majeure", "family_emergency", "other")
REPORTERS = ("employee", "family", "colleague", "authority", "other")
#: the results a contact attempt may record, with how HR reads each (zh, en)
ATTEMPT_RESULTS: Mapping[str, tuple[str, str]] = {
    "answered": ("已接听", "answered"),
    "no_answer": ("无人接听", "no answer"),
    "number_invalid": ("空号", "number invalid"),
    "unreachable": ("无法联系", "unreachable"),
    "delivered": ("已送达", "delivered"),
    "read": ("已读", "read"),
    "replied": ("已回复", "replied"),
    "bounced": ("退信", "bounced"),
    "returned": ("退回", "returned"),
    "refused": ("拒收", "refused"),
}
STAGES = ("reminder", "hr_alert", "lost_contact", "absenteeism", "termination_review")
#: notice kinds that may set the employee a deadline to return
DEADLINE_KINDS = ("return_demand", "publication")


class _Year(Check):
    what = f"year from {FIRST_YEAR} to {LAST_YEAR}"

    def __call__(self, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= LAST_YEAR:
            raise ValidationError(path, f"must be a year from {FIRST_YEAR} to {LAST_YEAR}")


Year = _Year()


# -- cross-field rules ------------------------------------------------------------------------------


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


def _ordered(first: str, last: str) -> Any:
    def rule(value: dict[str, Any], path: str) -> None:
        if (first in value and last in value) and parse_date(value[last], f"{path}.{last}") < parse_date(
            value[first], f"{path}.{first}"
        ):
            raise ValidationError(f"{path}.{last}", f"is before {first}")

    return rule


def _notice_rule(value: dict[str, Any], path: str) -> None:
    kind = value["kind"]
    given = [k for k in ("return_by", "return_within_days") if k in value]
    if kind == "return_demand" and not given:
        raise ValidationError(
            f"{path}.return_by",
            "a return demand (催告函) sets the employee a deadline: give return_by (RFC 3339) or "
            "return_within_days (calendar days counted from the day after service)",
        )
    if len(given) == 2:
        raise ValidationError(f"{path}.return_within_days", "give return_by or return_within_days, not both")
    if given and kind not in DEADLINE_KINDS:
        raise ValidationError(
            f"{path}.{given[0]}", f"only a return_demand or a publication sets a deadline, not {kind}"
        )
    if "serves" in value and kind != "publication":
        raise ValidationError(f"{path}.serves", "only a publication serves another notice")


def _refusal_proof(value: dict[str, Any], path: str) -> None:
    if not value.get("witnesses") and "evidence_digest" not in value:
        raise ValidationError(
            f"{path}.witnesses",
            "留置送达 needs witnesses (e.g. the residents' committee) and/or recorded evidence (evidence_digest)",
        )


def _some_transfer(value: dict[str, Any], path: str) -> None:
    if not value:
        raise ValidationError(f"{path}.social_insurance_on", "give social_insurance_on and/or personnel_file_on")


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
        "service_address?": Str(512),
        "e_service?": ListOf(Obj({"channel": Enum(*E_SERVICE_CHANNELS), "value": Str(512)}), max_len=20),
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

SCHEMAS: dict[str, Obj] = {
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
        rule=_ordered("start", "end"),
        note="`end` is not before `start`",
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
            "return_by?": Time,
            "return_within_days?": Count(366),
            "serves?": ID,
            "draft_seq?": Seq,
        },
        rule=_notice_rule,
        note="a `return_demand` needs `return_by` or `return_within_days` (not both); only a `return_demand` or "
        "a `publication` sets a deadline; only a `publication` has `serves`",
    ),
    "notice.drafted": Obj(
        {
            "notice_id": ID,
            "kind": Enum(*NOTICE_KINDS),
            "document_digest": Digest,
            "template": Str(128),
            "template_version": Str(64),
            "case_id?": Str(512),
            "stage_seq?": Seq,
        }
    ),
    "notice.delivered": Obj(
        {
            "notice_id": ID,
            "channel": Enum(*NOTICE_CHANNELS),
            "evidence": Str(1024),
            "received_by?": Enum(*RECEIVED_BY),
            "recipient_name?": Str(),
            "address?": Str(512),
        }
    ),
    "notice.delivery_failed": Obj(
        {"notice_id": ID, "channel": Enum(*NOTICE_CHANNELS), "reason": TEXT, "address?": Str(512)}
    ),
    "notice.refused": Obj(
        {
            "notice_id": ID,
            "refused_by": Enum("employee", "co_resident_adult"),
            "left_at": Str(512),
            "witnesses?": ListOf(Str(), max_len=20),
            "evidence_digest?": Digest,
        },
        rule=_refusal_proof,
        note="`witnesses` (at least one) and/or `evidence_digest`",
    ),
    "union.notified": Obj({"union": Str(), "note?": TEXT}),
    "absence.reported": Obj(
        {
            "reason": Enum(*ABSENCE_REASONS),
            "reported_by": Enum(*REPORTERS),
            "reporter_name?": Str(),
            "from": Date,
            "to?": Date,
            "evidence_digest?": Digest,
            "note?": TEXT,
        },
        rule=_ordered("from", "to"),
        note="`to` is not before `from`",
    ),
    "absence.assessed": Obj(
        {
            "report_seq": Seq,
            "decision": Enum("excused", "not_excused"),
            "from?": Date,
            "to?": Date,
            "assessed_by": Str(),
            "note?": TEXT,
        },
        rule=_ordered("from", "to"),
        note="`to` is not before `from`",
    ),
    "employment.terminated": Obj({"effective_on": Date, "notice_id": ID, "confirmed_by": Str()}),
    "employment.certificate_issued": Obj({"issued_on": Date, "document_digest": Digest}),
    "employment.records_transferred": Obj(
        {"social_insurance_on?": Date, "personnel_file_on?": Date},
        rule=_some_transfer,
        note="at least one of the two",
    ),
    "case.closed": Obj({"case_id": Str(512), "reason": TEXT}),
    CALENDAR_TYPE: Obj(
        {
            "year": Year,
            "holidays": ListOf(Date, max_len=366),
            "workdays": ListOf(Date, max_len=366),
            "source": TEXT,
        },
        rule=_calendar_days,
        note="every date in `year`; holidays are weekdays, workdays weekend days; no date in both lists",
    ),
    # system types, written by hrledger itself (refused from clients)
    STAGE_ENTERED: Obj(
        {
            "case_id": Str(512),
            "stage": Enum(*STAGES),
            "occurrence": Count(),
            "reached_on": Date,
            "overdue_days": Count(),
            "basis": ListOf(Seq, max_len=10000),
            "policy_digest": Digest,
            "calendar_seqs": ListOf(Seq, max_len=1000),
        }
    ),
    STAGE_WITHDRAWN: Obj(
        {
            "case_id": Str(512),
            "stage": Enum(*STAGES),
            "stage_seq": Seq,
            "reason": Str(64),
            "basis": ListOf(Seq, max_len=10000),
        }
    ),
    ERASED_TYPE: Obj({"seqs": ListOf(Seq, min_len=1, max_len=10_000_000), "count": Count()}),
}

#: types whose subject must be ``company``; every other type names an employee
COMPANY_ONLY = frozenset({"policy.adopted", CALENDAR_TYPE})
#: types only an admin may post (SPEC section 4: the calendar decides what counts as a working day)
ADMIN_TYPES = frozenset({CALENDAR_TYPE})
#: types hrledger writes itself; a client posting one is refused
SYSTEM_ONLY = frozenset({STAGE_ENTERED, STAGE_WITHDRAWN, ERASED_TYPE})


def validate_data(type: str, data: Any) -> None:
    """Check ``data`` against the schema of ``type``; raises ValidationError naming the field."""
    if type.startswith("custom."):
        AnyObject(data, "data")
        return
    schema = SCHEMAS.get(type)
    if schema is None:
        clients = [t for t in SCHEMAS if t not in SYSTEM_TYPES and t not in SYSTEM_ONLY]
        close = difflib.get_close_matches(type, clients, n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValidationError("type", f"{type!r} is not a known event type ({hint}custom types start with custom.)")
    schema(data, "data")


def validate_event(event: Event, *, system: bool = False) -> None:
    """Subject rules plus :func:`validate_data`; call after ``ledger.core.entries.validate_envelope``.

    ``system`` is for hrledger's own entries; a client's event of a system type is refused."""
    if event.type in SYSTEM_ONLY and not system:
        raise ValidationError("type", f"{event.type} is written by hrledger itself and refused from clients")
    validate_data(event.type, event.data)
    if event.type in COMPANY_ONLY and event.subject != COMPANY:
        raise ValidationError("subject", f"{event.type} is company-wide: subject must be {COMPANY!r}")
    if event.type not in COMPANY_ONLY and event.subject == COMPANY and not (system and event.type == ERASED_TYPE):
        raise ValidationError(
            "subject",
            f"{event.type} concerns one employee: subject must be an employee id (subject {COMPANY!r} takes only "
            f"{' and '.join(sorted(COMPANY_ONLY))}, so that no personal data travels in every bundle)",
        )
