"""docs/events.md, generated from the very schemas intake uses (``ledger.domain.schemas``).

Regenerate with ``python -c "from ledger.domain.schema_doc import events_markdown as m; print(m(), end='')"
> docs/events.md``; ``tests/domain/test_schema_doc.py`` fails while the file and the schemas differ.
"""

from __future__ import annotations

from ledger.domain.checks import Check, ListOf, Obj
from ledger.domain.schemas import ADMIN_TYPES, COMPANY_ONLY, SCHEMAS, SYSTEM_ONLY

#: what each type records, in a line
TYPE_NOTES = {
    "employee.enrolled": "The employee's file: contacts, emergency contacts, the contract's agreed service "
    "address (约定送达地址) and the channels agreed for electronic service. The latest enrolment or update is "
    "the file.",
    "employee.contacts_updated": "A new version of the file (same fields as `employee.enrolled`).",
    "contact.verification_requested": "HR asked the employee to confirm a contact.",
    "contact.verified": "A contact was confirmed (e.g. the employee replied to an SMS).",
    "policy.adopted": "The rule book adopted by democratic procedure (劳动合同法 art. 4).",
    "policy.acknowledged": "The employee acknowledged a version of the rule book.",
    "leave.requested": "A leave request; `end` is inclusive.",
    "leave.approved": "Approved. It counts as approved when it occurred before the shift start plus grace of "
    "the leave's first working day.",
    "leave.cancelled": "Cancelled: no expectation, no absence.",
    "leave.rejected": "Rejected: absence from its first working day is absence without approved leave.",
    "leave.extended": "The leave's new end.",
    "attendance.clock_in": "A clock-in: ends an episode (`returned`).",
    "attendance.clock_out": "A clock-out.",
    "contact.attempted": "An attempt to reach the employee or an emergency contact, and its result.",
    "notice.issued": "A notice sent. A `return_demand` (催告函) sets a deadline; a `publication` names the "
    "notice it publishes (`serves`) and may set a later deadline; `draft_seq` names the draft used.",
    "notice.drafted": "A notice drafted from a template with the case facts (by hrledger for a stage, or by a "
    "client); `stage_seq` links it to the stage it was drafted for.",
    "notice.delivered": "A notice delivered: by whom it was received and where it went decide whether it is "
    "service (docs/rules.md).",
    "notice.delivery_failed": "A delivery that failed (a visit nobody answered, a letter returned).",
    "notice.refused": "留置送达: the notice was refused and left at the residence before witnesses or with "
    "recorded evidence (民事诉讼法 art. 89).",
    "union.notified": "The union was told of the intended termination (劳动合同法 art. 43); an employee's event.",
    "absence.reported": "A reason given for the absence, by whoever gives it; suspends the case until assessed.",
    "absence.assessed": "HR's assessment of a report (`report_seq`); the latest (highest seq) stands.",
    "employment.terminated": "The termination, confirmed by a person; `notice_id` is the termination notice.",
    "employment.certificate_issued": "The termination certificate (劳动合同法 art. 50).",
    "employment.records_transferred": "Social insurance and/or the personnel file transferred (劳动合同法 art. 50).",
    "case.closed": "HR closed a case (e.g. resigned by agreement).",
    "calendar.adopted": "A year of the working-day calendar: weekdays off and weekend days worked (调休).",
    "escalation.stage_entered": "hrledger's decision that a case reached a stage; `reached_on` is the rule's "
    "date, the entry itself occurs when recorded.",
    "escalation.stage_withdrawn": "hrledger's withdrawal of a stage entry later facts undid (`basis`).",
    "ledger.erased": "An erasure of personal data: the seqs whose data and salt are dropped.",
}


def _rows(prefix: str, obj: Obj) -> list[tuple[str, bool, str]]:
    rows = []
    for key, check in obj.fields.items():
        name, required = key.rstrip("?"), not key.endswith("?")
        rows.append((prefix + name, required, _what(check)))
        inner = check.item if isinstance(check, ListOf) else check
        if isinstance(inner, Obj):
            suffix = "[]." if isinstance(check, ListOf) else "."
            rows += _rows(f"{prefix}{name}{suffix}", inner)
    return rows


def _what(check: Check) -> str:
    return check.describe().replace("|", "\\|")


def _subject(type_: str) -> str:
    if type_ in SYSTEM_ONLY:
        return "written by hrledger itself; refused from clients"
    if type_ in COMPANY_ONLY:
        return "`company`" + (" (admin role)" if type_ in ADMIN_TYPES else "")
    return "an employee id"


def events_markdown() -> str:
    """The whole of docs/events.md."""
    out = [
        "# Event types and their fields",
        "",
        "Generated from `ledger/domain/schemas.py` by `ledger/domain/schema_doc.py`; do not edit by hand.",
        "",
        "Every event has `event_id`, `type`, `subject`, `occurred_at`, `source` and `data`; this page lists "
        "`data` per type. A field not listed is refused. Types starting with `custom.` take any object and are "
        "logged, not interpreted. Subject `company` takes only "
        + " and ".join(f"`{t}`" for t in sorted(COMPANY_ONLY))
        + ". hrledger's own entries (stage events, drafts, withdrawals, erasures, calendar years it records) "
        "occur when the log records them and carry the rule's date in their data.",
        "",
    ]
    for type_, obj in SCHEMAS.items():
        out += [f"## `{type_}`", "", TYPE_NOTES[type_], "", f"Subject: {_subject(type_)}.", ""]
        out += ["| field | required | accepts |", "|---|---|---|"]
        out += [f"| `{name}` | {'yes' if req else 'no'} | {what} |" for name, req, what in _rows("", obj)]
        if obj.note:
            out += ["", f"Rule: {obj.note}."]
        out.append("")
    return "\n".join(out)
