from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger.storage.sqlite import SQLiteStorage
from tests.support.conformance import StorageConformance, append_batch, make_entry


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    s = SQLiteStorage(tmp_path / "ledger.sqlite3")
    await s.open()
    yield s
    await s.close()


class TestSQLiteConformance(StorageConformance):
    pass


async def test_reopen_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    s = SQLiteStorage(path)
    await s.open()
    root = await append_batch(s, [make_entry(i) for i in range(9)])
    await s.close()
    again = SQLiteStorage(path)
    await again.open()
    assert await again.tree_size() == 9
    from ledger.core import merkle

    assert merkle.root_from_nodes(9, await again.get_nodes(merkle.root_nodes(9))) == root
    await again.close()
