"""RFC 9457 problem+json: the one place where errors become HTTP responses.

Every ``LedgerError`` maps to one status here; aiohttp's own HTTP errors (unknown route, wrong method,
body too large) are rewritten into the same shape, and anything unexpected becomes a logged 500 that
says nothing about internals.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ledger.core.wire import load_json
from ledger.errors import (
    BadRequestError,
    CalendarError,
    CheckpointTimeoutError,
    ConflictError,
    DataDirError,
    ForbiddenError,
    IntegrityError,
    LedgerError,
    NotFoundError,
    PolicyError,
    ProjectionGapError,
    SigningHeldError,
    StorageError,
    StorageUnavailableError,
    TimestampError,
    TimestampVerificationError,
    UnauthorizedError,
    ValidationError,
    VerificationError,
)

log = logging.getLogger("hrledger.api")

PROBLEM_BASE = "https://hrledger.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 1
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# (class, status, slug) in lookup order: the first class the error is an instance of wins, so a subclass
# comes before its base. Every class of ledger.errors has its own row (a test checks it).
ERROR_MAP: tuple[tuple[type[LedgerError], int, str], ...] = (
    (BadRequestError, 400, "bad-request"),
    (PolicyError, 422, "invalid-policy"),
    (ValidationError, 422, "validation-error"),
    (UnauthorizedError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (CalendarError, 409, "calendar-incomplete"),
    (CheckpointTimeoutError, 503, "checkpoint-timeout"),
    (StorageUnavailableError, 503, "storage-unavailable"),
    (SigningHeldError, 503, "signing-held"),
    (IntegrityError, 500, "integrity-failure"),
    (VerificationError, 500, "verification-failure"),
    (TimestampVerificationError, 502, "timestamp-verification-failure"),
    (TimestampError, 502, "timestamp-error"),
    (ProjectionGapError, 500, "projection-out-of-step"),
    (StorageError, 500, "storage-error"),
    (DataDirError, 500, "data-dir-error"),
    (LedgerError, 500, "ledger-error"),
)

# aiohttp's own errors (raised by the router or while reading the body) by status.
HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def decode_json(body: bytes) -> Any:
    """Strict JSON for request bodies (``ledger.core.wire.load_json``): UTF-8, no repeated keys, no NaN,
    nesting within the interpreter's reach; a malformed body is a bad request (400), not an invalid event."""
    try:
        return load_json(body)
    except ValidationError as exc:
        raise BadRequestError(exc.field, exc.detail) from None


BODY_TIMEOUT = 10.0  # seconds a client may take to send its body


async def read_body(request: web.Request) -> bytes:
    """The request body, or 408 for a client that stalls while sending it (a slow-client attack)."""
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            return await request.read()
    except TimeoutError:
        request.protocol.force_close()  # the rest of the body may still come: never read it as a request
        raise web.HTTPRequestTimeout(text=f"the body did not arrive within {BODY_TIMEOUT:g} s") from None


def problem(
    status: int, slug: str, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def classify(exc: LedgerError) -> tuple[int, str]:
    for cls, status, slug in ERROR_MAP:
        if isinstance(exc, cls):
            return status, slug
    return 500, "ledger-error"  # unreachable: LedgerError is the last row


def ledger_problem(exc: LedgerError) -> web.Response:
    status, slug = classify(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationError):
        extra["field"] = exc.field
        detail = exc.detail
    else:
        detail = str(exc) or exc.title
    if isinstance(exc, UnauthorizedError):
        challenge = 'Bearer realm="hrledger"'
        if exc.invalid_token:
            challenge += ', error="invalid_token"'
        headers["WWW-Authenticate"] = challenge
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status >= 500:
        log.error("%s: %s", type(exc).__name__, detail)
    return problem(status, slug, exc.title, detail, headers=headers, **extra)


def http_problem(exc: web.HTTPException, max_body: int) -> web.Response:
    slug, title = HTTP_SLUGS.get(exc.status, ("http-error", exc.reason))
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    if isinstance(exc, web.HTTPMethodNotAllowed):
        detail = f"{exc.method} is not allowed here; allowed: {', '.join(sorted(exc.allowed_methods))}"
    elif exc.status == 404:
        detail = "no such route"
    elif exc.status == 413:
        detail = f"the request body is larger than the limit of {max_body} bytes"
    else:
        detail = exc.text or title
    return problem(exc.status, slug, title, detail, headers=headers)


RejectHook = Callable[[web.Request, str], None]


def error_middleware(on_reject: RejectHook, max_body: int) -> Any:
    """The one error middleware; ``on_reject(request, slug)`` counts refusals for /metrics."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except LedgerError as exc:
            response = ledger_problem(exc)
            on_reject(request, classify(exc)[1])
            return response
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = http_problem(exc, max_body)
            on_reject(request, HTTP_SLUGS.get(exc.status, ("http-error", ""))[0])
            return response
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            on_reject(request, "internal-error")
            return problem(
                500, "internal-error", "Internal server error", "an unexpected error occurred; it has been logged"
            )

    return middleware
