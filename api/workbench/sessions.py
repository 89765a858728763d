"""Sessions of people signed in to the workbench: a random cookie, and its SHA-256 as a stored record.

The cookie holds 32 random bytes and nothing else (HttpOnly, SameSite=Strict, Path=/, Secure when the
workbench is reached over TLS: see ``WorkbenchSettings.public_url``). The store keeps only the cookie's
SHA-256, the person's name, the session's CSRF token and its times, so a copy of the store signs nobody
in. A session ends at sign-out, after ``idle`` without a request, ``lifetime`` after sign-in, or at the
next request after its person is disabled; sessions outlive a restart of the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from api.workbench.settings import WorkbenchSettings
from ledger.core.entries import parse_rfc3339
from ledger.errors import ValidationError
from ledger.services.tokens import ROLE_GRANTS
from ledger.services.users import User

KIND = "workbench_session"
COOKIE = "hrl_session"
SECURE_COOKIE = "__Host-hrl_session"  # the prefix makes browsers refuse it without Secure, Path=/ and no Domain
TOUCH_EVERY = timedelta(minutes=1)  # how stale ``seen_at`` may get before a request writes it again


def _token(random_bytes: Callable[[int], bytes]) -> str:
    return base64.urlsafe_b64encode(random_bytes(32)).decode("ascii").rstrip("=")


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    key: str
    user: User
    csrf: str
    created_at: datetime
    seen_at: datetime

    def grants(self, role: str) -> bool:
        return not self.user.disabled and role in ROLE_GRANTS.get(self.user.role, frozenset())

    def csrf_ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode("utf-8"), self.csrf.encode("utf-8"))


def is_secure(request: web.Request, settings: WorkbenchSettings) -> bool:
    return settings.force_secure or request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def cookie_name(request: web.Request, settings: WorkbenchSettings) -> str:
    return SECURE_COOKIE if is_secure(request, settings) else COOKIE


class Records(Protocol):
    """The part of the store sessions use (``ledger.storage.base.Storage`` has it): small documents by key."""

    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None: ...
    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None: ...
    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]: ...
    async def delete_record(self, kind: str, key: str) -> bool: ...


class Sessions:
    def __init__(
        self,
        store: Records,
        settings: WorkbenchSettings,
        *,
        find_user: Callable[[str], Awaitable[User | None]],
        clock: Callable[[], datetime],
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self.store = store
        self.find_user = find_user
        self.settings = settings
        self.clock = clock
        self.random_bytes = random_bytes

    async def create(self, user: User) -> tuple[str, Session]:
        """A new session for ``user``; returns the cookie value (shown to the browser only) and the session."""
        await self.prune()
        cookie = _token(self.random_bytes)
        now = self.clock()
        session = Session(_key(cookie), user, _token(self.random_bytes), now, now)
        await self._put(session)
        return cookie, session

    async def _put(self, s: Session) -> None:
        doc = {
            "user": s.user.name,
            "csrf": s.csrf,
            "created_at": s.created_at.isoformat(),
            "seen_at": s.seen_at.isoformat(),
        }
        await self.store.put_record(KIND, s.key, doc)

    def _expired(self, created: datetime, seen: datetime, now: datetime) -> bool:
        return now - seen > self.settings.idle or now - created > self.settings.lifetime or seen > now + TOUCH_EVERY

    async def lookup(self, cookie: str | None) -> Session | None:
        """The live session this cookie names, or None (an expired one, or one of a disabled person, is ended)."""
        if not cookie or len(cookie) > 128:
            return None
        key = _key(cookie)
        doc = await self.store.get_record(KIND, key)
        if doc is None:
            return None
        try:
            created = parse_rfc3339(str(doc["created_at"]), "created_at")
            seen = parse_rfc3339(str(doc["seen_at"]), "seen_at")
        except (KeyError, ValidationError):
            await self.store.delete_record(KIND, key)
            return None
        now = self.clock()
        user = await self.find_user(str(doc.get("user", "")))
        if user is None or user.disabled or self._expired(created, seen, now):
            await self.store.delete_record(KIND, key)
            return None
        session = Session(key, user, str(doc["csrf"]), created, seen)
        if now - seen >= TOUCH_EVERY:
            session = Session(key, user, session.csrf, created, now)
            await self._put(session)
        return session

    async def end(self, session: Session) -> None:
        await self.store.delete_record(KIND, session.key)

    async def prune(self) -> int:
        """Forget expired sessions (called at each sign-in, so the records stay few)."""
        now = self.clock()
        gone = 0
        for key, doc in await self.store.list_records(KIND, limit=100_000):
            try:
                expired = self._expired(
                    parse_rfc3339(str(doc["created_at"]), "created_at"),
                    parse_rfc3339(str(doc["seen_at"]), "seen_at"),
                    now,
                )
            except (KeyError, ValidationError):
                expired = True
            if expired:
                gone += await self.store.delete_record(KIND, key)
        return gone

    def set_cookie(self, response: web.StreamResponse, request: web.Request, cookie: str) -> None:
        secure = is_secure(request, self.settings)
        response.set_cookie(
            SECURE_COOKIE if secure else COOKIE,
            cookie,
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
            max_age=int(self.settings.lifetime.total_seconds()),
        )

    def clear_cookie(self, response: web.StreamResponse, request: web.Request) -> None:
        response.del_cookie(cookie_name(request, self.settings), path="/")
