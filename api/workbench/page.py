"""What every page handler shares: the signed-in session, the projection, rendering with the company's zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from api.cases import projector
from api.config import CONFIG, POLICY
from api.workbench.render import render
from api.workbench.sessions import Session
from ledger.domain import Projector

SESSION = web.RequestKey("workbench_session", Session)


def session_of(request: web.Request) -> Session:
    return request[SESSION]


def now(request: web.Request) -> datetime:
    return request.app[CONFIG].clock()


async def projection(request: web.Request) -> Projector:
    return await projector(request)


def page(request: web.Request, template: str, context: Mapping[str, Any], status: int = 200) -> web.Response:
    session = request.get(SESSION)
    base = {"session": session, "flash": request.query.get("flash"), "error": None}
    return render(request, template, {**base, **context}, tz=request.app[POLICY].tz, status=status)


def see_other(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never //host or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
