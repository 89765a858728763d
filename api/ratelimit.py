"""Rate limit on failed authentications, per client IP: brute-forcing bearer tokens gets 429, nothing else.

A token bucket per client address holds ``burst`` failures and refills at ``per_second``. Every answer
401 to a request that carried an ``Authorization`` header (an unknown, revoked or malformed token) takes
one; a request without one guesses nothing and costs nothing, so probing routes without a token (as a
conformance suite does) never locks out the client's real requests. Once a client's bucket is empty, its
requests carrying an ``Authorization`` header are answered 429 problem+json with ``Retry-After`` *before* the
token is looked up, so a guesser learns nothing more until the bucket refills (a correct guess is not told apart from a
wrong one). Requests that authenticate successfully cost nothing, and clients that never fail have no
bucket at all. Public routes without a token (/healthz, /metrics, /v1/openapi.json) are never limited.

Memory is bounded: at most ``max_clients`` buckets; when full, refilled buckets are dropped first, then
the oldest. The client address is ``request.remote`` (the TCP peer): behind a reverse proxy, configure
the proxy to limit, or pass ``client_key`` reading a header the proxy sets and clients cannot.

The service uses it inside its one middleware layer (``api.app``), after the error mapping, so it sees the
401 the mapping produced; ``auth_failure_limit`` is the same rule as a middleware of its own.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from api.errors import Handler, problem

# failed authentications allowed at once: tokens hold 256 random bits, so the burst only bounds the cost of a
# guesser, and a client (or a test suite) trying a few wrong tokens on every route stays well inside it
DEFAULT_BURST = 100
DEFAULT_PER_SECOND = 0.5  # refill: one more failure allowed every 2 s
DEFAULT_MAX_CLIENTS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class AuthFailureLimiter:
    """The token buckets; usable on its own (``allowed``, ``failed``) or through ``middleware``."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0 or max_clients < 1:
            raise ValueError("burst and max_clients must be at least 1 and per_second positive")
        self.burst, self.per_second, self.max_clients = burst, per_second, max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _refill(self, key: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
        return bucket

    def retry_after(self, key: str) -> int:
        """0 when ``key`` may try to authenticate now, else the whole seconds until it may."""
        bucket = self._refill(key, self._clock())
        if bucket is None or bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def failed(self, key: str) -> None:
        now = self._clock()
        bucket = self._refill(key, now)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        self._buckets.move_to_end(key)
        bucket.tokens = max(0.0, bucket.tokens - 1)

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self.max_clients:
            return
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.per_second >= self.burst]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) >= self.max_clients:
            self._buckets.popitem(last=False)


def client_ip(request: web.Request) -> str:
    """The TCP peer's address (the key of a client's bucket)."""
    return request.remote or "unknown"


def too_many_requests(key: str, wait: int) -> web.Response:
    """The 429 answer to a client whose bucket is empty, with Retry-After."""
    return problem(
        429,
        "too-many-requests",
        "Too many requests",
        f"too many failed authentications from {key}; try again in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def auth_failure_limit(
    limiter: AuthFailureLimiter | None = None, client_key: Callable[[web.Request], str] = client_ip
) -> Any:
    """The aiohttp middleware; put it first in ``middlewares`` so it sees the final status."""
    limits = limiter if limiter is not None else AuthFailureLimiter()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = client_key(request)
        if "Authorization" in request.headers:
            wait = limits.retry_after(key)
            if wait:
                return too_many_requests(key, wait)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # an app without an error middleware raises its 401
            if exc.status == 401 and "Authorization" in request.headers:
                limits.failed(key)
            raise
        if response.status == 401 and "Authorization" in request.headers:
            limits.failed(key)
        return response

    return middleware
