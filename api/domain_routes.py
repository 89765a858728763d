"""The HR domain over HTTP: absence, cases, stale contacts, the webhook delivery log, and the scheduler.

``setup_domain(app)`` is called by ``create_app`` after the core routes: it registers the routes below
(each behind ``api.auth.guarded``) and appends to ``app.cleanup_ctx`` the context that loads the policy,
builds the escalator on the app's Log, catches up the projection and runs the escalation loop every
``AppConfig.tick_seconds`` (``<= 0`` disables the loop; reads still work). Reads catch the projection
up with the log first, so they reflect events acknowledged just before; they never write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from api.auth import Route, add_guarded
from api.config import CONFIG, ESCALATOR, LOG, METRICS, NOTIFIER, POLICY, STORE
from api.errors import BadRequestError
from api.reads import check_params, int_param
from ledger.core.entries import parse_rfc3339
from ledger.domain import DEFAULT_POLICY, Policy, PolicyError, Projector, load_policy
from ledger.domain.projection import CASE_STATUSES
from ledger.errors import NotFoundError, ValidationError
from ledger.services.escalator import Escalator
from ledger.services.notify import EMAIL_KIND, STATUSES, WEBHOOK_KIND, Notifier

logger = logging.getLogger("hrledger.api")

STOP_TIMEOUT = 10.0


# -- helpers ----------------------------------------------------------------------------------------


def _json(doc: Any) -> web.Response:
    return web.Response(body=json.dumps(doc, ensure_ascii=False).encode("utf-8"), content_type="application/json")


def as_of_param(request: web.Request) -> datetime:
    """``as_of`` (RFC 3339 with offset) or the server clock; a bad value is a 400 naming the field."""
    raw = request.query.get("as_of")
    if raw is None or raw == "":
        return request.app[CONFIG].clock()
    # An unencoded '+' in a query string arrives as a space; RFC 3339 (as we accept it) never has one.
    try:
        return parse_rfc3339(raw.replace(" ", "+"), "as_of")
    except ValidationError as exc:
        raise BadRequestError("as_of", exc.detail) from None


async def projector(request: web.Request) -> Projector:
    escalator = request.app[ESCALATOR]
    await escalator.catch_up()
    return escalator.projector


T = TypeVar("T")


def _missing_years(docs: Iterable[Mapping[str, Any] | None]) -> set[int]:
    return {y for d in docs if d is not None and (y := d["calendar"]["missing_year"]) is not None}


async def evaluate(
    request: web.Request, compute: Callable[[Projector], T], docs: Callable[[T], Iterable[Mapping[str, Any] | None]]
) -> T:
    """``compute`` on the current projection; when it needs calendar years the log lacks but the policy
    file or the national calendar knows, they are recorded first (SPEC section 4) and it runs again."""
    p = await projector(request)
    result = compute(p)
    years = _missing_years(docs(result))
    if years and await request.app[ESCALATOR].ensure_calendar(years):
        result = compute(p)
    return result


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequestError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


# -- handlers ---------------------------------------------------------------------------------------


async def get_absence(request: web.Request) -> web.Response:
    """Absence state of one employee at ``as_of``."""
    check_params(request.query, ("as_of",))
    as_of = as_of_param(request)
    subject = request.match_info["id"]
    p = await projector(request)
    if subject not in p.subjects():
        raise NotFoundError(f"no events about employee {subject!r} in the log")
    return _json(await evaluate(request, lambda p: p.absence(subject, as_of), lambda doc: [doc]))


async def list_cases(request: web.Request) -> web.Response:
    """Escalation cases at ``as_of``, optionally of one status or one employee."""
    check_params(request.query, ("as_of", "status", "subject"))
    as_of = as_of_param(request)
    status = _choice(request, "status", CASE_STATUSES)
    subject = request.query.get("subject") or None
    p = await projector(request)
    if subject is not None and subject not in p.subjects():
        return _json({"as_of": as_of.isoformat(), "cases": []})
    cases = await evaluate(request, lambda p: p.cases(as_of, subject=subject, status=status), lambda cs: cs)
    return _json({"as_of": as_of.isoformat(), "cases": cases})


async def get_case(request: web.Request) -> web.Response:
    """One case (``subject/leave_id``; the slash may be sent as is or percent-encoded)."""
    check_params(request.query, ("as_of",))
    as_of = as_of_param(request)
    case_id = request.match_info["case_id"]
    case = await evaluate(request, lambda p: p.case(case_id, as_of), lambda doc: [doc])
    if case is None:
        raise NotFoundError(f"no case {case_id!r} at {as_of.isoformat()}")
    return _json(case)


async def stale_contacts(request: web.Request) -> web.Response:
    """Contacts not verified within the policy's months and never-verified emergency contacts."""
    check_params(request.query, ("as_of", "subject"))
    as_of = as_of_param(request)
    subject = request.query.get("subject") or None
    p = await projector(request)
    if subject is not None and subject not in p.subjects():
        raise NotFoundError(f"no events about employee {subject!r} in the log")
    return _json(p.contact_health(as_of, subject=subject))


async def list_deliveries(request: web.Request) -> web.Response:
    """The notification delivery log (webhook by default, or channel=email), in log order."""
    check_params(request.query, ("status", "channel", "limit"))
    status = _choice(request, "status", STATUSES)
    channel = _choice(request, "channel", ("webhook", "email")) or "webhook"
    limit = int_param(request.query, "limit", default=1000, minimum=1, maximum=10_000) or 1000
    kind = WEBHOOK_KIND if channel == "webhook" else EMAIL_KIND
    records = await request.app[STORE].list_records(kind, limit=100_000)
    docs = [doc for _, doc in records if status is None or doc.get("status") == status]
    counts = {s: sum(1 for _, d in records if d.get("status") == s) for s in STATUSES}
    return _json({"channel": channel, "counts": counts, "deliveries": docs[-limit:]})


CASE_PATH = "/v1/cases/{case_id:.+}"
DOMAIN_ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/employees/{id}/absence", get_absence, "legal"),
    Route("GET", "/v1/cases", list_cases, "legal"),
    Route("GET", CASE_PATH, get_case, "legal"),
    Route("GET", "/v1/contacts/stale", stale_contacts, "legal"),
    Route("GET", "/v1/webhooks/deliveries", list_deliveries, "admin"),
)


# -- the scheduler ----------------------------------------------------------------------------------


def read_policy(path: Any) -> Policy:
    if path is None:
        return DEFAULT_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError("policy", f"cannot read the policy file {path}: {exc}") from None
    return load_policy(text)


async def _escalation(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    policy = read_policy(config.policy_path)
    notifier = Notifier(app[STORE], policy, clock=config.clock, active=app[LOG].is_sequencer)
    escalator = Escalator(app[LOG], policy, clock=config.clock, notifier=notifier)
    app[POLICY], app[NOTIFIER], app[ESCALATOR] = policy, notifier, escalator
    await escalator.start()
    app[METRICS].calendar = escalator.calendar_status
    warning = escalator.calendar_status().warning
    if warning is not None:
        logger.warning("%s", warning)
    stop = asyncio.Event()
    task = asyncio.create_task(escalator.run(stop, config.tick_seconds)) if config.tick_seconds > 0 else None
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await task  # a timeout cancels it
            except TimeoutError:
                logger.error("the escalation loop did not stop within %.0f s; cancelled", STOP_TIMEOUT)
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await notifier.stop()  # pending deliveries stay in the store and resume on the next start


def setup_domain(app: web.Application) -> None:
    """Register the domain routes and the escalation context; call once, after the core's cleanup_ctx."""
    add_guarded(app, DOMAIN_ROUTES)
    app.cleanup_ctx.append(_escalation)


# -- OpenAPI 3.1 path items (merged into the document by api.openapi) --------------------------------

_R = "#/components/responses/"
_AUTH = ("401", "403")


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: {"$ref": _R + s} for s in statuses}


def _op(
    role: str,
    summary: str,
    schema: dict[str, Any],
    params: list[dict[str, Any]],
    errors: tuple[str, ...],
    description: str = "",
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": (description + f"\n\nRequires a token with the `{role}` role (admin has every role).").strip(),
        "security": [{"bearer": []}],
        "x-required-role": role,
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            **_errors(*errors),
        },
    }


def _q(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_AS_OF = _q(
    "as_of",
    "RFC 3339 instant with offset (default now); only facts that occurred at or before it count",
    {"type": "string", "format": "date-time"},
)
_STR = {"type": "string"}
_DATE = {"type": ["string", "null"], "format": "date"}
_SEQS = {"type": "array", "items": {"type": "integer"}}
_ITEM = {
    "type": "object",
    "required": ["name", "ok", "seqs", "missing"],
    "properties": {
        "name": _STR,
        "ok": {"type": "boolean"},
        "seqs": _SEQS,
        "missing": {"type": ["object", "null"], "properties": {"zh": _STR, "en": _STR}},
    },
}
ABSENCE_SCHEMA = {
    "type": "object",
    "required": ["subject", "state", "overdue_days", "return_day", "leave_id"],
    "properties": {
        "subject": _STR,
        "overdue_days": {"type": "integer"},
        "return_day": _DATE,
        "leave_id": {"type": ["string", "null"]},
        "case_id": {"type": ["string", "null"]},
        "missed_days": {"type": "array", "items": {"type": "string", "format": "date"}},
        "state": {"enum": ["present", "on_leave", "overdue", "returned", "terminated"]},
    },
}
CASE_SCHEMA = {
    "type": "object",
    "required": [
        "case_id",
        "subject",
        "status",
        "leave_id",
        "return_day",
        "overdue_days",
        "stage",
        "stages",
        "readiness",
    ],
    "properties": {
        "case_id": _STR,
        "subject": _STR,
        "status": {"enum": list(CASE_STATUSES)},
        "leave_id": _STR,
        "return_day": _DATE,
        "overdue_days": {"type": "integer"},
        "stage": {"type": ["string", "null"]},
        "stages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "stage": _STR,
                    "reached_on": {"type": "string", "format": "date"},
                    "seq": {"type": ["integer", "null"], "description": "the stage event, once recorded"},
                },
            },
        },
        "readiness": {
            "type": "object",
            "properties": {"ready": {"type": "boolean"}, "items": {"type": "array", "items": _ITEM}},
        },
        "late_recorded": {"type": "array", "items": {"type": "object"}},
        "evidence_seqs": _SEQS,
    },
}
DOMAIN_OPENAPI_PATHS: dict[str, Any] = {
    "/v1/employees/{id}/absence": {
        "get": {
            **_op(
                "legal",
                "Absence state of one employee at an instant",
                ABSENCE_SCHEMA,
                [{"name": "id", "in": "path", "required": True, "schema": _STR}, _AS_OF],
                ("400", *_AUTH, "404", "500"),
            ),
        }
    },
    "/v1/cases": {
        "get": _op(
            "legal",
            "Escalation cases at an instant",
            {"type": "object", "properties": {"as_of": _STR, "cases": {"type": "array", "items": CASE_SCHEMA}}},
            [
                _AS_OF,
                _q("status", "only cases of this status", {"enum": list(CASE_STATUSES)}),
                _q("subject", "only this employee's cases", _STR),
            ],
            ("400", *_AUTH, "500"),
        )
    },
    "/v1/cases/{case_id}": {
        "get": _op(
            "legal",
            "One case with its stages, evidence and readiness checklist",
            CASE_SCHEMA,
            [
                {
                    "name": "case_id",
                    "in": "path",
                    "required": True,
                    "schema": _STR,
                    "description": "subject/leave_id; the slash may be sent as is or as %2F",
                },
                _AS_OF,
            ],
            ("400", *_AUTH, "404", "500"),
        )
    },
    "/v1/contacts/stale": {
        "get": _op(
            "legal",
            "Stale contacts and never-verified emergency contacts",
            {
                "type": "object",
                "properties": {
                    "as_of": _STR,
                    "employees": {"type": "array", "items": {"type": "object"}},
                    "stale_contacts": {"type": "integer"},
                    "unverified_emergency_contacts": {"type": "integer"},
                },
            },
            [_AS_OF, _q("subject", "one employee only", _STR)],
            ("400", *_AUTH, "404", "500"),
        )
    },
    "/v1/webhooks/deliveries": {
        "get": _op(
            "admin",
            "Delivery log of stage notifications (attempts, status, last error, next attempt)",
            {
                "type": "object",
                "properties": {
                    "channel": _STR,
                    "counts": {"type": "object"},
                    "deliveries": {"type": "array", "items": {"type": "object"}},
                },
            },
            [
                _q("status", "only deliveries in this status", {"enum": list(STATUSES)}),
                _q("channel", "webhook (default) or email", {"enum": ["webhook", "email"]}),
                _q("limit", "at most this many, the latest", {"type": "integer", "minimum": 1, "maximum": 10000}),
            ],
            ("400", *_AUTH, "500"),
        )
    },
}
