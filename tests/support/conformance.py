"""The one storage conformance suite. Each driver's test module subclasses ``StorageConformance`` and
provides an async ``store`` fixture yielding an opened, empty store."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from ledger.core import merkle
from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError
from ledger.storage.base import AppendConflict, Storage
from tests.support.memtree import root_of_leaf_hashes
from verifier.merkle import verify_consistency, verify_inclusion


def make_entry(
    seq: int,
    *,
    subject: str = "E1",
    type_: str = "attendance.clock_in",
    event_id: str | None = None,
    data: bytes | None = b'{"method":"face"}',
) -> StoredEntry:
    entry = f'{{"seq":{seq},"subject":"{subject}"}}'.encode()
    return StoredEntry(
        seq=seq,
        event_id=event_id or f"ev-{seq}",
        type=type_,
        subject=subject,
        occurred_at="2026-01-05T09:00:00+08:00",
        recorded_at="2026-01-05T01:00:00.000000Z",
        entry=entry,
        leaf_hash=merkle.leaf_hash(entry),
        data=data,
        salt=None if data is None else bytes(32),
    )


async def append_batch(store: Storage, entries: list[StoredEntry]) -> bytes:
    """Append through the real tree math, as the sequencer does; returns the new root."""
    size = await store.tree_size()
    frontier_ids = merkle.root_nodes(size)
    frontier = await store.get_nodes(frontier_ids)
    nodes, root = merkle.append_leaves(size, frontier, [e.leaf_hash for e in entries])
    await store.append(entries, nodes, expected_size=size)
    return root


class StorageConformance:
    async def test_empty_store(self, store: Storage) -> None:
        assert await store.tree_size() == 0
        assert await store.get_entry(0) is None
        assert await store.latest_checkpoint() is None
        assert await store.scan_entries() == []
        assert await store.get_nodes([NodeId(0, 0)]) == {}

    async def test_append_and_read_back(self, store: Storage) -> None:
        entries = [make_entry(i, subject="E1" if i % 2 else "E2") for i in range(5)]
        await append_batch(store, entries)
        assert await store.tree_size() == 5
        for e in entries:
            assert await store.get_entry(e.seq) == e
        by_id = await store.get_entries_by_event_id(["ev-3", "ev-1", "missing"])
        assert set(by_id) == {"ev-1", "ev-3"} and by_id["ev-3"] == entries[3]

    async def test_nodes_give_rfc9162_roots_and_proofs(self, store: Storage) -> None:
        leaves: list[bytes] = []
        for batch in ([0], [1, 2], [3, 4, 5, 6], list(range(7, 20))):
            entries = [make_entry(i) for i in batch]
            root = await append_batch(store, entries)
            leaves += [e.leaf_hash for e in entries]
            assert root == root_of_leaf_hashes(leaves)
        size = len(leaves)
        for index in (0, 7, 19):
            ranges = merkle.inclusion_ranges(index, size)
            got = await store.get_nodes(merkle.nodes_for_ranges(ranges))
            proof = merkle.hash_ranges(ranges, got)
            verify_inclusion(leaves[index], index, size, proof, root_of_leaf_hashes(leaves))
        ranges = merkle.consistency_ranges(6, size)
        proof = merkle.hash_ranges(ranges, await store.get_nodes(merkle.nodes_for_ranges(ranges)))
        verify_consistency(6, size, root_of_leaf_hashes(leaves[:6]), root_of_leaf_hashes(leaves), proof)

    async def test_append_refuses_wrong_expected_size_and_writes_nothing(self, store: Storage) -> None:
        await append_batch(store, [make_entry(0)])
        with pytest.raises(AppendConflict):
            await store.append([make_entry(0)], {}, expected_size=0)
        with pytest.raises(AppendConflict):
            await store.append([make_entry(5)], {}, expected_size=5)
        assert await store.tree_size() == 1

    async def test_duplicate_event_id_is_all_or_nothing(self, store: Storage) -> None:
        await append_batch(store, [make_entry(0, event_id="dup")])
        batch = [make_entry(1), make_entry(2, event_id="dup")]
        nodes, _ = merkle.append_leaves(1, await store.get_nodes(merkle.root_nodes(1)), [e.leaf_hash for e in batch])
        with pytest.raises(AppendConflict):
            await store.append(batch, nodes, expected_size=1)
        assert await store.tree_size() == 1
        assert await store.get_entry(1) is None
        assert await store.get_nodes([NodeId(0, 1)]) == {}

    async def test_concurrent_appends_at_same_size_one_wins(self, store: Storage) -> None:
        a, b = [make_entry(0, event_id="a")], [make_entry(0, event_id="b")]
        na, _ = merkle.append_leaves(0, {}, [a[0].leaf_hash])
        nb, _ = merkle.append_leaves(0, {}, [b[0].leaf_hash])
        results = await asyncio.gather(
            store.append(a, na, expected_size=0), store.append(b, nb, expected_size=0), return_exceptions=True
        )
        assert sum(isinstance(r, AppendConflict) for r in results) == 1
        assert await store.tree_size() == 1

    async def test_scan_filters_and_pages(self, store: Storage) -> None:
        entries = [
            make_entry(i, subject=f"E{i % 3}", type_="leave.requested" if i % 2 else "attendance.clock_in")
            for i in range(12)
        ]
        await append_batch(store, entries)
        all_e1 = await store.scan_entries(subject="E1")
        assert [e.seq for e in all_e1] == [1, 4, 7, 10]
        page = await store.scan_entries(subject="E1", from_seq=5, limit=1)
        assert [e.seq for e in page] == [7]
        both = await store.scan_entries(subject="E1", type="leave.requested")
        assert [e.seq for e in both] == [1, 7]
        assert [e.seq for e in await store.scan_entries(from_seq=10)] == [10, 11]

    async def test_erase_keeps_the_leaf(self, store: Storage) -> None:
        await append_batch(store, [make_entry(0), make_entry(1)])
        assert await store.erase_data([0]) == 1
        assert await store.erase_data([0]) == 0
        erased = await store.get_entry(0)
        assert erased is not None and erased.data is None and erased.salt is None
        assert erased.leaf_hash == make_entry(0).leaf_hash and erased.entry == make_entry(0).entry
        kept = await store.get_entry(1)
        assert kept is not None and kept.data is not None

    async def test_checkpoints(self, store: Storage) -> None:
        cps = [
            StoredCheckpoint(
                size=s,
                root=hashlib.sha256(bytes([s])).digest(),
                note=b"note %d" % s,
                published_at="2026-01-01T00:00:00.000000Z",
            )
            for s in (1, 3, 8)
        ]
        for cp in cps:
            await store.add_checkpoint(cp)
        await store.add_checkpoint(cps[1])  # identical again: a no-op
        with pytest.raises(IntegrityError):
            await store.add_checkpoint(StoredCheckpoint(3, bytes(32), b"other", "2026-01-01T00:00:00.000000Z"))
        assert await store.latest_checkpoint() == cps[2]
        assert await store.get_checkpoint(3) == cps[1]
        assert await store.get_checkpoint(4) is None
        assert await store.list_checkpoints() == cps
        assert await store.list_checkpoints(min_size=2, max_size=3) == [cps[1]]

    async def test_records(self, store: Storage) -> None:
        await store.put_record("token", "b", {"role": "writer", "n": 1})
        await store.put_record("token", "a", {"role": "admin", "name": "张三"})
        await store.put_record("other", "a", {"x": True})
        assert await store.get_record("token", "a") == {"role": "admin", "name": "张三"}
        assert [k for k, _ in await store.list_records("token")] == ["a", "b"]
        await store.put_record("token", "a", {"role": "legal"})
        assert await store.get_record("token", "a") == {"role": "legal"}
        assert await store.delete_record("token", "a") is True
        assert await store.delete_record("token", "a") is False
        assert await store.get_record("token", "a") is None
        assert await store.get_record("other", "a") == {"x": True}

    async def test_order_and_paging_past_one_hundred(self, store: Storage) -> None:
        """Seqs and sizes compare as numbers (a driver that compares them as text fails here: "10" < "9")."""
        for start in range(0, 120, 30):
            batch = [make_entry(i, subject="E1" if i % 3 else "E2") for i in range(start, start + 30)]
            await append_batch(store, batch)
        assert await store.tree_size() == 120
        assert [e.seq for e in await store.scan_entries(from_seq=95, limit=10)] == list(range(95, 105))
        assert [e.seq for e in await store.scan_entries(subject="E2", from_seq=90, limit=5)] == [90, 93, 96, 99, 102]
        for size in (9, 10, 99, 100, 101):
            await store.add_checkpoint(
                StoredCheckpoint(size, hashlib.sha256(bytes([size])).digest(), b"n", "2026-01-01T00:00:00.000000Z")
            )
        latest = await store.latest_checkpoint()
        assert latest is not None and latest.size == 101
        assert [c.size for c in await store.list_checkpoints(min_size=10, max_size=100)] == [10, 99, 100]
        assert await store.erase_data([100, 9]) == 2
        assert (await store.get_entry(10)).data is not None  # type: ignore[union-attr]

    async def test_subject_heads_in_a_tree_size(self, store: Storage) -> None:
        """The head of each subject below a tree size: what the sequencer writes as ``prev`` (seqs past 100
        compare as numbers)."""
        subjects = ["E1", "E2", "张三", "E/odd"]
        for start in range(0, 130, 26):
            await append_batch(store, [make_entry(i, subject=subjects[i % 3]) for i in range(start, start + 26)])
        assert await store.subject_heads(["E1", "E2", "张三", "E/odd", "E1"], tree_size=130) == {
            "E1": 129,
            "E2": 127,
            "张三": 128,
        }
        assert await store.subject_heads(["E1", "E2"], tree_size=101) == {"E1": 99, "E2": 100}
        assert await store.subject_heads(["E2"], tree_size=3) == {"E2": 1}
        assert await store.subject_heads(["E2"], tree_size=1) == {}
        assert await store.subject_heads(["E1"], tree_size=10**9) == {"E1": 129}  # the committed tree at most
        assert await store.subject_heads([], tree_size=130) == {}
