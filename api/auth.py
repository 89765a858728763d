"""Bearer tokens and roles, enforced by wrapping every route's handler (see ``api.routes``).

Lookups are cached in memory for ``AppConfig.token_cache_seconds`` (default 5 s): at thousands of
requests per second a store read per request would cost more than the request itself. The price is
that a revocation takes effect within that many seconds, not at once. Unknown tokens are cached too
(so a client hammering with a bad token does not hammer the store) in a bounded table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from api.config import STORE
from api.errors import Handler, UnauthorizedError
from ledger.errors import ForbiddenError
from ledger.services.tokens import TokenInfo, lookup_token
from ledger.storage.base import Storage

MAX_CACHED = 10_000
TOKEN_INFO = web.RequestKey("token", TokenInfo)


class TokenCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, TokenInfo | None]] = {}

    async def lookup(self, store: Storage, token: str) -> TokenInfo | None:
        now = self._clock()
        hit = self._entries.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = await lookup_token(store, token)
        if self.ttl > 0:
            if len(self._entries) >= MAX_CACHED:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= MAX_CACHED:
                    self._entries.clear()
            self._entries[token] = (now + self.ttl, info)
        return info

    def clear(self) -> None:
        self._entries.clear()


TOKENS = web.AppKey("tokens", TokenCache)


TOKENS = web.AppKey("tokens", TokenCache)


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
    info = await app[TOKENS].lookup(app[STORE], token)
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
