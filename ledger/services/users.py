"""People who sign in to the workbench (SPEC section 8): names, roles and Argon2id password hashes.

Each person is one record of kind ``user`` keyed by their name. The name is a handle (``wang.li``,
``hr-07``), not a person's full name: what they record carries ``source`` = ``workbench/<name>``, and a
leaf's ``source`` stays in the log forever, beyond erasure (SPEC section 1). So names are 1 to 64 ASCII
letters, digits, ``.``, ``_`` or ``-``.

Passwords are hashed with Argon2id (argon2-cffi) at OWASP's recommended minimum (19 MiB, two passes, one
lane); the hash string carries its parameters, so raising them later rehashes each password at its next
sign-in (:func:`authenticate`). Hashing is deliberately slow and runs in a worker thread, never on the
event loop. Disabling a person keeps the record (their entries in the log still name them) and ends
their sessions at their next request.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ledger.errors import ConflictError, NotFoundError, ValidationError
from ledger.services.tokens import ROLES
from ledger.storage.base import Storage

KIND = "user"
NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
#: OWASP Password Storage Cheat Sheet, Argon2id minimum: m = 19 MiB, t = 2, p = 1
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
SOURCE_PREFIX = "workbench/"
#: a hash to verify against when the name is unknown, so a wrong name costs as long as a wrong password
_DUMMY_HASH = HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str
    disabled: bool

    @property
    def source(self) -> str:
        """The ``source`` of every event this person records through the workbench."""
        return SOURCE_PREFIX + self.name


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValidationError(
            "name",
            "must be 1 to 64 ASCII letters, digits, '.', '_' or '-' (a handle such as wang.li, not a full name: "
            "it is written into the log as the source of what the person records, and stays there)",
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if not password.isprintable():
        raise ValidationError("password", "must not contain control characters")
    return password


def _user(doc: dict[str, Any]) -> User:
    return User(str(doc["name"]), str(doc["role"]), str(doc["created_at"]), bool(doc["disabled"]))


async def create_user(store: Storage, *, name: str, role: str, password: str, created_at: str) -> User:
    """A new person; an existing name is a ConflictError (disable it, or choose another name)."""
    check_name(name)
    if role not in ROLES:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(ROLES)}")
    check_password(password)
    if await store.get_record(KIND, name) is not None:
        raise ConflictError(f"a person named {name!r} exists already")
    digest = await asyncio.to_thread(HASHER.hash, password)
    user = User(name, role, created_at, False)
    await store.put_record(KIND, name, {**_doc(user), "password": digest})
    return user


def _doc(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "created_at": user.created_at, "disabled": user.disabled}


async def get_user(store: Storage, name: str) -> User | None:
    doc = await store.get_record(KIND, name) if NAME.match(name) else None
    return None if doc is None else _user(doc)


async def list_users(store: Storage) -> list[User]:
    return [_user(doc) for _, doc in await store.list_records(KIND, limit=100_000)]


async def disable_user(store: Storage, name: str) -> User:
    doc = await store.get_record(KIND, name) if NAME.match(name) else None
    if doc is None:
        raise NotFoundError(f"no person named {name!r}")
    doc["disabled"] = True
    await store.put_record(KIND, name, doc)
    return _user(doc)


def _verify(digest: str, password: str) -> bool:
    try:
        return HASHER.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def authenticate(store: Storage, name: str, password: str) -> User | None:
    """The person if ``name`` is enabled and ``password`` is theirs, else None (the same time either way)."""
    doc = await store.get_record(KIND, name) if NAME.match(name) and len(password) <= MAX_PASSWORD else None
    digest = str(doc.get("password", "")) if doc is not None else _DUMMY_HASH
    ok = await asyncio.to_thread(_verify, digest, password)
    if doc is None or not ok or doc.get("disabled"):
        return None
    if HASHER.check_needs_rehash(digest):  # parameters were raised since this password was set
        doc["password"] = await asyncio.to_thread(HASHER.hash, password)
        await store.put_record(KIND, name, doc)
    return _user(doc)
