"""The sequencer and the checkpoint publisher on a real SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from ledger.core.entries import Event, parse_leaf
from ledger.core.notes import CheckpointBody, sign_checkpoint
from ledger.core.records import StoredCheckpoint
from ledger.core.wire import verify_checkpoint
from ledger.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from ledger.log import Log
from tests.support.memtree import root_of_leaf_hashes
from verifier.merkle import verify_consistency, verify_inclusion

ORIGIN = "test.example/log"


def event(i: int | str, *, subject: str = "E1", data: dict[str, object] | None = None) -> Event:
    return Event(
        f"ev-{i}",
        "attendance.clock_in",
        subject,
        "2026-01-05T09:00:00+08:00",
        "hr",
        data if data is not None else {"method": "face"},
    )


async def test_concurrent_appends_get_distinct_contiguous_seqs(log: Log) -> None:
    results = await asyncio.gather(*(log.append([event(i)]) for i in range(200)))
    seqs = sorted(r[0].seq for r in results)
    assert seqs == list(range(200))
    assert log.stats.commits < 200  # gathered into group commits
    cp = await log.wait_for_checkpoint(200)
    assert cp.size == 200
    verified = verify_checkpoint(cp.note, log.signer.verifier(), origin=ORIGIN)
    leaves = [(await log.store.get_entry(s)).leaf_hash for s in range(200)]  # type: ignore[union-attr]
    assert verified.root == root_of_leaf_hashes(leaves)


async def test_batch_is_all_or_nothing_and_idempotent(log: Log) -> None:
    first = await log.append([event(1), event(2)])
    assert [r.created for r in first] == [True, True]
    again = await log.append([event(2), event(1)])
    assert [(r.seq, r.created) for r in again] == [(1, False), (0, False)]
    with pytest.raises(ConflictError, match="other content"):
        await log.append([event(3), event(1, data={"method": "gps"})])
    assert await log.store.tree_size() == 2  # event 3 was not written either
    mixed = await log.append([event(3), event(3)])
    assert mixed[0].seq == mixed[1].seq == 2
    with pytest.raises(ValidationError):
        await log.append([event(4), event(4, data={"method": "card"})])


async def test_leaf_is_the_spec_entry(log: Log) -> None:
    [result] = await log.append([event("x", subject="张三")])
    stored = await log.store.get_entry(result.seq)
    assert stored is not None and stored.salt is not None and len(stored.salt) == 32
    leaf = parse_leaf(stored.entry)
    assert set(leaf) == {
        "v",
        "seq",
        "prev",
        "event_id",
        "type",
        "subject",
        "occurred_at",
        "recorded_at",
        "source",
        "data_digest",
    }
    assert leaf["subject"] == "张三" and leaf["recorded_at"] == result.recorded_at
    assert leaf["v"] == 2 and leaf["prev"] is None and result.entry == stored.entry
    assert result.recorded_at.endswith("Z") and len(result.recorded_at) == 27


async def test_proofs_verify_against_checkpoints(log: Log) -> None:
    for i in range(0, 37, 6):
        await log.append([event(f"{i}-{k}") for k in range(6)])
        await log.wait_for_checkpoint(await log.store.tree_size())
    checkpoints = await log.store.list_checkpoints()
    assert len(checkpoints) >= 2
    last = checkpoints[-1]
    for seq in (0, 5, last.size - 1):
        entry = await log.store.get_entry(seq)
        assert entry is not None
        verify_inclusion(entry.leaf_hash, seq, last.size, await log.inclusion_proof(seq, last.size), last.root)
    for old in checkpoints[:-1]:
        verify_consistency(old.size, last.size, old.root, last.root, await log.consistency_proof(old.size, last.size))
    with pytest.raises(NotFoundError):
        await log.inclusion_proof(0, last.size + 1)
    with pytest.raises(ValidationError):
        await log.consistency_proof(5, 3)


async def test_refuses_to_sign_a_root_inconsistent_with_the_last_checkpoint(log: Log) -> None:
    await log.append([event(1), event(2), event(3)])
    await log.wait_for_checkpoint(3)
    # A validly signed checkpoint for size 4 whose root is not this tree's: the next root cannot extend it.
    note = sign_checkpoint(CheckpointBody(ORIGIN, 4, bytes(32)), log.signer)
    await log.store.add_checkpoint(StoredCheckpoint(4, bytes(32), note, "2026-01-01T00:00:00.000000Z"))
    await log.append([event(4), event(5)])
    with pytest.raises(IntegrityError, match="refusing to sign size 5: not consistent with checkpoint 4"):
        await log.publish_checkpoint()
    assert (await log.store.latest_checkpoint()).size == 4  # type: ignore[union-attr]


async def test_same_id_other_content_in_concurrent_requests_is_a_conflict(log: Log) -> None:
    first, second = await asyncio.gather(
        log.append([event("race")]), log.append([event("race", data={"method": "gps"})]), return_exceptions=True
    )
    assert isinstance(first, list) and first[0].created
    assert isinstance(second, ConflictError)  # 409 whether or not both landed in one group commit
    assert await log.store.tree_size() == 1
