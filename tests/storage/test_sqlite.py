from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ledger.errors import StorageError, StorageUnavailableError
from ledger.storage.sqlite import SQLiteStorage
from ledger.storage.sqlite_errors import translate
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


# -- driver errors, translated by SQLite result code (real faults where one can be made) --------------------


async def test_a_write_lock_held_elsewhere_is_unavailable_busy(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    store = SQLiteStorage(path, busy_timeout=0.05)
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with pytest.raises(StorageUnavailableError, match="SQLITE_BUSY"):
            await append_batch(store, [make_entry(0)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await store.tree_size() == 0
    await append_batch(store, [make_entry(0)])  # the lock is gone: the next write goes through
    assert await store.tree_size() == 1
    await store.close()


async def test_a_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "ledger.sqlite3").mkdir()  # a directory where the database file should be
    store = SQLiteStorage(tmp_path / "ledger.sqlite3")
    with pytest.raises(StorageUnavailableError, match="SQLITE_CANTOPEN"):
        await store.open()
    await store.close()
    missing = SQLiteStorage(tmp_path / "no-such-dir" / "ledger.sqlite3")
    with pytest.raises(StorageUnavailableError, match="SQLITE_CANTOPEN"):
        await missing.open()
    await missing.close()


async def test_a_file_that_is_not_a_database_is_a_storage_error_not_a_retry(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not an SQLite database, but a file of the right name " * 100)
    store = SQLiteStorage(path)
    with pytest.raises(StorageError, match="SQLITE_NOTADB") as raised:
        await store.open()
    assert not isinstance(raised.value, StorageUnavailableError)
    await store.close()


FILE_SIZE_WORKER = """
import asyncio, json, resource, sys
from ledger.storage.sqlite import SQLiteStorage
from tests.support.conformance import append_batch, make_entry

async def main():
    store = SQLiteStorage(sys.argv[1])
    await store.open()
    await append_batch(store, [make_entry(i) for i in range(5)])
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))  # EFBIG on any growth from now
    try:
        await append_batch(store, [make_entry(i, data=b"x" * 4000) for i in range(5, 400)])
        result = {"error": None}
    except Exception as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    result["size"] = await store.tree_size()
    print(json.dumps(result))
    await store.close()

asyncio.run(main())
"""


def test_a_file_size_limit_is_unavailable_full_or_ioerr(tmp_path: Path) -> None:
    """A real EFBIG (RLIMIT_FSIZE, any user) in a process of its own; SQLite reports it as FULL or IOERR."""
    done = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_WORKER, str(tmp_path / "ledger.sqlite3")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] == "StorageUnavailableError", result
    assert "SQLITE_FULL" in result["message"] or "SQLITE_IOERR" in result["message"], result
    assert result["size"] == 5  # nothing of the refused batch


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A directory and a read-only bind mount of it (a real EROFS; needs mount, i.e. root)."""
    source, view = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    view.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    bind = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True, text=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root): {bind.stderr.strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True, text=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only: {ro.stderr.strip()}")
        yield source, view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


async def test_a_read_only_filesystem_is_unavailable(read_only_dir: tuple[Path, Path]) -> None:
    source, view = read_only_dir
    writable = SQLiteStorage(source / "ledger.sqlite3")
    await writable.open()
    await append_batch(writable, [make_entry(0)])
    read_only = SQLiteStorage(view / "ledger.sqlite3")  # the same file, seen through a read-only mount
    with pytest.raises(StorageUnavailableError, match=r"SQLITE_READONLY|SQLITE_CANTOPEN"):
        await read_only.open()
        await append_batch(read_only, [make_entry(1)])
    await read_only.close()
    assert await writable.tree_size() == 1
    await writable.close()


@pytest.mark.parametrize(
    ("name", "unavailable"),
    [
        ("SQLITE_READONLY", True),
        ("SQLITE_FULL", True),
        ("SQLITE_IOERR", True),
        ("SQLITE_BUSY", True),
        ("SQLITE_LOCKED", True),
        ("SQLITE_CANTOPEN", True),
        ("SQLITE_PERM", True),
        ("SQLITE_CORRUPT", False),
        ("SQLITE_NOTADB", False),
        ("SQLITE_ERROR", False),
        ("SQLITE_CONSTRAINT", False),
    ],
)
def test_translation_is_by_result_code_never_by_text(name: str, unavailable: bool) -> None:
    """Every code the boundary names, including extended codes (primary code in the low byte), and a
    message that would have fooled the old text match."""
    for code in (getattr(sqlite3, name), getattr(sqlite3, name) | (3 << 8)):
        exc = sqlite3.OperationalError("disk is full" if not unavailable else "some text")
        exc.sqlite_errorcode, exc.sqlite_errorname = code, name
        translated = translate(exc)
        assert isinstance(translated, StorageError) and name in str(translated)
        assert isinstance(translated, StorageUnavailableError) is unavailable
    assert type(translate(sqlite3.Error("no code at all"))) is StorageError
