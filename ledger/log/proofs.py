"""Reading the log: committed entries, the latest checkpoint, roots and RFC 9162 proofs.

Proofs are built from the perfect nodes the storage holds: the tree math (``ledger.core.merkle``) says
which nodes a proof needs, and one batched read fetches them all, however many proofs are asked at once.
Readers never see beyond the committed size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.core import merkle
from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError, NotFoundError, ValidationError
from ledger.storage.base import Storage


class Proofs:
    """Reads and proofs over one store."""

    def __init__(self, store: Storage) -> None:
        self.store = store

    # The service reads the log through these, never through the store: what a reader may see is the
    # log's to say (committed entries only; the latest *published* checkpoint).
    async def tree_size(self) -> int:
        """Committed entries (which may be ahead of the latest checkpoint)."""
        return await self.store.tree_size()

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self.store.latest_checkpoint()

    async def entry(self, seq: int) -> StoredEntry | None:
        return await self.store.get_entry(seq)

    async def entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        """Committed entries with seq >= ``from_seq`` in seq order, optionally filtered, at most ``limit``."""
        return await self.store.scan_entries(from_seq=from_seq, limit=limit, subject=subject, type=type)

    async def root(self, size: int) -> bytes:
        ids = merkle.root_nodes(size)
        nodes = await self.store.get_nodes(ids)
        self._require(ids, nodes, size)
        return merkle.root_from_nodes(size, nodes)

    async def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        await self._check_size(size)
        if not 0 <= seq < size:
            raise ValidationError("seq", f"seq {seq} is not in a tree of size {size}")
        return (await self._proofs({seq: merkle.inclusion_ranges(seq, size)}, size))[seq]

    async def inclusion_proofs(self, seqs: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """Proofs of many entries against one size with one batched node read (bundles need thousands)."""
        await self._check_size(size)
        bad = [s for s in seqs if not 0 <= s < size]
        if bad:
            raise ValidationError("seq", f"seq {bad[0]} is not in a tree of size {size}")
        return await self._proofs({seq: merkle.inclusion_ranges(seq, size) for seq in seqs}, size)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        await self._check_size(second)
        if not 0 <= first <= second:
            raise ValidationError("first", f"no consistency proof from size {first} to size {second}")
        return (await self._proofs({0: merkle.consistency_ranges(first, second)}, second))[0]

    async def _proofs(self, ranges: Mapping[int, Sequence[tuple[int, int]]], size: int) -> dict[int, list[bytes]]:
        """Each key's proof from its ranges, with one batched node read for all of them."""
        ids = merkle.nodes_for_ranges(r for rs in ranges.values() for r in rs)
        nodes = await self.store.get_nodes(ids)
        self._require(ids, nodes, size)
        return {key: merkle.hash_ranges(rs, nodes) for key, rs in ranges.items()}

    async def _check_size(self, size: int) -> None:
        committed = await self.store.tree_size()
        if size > committed:
            raise NotFoundError(f"tree size {size} is beyond the log ({committed} entries)")

    @staticmethod
    def _require(ids: Sequence[NodeId], nodes: dict[NodeId, bytes], size: int) -> None:
        missing = [n for n in ids if n not in nodes]
        if missing:
            raise IntegrityError(f"tree nodes {missing[:3]} are missing for size {size}; run hrledger fsck")
