"""Bearer tokens and roles, enforced by wrapping every route's handler (see ``api.routes``).

Lookups go through ``ledger.services.tokens.TokenCache`` (a revocation takes effect within
``AppConfig.token_cache_seconds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from api.config import TOKENS
from api.errors import Handler
from ledger.errors import ForbiddenError, UnauthorizedError
from ledger.services.tokens import TokenInfo

TOKEN_INFO = web.RequestKey("token", TokenInfo)


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise UnauthorizedError("an Authorization: Bearer <token> header is required", invalid_token=False)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("the Authorization header must be 'Bearer <token>'", invalid_token=True)
    return token


async def authorize(request: web.Request, role: str) -> TokenInfo:
    token = bearer_token(request)
    app = request.app
    info = await app[TOKENS].lookup(token)
    if info is None:
        raise UnauthorizedError("the bearer token is unknown", invalid_token=True)
    if info.revoked:
        raise UnauthorizedError("the bearer token was revoked", invalid_token=True)
    if not info.grants(role):
        raise ForbiddenError(f"this route needs the {role} role; the token {info.token_id!r} has role {info.role}")
    return info


@dataclass(frozen=True)
class Route:
    """One route and the role it requires (None = public on purpose)."""

    method: str
    path: str
    handler: Handler
    role: str | None


def add_guarded(app: web.Application, routes: Iterable[Route]) -> None:
    """Register ``routes``, each handler behind its role check."""
    for route in routes:
        app.router.add_route(route.method, route.path, guarded(route.handler, route.role))


def guarded(handler: Handler, role: str | None) -> Handler:
    """``handler`` behind a role check; ``role=None`` marks a deliberately public route."""
    if role is None:
        return handler

    async def check(request: web.Request) -> web.StreamResponse:
        request[TOKEN_INFO] = await authorize(request, role)
        return await handler(request)

    check.__name__ = getattr(handler, "__name__", "handler")
    check.__doc__ = handler.__doc__
    return check
