"""People who sign in: Argon2id hashes, names that are handles, disabling, and rehashing on sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from ledger.errors import ConflictError, NotFoundError, ValidationError
from ledger.services import users
from ledger.storage.sqlite import SQLiteStorage

NOW = "2026-03-02T09:00:00+00:00"
PASSWORD = "correct horse battery"


@pytest.fixture
async def store(tmp_path: Path) -> SQLiteStorage:
    s = SQLiteStorage(tmp_path / "u.sqlite3")
    await s.open()
    return s


async def test_a_person_signs_in_with_their_password_only(store: SQLiteStorage) -> None:
    user = await users.create_user(store, name="wang.li", role="hr", password=PASSWORD, created_at=NOW)
    assert user.source == "workbench/wang.li" and not user.disabled
    doc = await store.get_record(users.KIND, "wang.li")
    assert doc is not None and doc["password"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in str(doc)
    assert await users.authenticate(store, "wang.li", PASSWORD) == user
    assert await users.authenticate(store, "wang.li", PASSWORD + "!") is None
    assert await users.authenticate(store, "nobody", PASSWORD) is None
    assert await users.authenticate(store, "../wang.li", PASSWORD) is None
    assert [u.name for u in await users.list_users(store)] == ["wang.li"]
    await store.close()


async def test_disabled_people_cannot_sign_in(store: SQLiteStorage) -> None:
    await users.create_user(store, name="hr-07", role="legal", password=PASSWORD, created_at=NOW)
    disabled = await users.disable_user(store, "hr-07")
    assert disabled.disabled and (await users.get_user(store, "hr-07")) == disabled
    assert await users.authenticate(store, "hr-07", PASSWORD) is None
    with pytest.raises(NotFoundError):
        await users.disable_user(store, "nobody")
    await store.close()


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("张三", "hr", PASSWORD, "name"),  # a handle, not a full name: it stays in the log
        ("a b", "hr", PASSWORD, "name"),
        ("x" * 65, "hr", PASSWORD, "name"),
        ("ok", "boss", PASSWORD, "role"),
        ("ok", "hr", "short", "password"),
        ("ok", "hr", "tab\tin the password", "password"),
    ],
)
async def test_bad_people_are_refused_and_nothing_is_stored(
    store: SQLiteStorage, name: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        await users.create_user(store, name=name, role=role, password=password, created_at=NOW)
    assert err.value.field == field
    assert await users.list_users(store) == []
    await store.close()


async def test_a_name_is_taken_once(store: SQLiteStorage) -> None:
    await users.create_user(store, name="wang.li", role="hr", password=PASSWORD, created_at=NOW)
    with pytest.raises(ConflictError):
        await users.create_user(store, name="wang.li", role="admin", password=PASSWORD, created_at=NOW)
    assert (await users.get_user(store, "wang.li")) is not None
    await store.close()


async def test_weaker_old_hashes_are_upgraded_at_sign_in(store: SQLiteStorage) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await store.put_record(
        users.KIND, "old", {"name": "old", "role": "hr", "created_at": NOW, "disabled": False, "password": weak}
    )
    assert await users.authenticate(store, "old", PASSWORD) is not None
    doc = await store.get_record(users.KIND, "old")
    assert doc is not None and doc["password"] != weak and not users.HASHER.check_needs_rehash(doc["password"])
    await store.close()
