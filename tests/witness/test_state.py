"""The witness's SQLite state: compare-and-swap, bound to one key, durable across reopening."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from ledger.errors import DataDirError
from ledger.witness.protocol import NEVER_COSIGNED, Latest
from ledger.witness.state import MAX_REFUSALS_PER_LOG, LogRecord, RefusalRecord, WitnessState

VKEY = "w.example/w+00000000+BAAA"
ORIGIN = "example.com/log"


def record(size: int, root: bytes) -> LogRecord:
    return LogRecord(ORIGIN, size, root, b"note %d" % size, 1_700_000_000)


async def test_advance_is_a_compare_and_swap(tmp_path: Path) -> None:
    state = WitnessState(tmp_path / "w.sqlite3")
    await state.open(VKEY)
    try:
        assert await state.latest(ORIGIN) == NEVER_COSIGNED and await state.record(ORIGIN) is None
        assert await state.advance(ORIGIN, NEVER_COSIGNED, record(3, b"a" * 32))
        assert not await state.advance(ORIGIN, NEVER_COSIGNED, record(2, b"b" * 32))  # someone else moved it first
        assert not await state.advance(ORIGIN, Latest(3, b"x" * 32), record(5, b"c" * 32))  # wrong root expected
        assert await state.advance(ORIGIN, Latest(3, b"a" * 32), record(5, b"c" * 32))
        assert await state.latest(ORIGIN) == Latest(5, b"c" * 32)
    finally:
        await state.close()
    again = WitnessState(tmp_path / "w.sqlite3")
    await again.open(VKEY)
    try:
        assert await again.record(ORIGIN) == record(5, b"c" * 32)
        assert [r.origin for r in await again.records()] == [ORIGIN]
    finally:
        await again.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "w.sqlite3")) as db:  # a Connection's own with does not close
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sizes_beyond_sqlite_integers_are_kept_exactly(tmp_path: Path) -> None:
    state = WitnessState(tmp_path / "w.sqlite3")
    await state.open(VKEY)
    try:
        assert await state.advance(ORIGIN, NEVER_COSIGNED, record(2**64 - 1, b"a" * 32))
        assert (await state.latest(ORIGIN)).size == 2**64 - 1
    finally:
        await state.close()


async def test_the_file_belongs_to_one_witness_key(tmp_path: Path) -> None:
    state = WitnessState(tmp_path / "w.sqlite3")
    await state.open(VKEY)
    await state.close()
    with pytest.raises(DataDirError, match="is the state of the witness"):
        await WitnessState(tmp_path / "w.sqlite3").open("other.example/w+00000000+BAAA")


async def test_refusals_are_kept_up_to_a_limit(tmp_path: Path) -> None:
    state = WitnessState(tmp_path / "w.sqlite3")
    await state.open(VKEY)
    try:
        for i in range(MAX_REFUSALS_PER_LOG):
            assert await state.refuse(RefusalRecord(ORIGIN, i, 422, "bad proof", b"request %d" % i))
        assert not await state.refuse(RefusalRecord(ORIGIN, 0, 422, "bad proof", b"one too many"))
        kept = await state.refusals(ORIGIN)
        assert len(kept) == MAX_REFUSALS_PER_LOG and kept[0].request == b"request 0"
        assert await state.refusals("other") == []
    finally:
        await state.close()
