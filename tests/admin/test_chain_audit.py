"""fsck follows every subject's chain over the whole log (``ledger.admin.chain_audit``): a producer who
writes a wrong ``prev``, lets ``recorded_at`` go back, claims a time after its receipt, or drops data without
an erasure record is named at the first wrong seq, even when every hash and signature is consistent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger.admin.fsck import FsckReport, fsck
from ledger.core.notes import Signer
from ledger.storage.sqlite import SQLiteStorage
from tests.support.forged import Leaf, write

SIGNER = Signer.generate("audit.example/log", bytes(range(32)))
T = "2026-03-02T01:00:00.000000Z"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    s = SQLiteStorage(tmp_path / "audit.sqlite3")
    await s.open()
    yield s
    await s.close()


async def audit(store: SQLiteStorage, *leaves: Leaf) -> FsckReport:
    await write(store, SIGNER, leaves)
    return await fsck(store, SIGNER.verifier())


def erasure(subject: str, seqs: list[int], count: int | None = None) -> Leaf:
    return Leaf(subject, "ledger.erased", data={"seqs": seqs, "count": len(seqs) if count is None else count})


async def test_an_honest_log_with_interleaved_subjects_and_an_erasure_passes(store: SQLiteStorage) -> None:
    report = await audit(
        store,
        Leaf("E1"),
        Leaf("E2"),
        Leaf("E1", keep_data=False),
        Leaf("E1", keep_data=True),
        erasure("E1", [2, 3]),  # seq 3 still holds data: erasure pending, not a defect
        Leaf("E2", recorded_at="2026-03-02T01:00:00.000001Z"),
    )
    assert report.ok, report.problems
    assert report.entries == 6 and report.v1_entries == 0


@pytest.mark.parametrize(
    ("leaves", "first"),
    [
        (
            [Leaf("E1"), Leaf("E2"), Leaf("E1", prev=None)],
            "entry seq 2: prev is None, but the previous entry of 'E1' is seq 0",
        ),
        (
            [Leaf("E1"), Leaf("E2"), Leaf("E1", prev=1)],
            "entry seq 2: prev is 1, but the previous entry of 'E1' is seq 0",
        ),
        ([Leaf("E1", prev=0)], "entry seq 0: the leaf's prev is 0: it must be null or the seq of an earlier entry"),
        ([Leaf("E1"), Leaf("E1", prev=None), Leaf("E1")], "entry seq 1: prev is None"),
        (
            [Leaf("E1"), Leaf("E2", recorded_at="2026-03-02T00:59:59.999999Z")],
            "entry seq 1: recorded_at 2026-03-02T00:59:59.999999Z is earlier than the previous entry's",
        ),
        (
            [Leaf("E1", occurred_at="2026-03-02T09:05:00.000001+08:00")],
            "entry seq 0: the leaf's occurred_at 2026-03-02T09:05:00.000001+08:00 is more than 5 minutes after",
        ),
        (
            [Leaf("E1"), Leaf("E1", keep_data=False), Leaf("E2")],
            "entry seq 1: data and salt are gone but no later ledger.erased entry of 'E1' names it",
        ),
        (
            [Leaf("E1", keep_data=False), erasure("E2", [0])],
            "entry seq 1: ledger.erased names seq 0, an entry of another",
        ),
        ([Leaf("E1"), erasure("E2", [0])], "entry seq 1: ledger.erased names seq 0, an entry of another subject"),
        ([Leaf("E1"), erasure("E1", [0, 1])], "entry seq 1: ledger.erased names seq 1, which is not an earlier entry"),
        ([Leaf("E1"), erasure("E1", [0], count=2)], "entry seq 1: ledger.erased says count 2 but names 1 seqs"),
        (
            [Leaf("E1"), Leaf("E1", "ledger.erased", data={"seqs": "0"})],
            'entry seq 1: ledger.erased data is not {"seqs": [...], "count": n}',
        ),
        (
            [Leaf("E1", "ledger.erased", data={"seqs": [], "count": 0}, keep_data=False)],
            "entry seq 0: a ledger.erased entry lost its own data, which is never erased",
        ),
        ([Leaf("E1", v=3)], "entry seq 0: the leaf's version v is 3, expected 2"),
    ],
    ids=[
        "prev-null-mid-chain",
        "prev-other-subject",
        "prev-self",
        "chain-cut",
        "recorded-at-back",
        "occurred-after-receipt",
        "data-dropped",
        "erasure-other-subject-erased",
        "erasure-other-subject-pending",
        "erasure-later-seq",
        "erasure-count",
        "erasure-malformed",
        "erasure-erased",
        "version",
    ],
)
async def test_the_first_wrong_seq_is_named(store: SQLiteStorage, leaves: list[Leaf], first: str) -> None:
    report = await audit(store, *leaves)
    assert not report.ok
    assert report.problems[0].startswith(first), report.problems


async def test_a_v1_log_is_read_and_its_entries_counted(store: SQLiteStorage) -> None:
    report = await audit(
        store,
        Leaf("E1", v=1),
        Leaf("E1", v=1, recorded_at="2026-03-02T00:00:00.000000Z"),  # v1 made no promise of order
        Leaf("E1"),  # an upgraded log goes on with v2 leaves, chained through the v1 ones
    )
    assert report.ok, report.problems
    assert report.v1_entries == 2
