"""A form posted from a case page becomes one event, appended exactly as ``POST /v1/events`` appends it.

The form is turned into the event's JSON and handed to ``api.events.parse_events`` (the same validation
and the same refusals, naming the field) and ``api.events.append_events`` (the same role checks and the
same log), with ``source`` = ``workbench/<user name>``. The ``event_id`` comes from a nonce the page put
in the form, so posting the same form twice (a reload, a double click) records one event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiMapping

from api.config import CONFIG, POLICY
from api.events import append_events, parse_events
from api.workbench.page import safe_next, see_other, session_of
from ledger.errors import NotFoundError, ValidationError

Parse = Callable[[MultiMapping[Any], str, Any], Any]  # (form, field name, policy) -> value, or None to leave out


def text(form: MultiMapping[Any], name: str, policy: Any) -> Any:
    value = str(form.get(name, "")).strip()
    return value or None


def lines(form: MultiMapping[Any], name: str, policy: Any) -> Any:
    items = [v.strip() for v in re.split(r"[\r\n]+", str(form.get(name, ""))) if v.strip()]
    return items or None


def checked(form: MultiMapping[Any], name: str, policy: Any) -> Any:
    return [str(v) for v in form.getall(name, [])] or None


def number(form: MultiMapping[Any], name: str, policy: Any) -> Any:
    value = str(form.get(name, "")).strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationError(name, f"{value!r} is not a whole number")
    return int(value)


def local_time(form: MultiMapping[Any], name: str, policy: Any) -> Any:
    """A ``datetime-local`` value, read in the company time zone, as RFC 3339 with its offset."""
    value = str(form.get(name, "")).strip()
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, f"{value!r} is not a date and time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=policy.tz)
    return when.isoformat()


@dataclass(frozen=True)
class Form:
    type: str
    fields: tuple[tuple[str, Parse], ...]


FORMS: dict[str, Form] = {
    "contact_attempt": Form(
        "contact.attempted",
        (("channel", text), ("target", text), ("value", text), ("result", text), ("note", text)),
    ),
    "notice_issued": Form(
        "notice.issued",
        (
            ("notice_id", text),
            ("kind", text),
            ("document_digest", text),
            ("recipients", lines),
            ("channels", checked),
            ("return_within_days", number),
            ("return_by", local_time),
            ("serves", text),
            ("draft_seq", number),
        ),
    ),
    "notice_delivered": Form(
        "notice.delivered",
        (
            ("notice_id", text),
            ("channel", text),
            ("evidence", text),
            ("received_by", text),
            ("recipient_name", text),
            ("address", text),
        ),
    ),
    "notice_delivery_failed": Form(
        "notice.delivery_failed", (("notice_id", text), ("channel", text), ("reason", text), ("address", text))
    ),
    "notice_refused": Form(
        "notice.refused",
        (("notice_id", text), ("refused_by", text), ("left_at", text), ("witnesses", lines), ("evidence_digest", text)),
    ),
    "union_notified": Form("union.notified", (("union", text), ("note", text))),
    "absence_reported": Form(
        "absence.reported",
        (
            ("reason", text),
            ("reported_by", text),
            ("reporter_name", text),
            ("from", text),
            ("to", text),
            ("evidence_digest", text),
            ("note", text),
        ),
    ),
    "absence_assessed": Form(
        "absence.assessed",
        (
            ("report_seq", number),
            ("decision", text),
            ("from", text),
            ("to", text),
            ("assessed_by", text),
            ("note", text),
        ),
    ),
}


def event_doc(
    form_name: str, form: MultiMapping[Any], user_name: str, source: str, policy: Any, now: datetime
) -> dict[str, Any]:
    spec = FORMS.get(form_name)
    if spec is None:
        raise NotFoundError(f"no form {form_name!r}")
    data = {name: value for name, parse in spec.fields if (value := parse(form, name, policy)) is not None}
    nonce = text(form, "nonce", policy)
    if nonce is None or not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", nonce):
        raise ValidationError("nonce", "the form lacks its id: reload the page and fill it in again")
    return {
        "event_id": f"workbench/{user_name}/{nonce}",
        "type": spec.type,
        "subject": text(form, "subject", policy) or "",
        "occurred_at": local_time(form, "occurred_at", policy) or now.astimezone(policy.tz).isoformat(),
        "source": source,
        "data": data,
    }


async def record_form(request: web.Request, form_name: str, form: MultiMapping[Any]) -> int:
    """Append the event a form describes; returns its seq."""
    session = session_of(request)
    config = request.app[CONFIG]
    doc = event_doc(form_name, form, session.user.name, session.user.source, request.app[POLICY], config.clock())
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    events, _ = parse_events(body, now=config.clock(), max_batch=1)
    who = f"{session.user.name} has role {session.user.role}"
    (result,) = await append_events(request.app, events, session.grants, who)
    return result.seq


async def record(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    seq = await record_form(request, request.match_info["form"], form)
    back = safe_next(str(form.get("back", "/")))
    flash = quote(f"已记录为 seq {seq} / recorded as seq {seq}")
    return see_other(f"{back}?flash={flash}#seq-{seq}")
