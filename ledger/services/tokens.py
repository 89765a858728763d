"""Bearer tokens: only a SHA-256 of each token is stored; the token itself is shown once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.errors import NotFoundError, ValidationError
from ledger.storage.base import Storage

ROLES = ("writer", "auditor", "legal", "hr", "admin")
# What each role may do (SPEC section 2): a role includes the roles listed for it.
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "writer": frozenset({"writer"}),
    "auditor": frozenset({"auditor"}),
    "legal": frozenset({"legal", "auditor"}),
    "hr": frozenset({"hr", "writer", "legal", "auditor"}),  # HR staff in the workbench
    "admin": frozenset(ROLES),
}
KIND = "token"
PREFIX = "hrl_"


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    role: str
    created_at: str
    revoked: bool

    def grants(self, role: str) -> bool:
        return not self.revoked and role in ROLE_GRANTS[self.role]

    def to_doc(self, digest: str) -> dict[str, Any]:
        return {
            "digest": digest,
            "token_id": self.token_id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
            "revoked": self.revoked,
        }


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(doc: dict[str, Any]) -> TokenInfo:
    return TokenInfo(doc["token_id"], doc["name"], doc["role"], doc["created_at"], bool(doc["revoked"]))


async def create_token(
    store: Storage, *, role: str, name: str, created_at: str, secret: bytes
) -> tuple[str, TokenInfo]:
    """``secret`` is 32 random bytes from the caller; the token is shown once and only its hash kept."""
    if role not in ROLES:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(ROLES)}")
    if not name or len(name) > 128 or not name.isprintable():
        raise ValidationError("name", "must be 1 to 128 printable characters")
    if len(secret) < 16:
        raise ValidationError("secret", "a token needs at least 16 random bytes")
    token = PREFIX + base64.urlsafe_b64encode(secret).decode("ascii").rstrip("=")
    digest = token_digest(token)
    info = TokenInfo(digest[:12], name, role, created_at, False)
    await store.put_record(KIND, digest, info.to_doc(digest))
    return token, info


async def lookup_token(store: Storage, token: str) -> TokenInfo | None:
    digest = token_digest(token)
    doc = await store.get_record(KIND, digest)
    if doc is None or not hmac.compare_digest(str(doc.get("digest", "")), digest):
        return None
    return _info(doc)


async def list_tokens(store: Storage) -> list[TokenInfo]:
    return [_info(doc) for _, doc in await store.list_records(KIND, limit=100_000)]


async def revoke_token(store: Storage, token_id_or_name: str) -> list[TokenInfo]:
    revoked = []
    for key, doc in await store.list_records(KIND, limit=100_000):
        if token_id_or_name in (doc["token_id"], doc["name"]) and not doc["revoked"]:
            doc["revoked"] = True
            await store.put_record(KIND, key, doc)
            revoked.append(_info(doc))
    if not revoked:
        raise NotFoundError(f"no active token with id or name {token_id_or_name!r}")
    return revoked


MAX_CACHED = 10_000


class TokenCache:
    """Token lookups cached for ``ttl`` seconds (``AppConfig.token_cache_seconds``, default 5 s).

    At thousands of requests per second a store read per request would cost more than the request itself.
    The price is that a revocation takes effect within that many seconds, not at once. Unknown tokens are
    cached too (so a client hammering with a bad token does not hammer the store) in a bounded table."""

    def __init__(self, store: Storage, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, TokenInfo | None]] = {}

    async def lookup(self, token: str) -> TokenInfo | None:
        now = self._clock()
        hit = self._entries.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = await lookup_token(self.store, token)
        if self.ttl > 0:
            if len(self._entries) >= MAX_CACHED:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                if len(self._entries) >= MAX_CACHED:
                    self._entries.clear()
            self._entries[token] = (now + self.ttl, info)
        return info

    def clear(self) -> None:
        self._entries.clear()
