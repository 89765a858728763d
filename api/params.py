"""Request parameters: every query and path value a handler reads goes through one of these.

Unknown or repeated query parameters are refused (a typo must never silently widen a query); numbers are
bounded; instants are RFC 3339 with an offset. Each refusal is a 400 naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from aiohttp import web
from multidict import MultiMapping

from api.config import CONFIG
from ledger.core.entries import instant_problem, parse_rfc3339
from ledger.errors import BadRequestError, ValidationError

MAX_TREE_SIZE = 2**63 - 1
_INT = re.compile(r"[0-9]{1,19}")


def check_params(query: MultiMapping[str], allowed: Iterable[str]) -> None:
    """Refuse unknown and repeated query parameters."""
    names = set(allowed)
    for name in query:
        if name not in names:
            raise BadRequestError(name, f"unknown query parameter (allowed: {', '.join(sorted(names)) or 'none'})")
        if len(query.getall(name)) > 1:
            raise BadRequestError(name, "given more than once")


def int_param(
    query: Mapping[str, str], name: str, *, default: int | None = None, minimum: int = 0, maximum: int = MAX_TREE_SIZE
) -> int | None:
    """A decimal integer from ``minimum`` to ``maximum``, or ``default`` when absent or empty."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise BadRequestError(name, f"{raw!r} is not an integer from {minimum} to {maximum}")
    return int(raw)


def required_int(query: Mapping[str, str], name: str, **kw: int) -> int:
    value = int_param(query, name, **kw)
    if value is None:
        raise BadRequestError(name, "is required")
    return value


def seq_param(request: web.Request, name: str = "seq") -> int:
    """A seq in the path: a non-negative integer within the largest tree size."""
    raw = request.match_info[name]
    if not _INT.fullmatch(raw) or int(raw) > MAX_TREE_SIZE:
        raise BadRequestError(name, f"{raw!r} is not a non-negative integer")
    return int(raw)


def as_of_param(request: web.Request) -> datetime:
    """``as_of`` (RFC 3339 with offset) or the server clock; a bad value is a 400 naming the field."""
    raw = request.query.get("as_of")
    if raw is None or raw == "":
        return request.app[CONFIG].clock()
    # An unencoded '+' in a query string arrives as a space; RFC 3339 (as we accept it) never has one.
    try:
        as_of = parse_rfc3339(raw.replace(" ", "+"), "as_of")
    except ValidationError as exc:
        raise BadRequestError("as_of", exc.detail) from None
    problem = instant_problem(as_of)
    if problem is not None:
        raise BadRequestError("as_of", problem)
    return as_of


def choice_param(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequestError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def wait_param(request: web.Request) -> bool:
    """``?wait=checkpoint`` on POST /v1/events; nothing else is accepted there."""
    check_params(request.query, ("wait",))
    wait = request.query.get("wait")
    if wait is None:
        return False
    if wait != "checkpoint":
        raise BadRequestError("wait", "the only accepted value is 'checkpoint'")
    return True
