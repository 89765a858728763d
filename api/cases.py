"""The HR domain over HTTP: absence, cases, the attention list, stale contacts and the notification delivery log.

Reads catch the projection up with the log first, so they reflect events acknowledged just before; they
never write, except that a calendar year a case needs and the service can source is recorded first
(SPEC section 4).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from api.config import ESCALATOR, FOLLOWER, NOTIFIER
from api.params import as_of_param, check_params, choice_param, int_param
from ledger.domain import Projector
from ledger.domain.projection import CASE_STATUSES
from ledger.errors import NotFoundError
from ledger.services.notify import EMAIL_KIND, STATUSES, WEBHOOK_KIND

CASE_PATH = "/v1/cases/{case_id:.+}"


def _json(doc: Any) -> web.Response:
    return web.Response(body=json.dumps(doc, ensure_ascii=False).encode("utf-8"), content_type="application/json")


async def projector(request: web.Request) -> Projector:
    follower = request.app[FOLLOWER]
    await follower.catch_up()
    return follower.projector


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
    status = choice_param(request, "status", CASE_STATUSES)
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


async def get_attention(request: web.Request) -> web.Response:
    """Employees at risk of becoming unreachable, each with the reasons (informs HR, decides nothing)."""
    p, as_of, subject = await _per_employee(request)
    return _json(p.attention(as_of, subject=subject))


async def stale_contacts(request: web.Request) -> web.Response:
    """Contacts not verified within the policy's months and never-verified emergency contacts."""
    p, as_of, subject = await _per_employee(request)
    return _json(p.contact_health(as_of, subject=subject))


async def _per_employee(request: web.Request) -> tuple[Projector, datetime, str | None]:
    """The projection, ``as_of`` and the optional ``subject`` of a per-employee list; 404 for an employee the
    log holds nothing about (a typo must not read as "nothing to report")."""
    check_params(request.query, ("as_of", "subject"))
    as_of = as_of_param(request)
    subject = request.query.get("subject") or None
    p = await projector(request)
    if subject is not None and subject not in p.subjects():
        raise NotFoundError(f"no events about employee {subject!r} in the log")
    return p, as_of, subject


async def list_deliveries(request: web.Request) -> web.Response:
    """The notification delivery log (webhook by default, or channel=email), in log order."""
    check_params(request.query, ("status", "channel", "limit"))
    status = choice_param(request, "status", STATUSES)
    channel = choice_param(request, "channel", ("webhook", "email")) or "webhook"
    limit = int_param(request.query, "limit", default=1000, minimum=1, maximum=10_000) or 1000
    kind = WEBHOOK_KIND if channel == "webhook" else EMAIL_KIND
    counts, docs = await request.app[NOTIFIER].delivery_log(kind, status=status, limit=limit)
    return _json({"channel": channel, "counts": counts, "deliveries": docs})
