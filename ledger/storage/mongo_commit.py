"""The MongoDB commit protocol: one head document is the commit point, and its term is the fence.

One ``head`` document ``{_id: "head", size, term, gen}`` says what is committed: entries with
``seq < size`` and tree nodes ending at or below ``size``. Every reader reads the head first and ignores
anything above it, so a batch becomes visible exactly when the head moves. An append writes its entries
and nodes (each stamped with the head ``gen`` it started from, its ``wterm`` and an attempt id), then
advances the head with ONE conditional update ``{size: expected_size, gen: gen, term <= term}``; that
update is the commit. A stale sequencer (lower term) or a lost race matches nothing and commits nothing.
Whatever an attempt left above the head is garbage: it is removed by its writer on failure, or swept by
a later writer once it is provably dead (a lower term, or older than ``stale_after``): the sweep first
bumps ``gen`` (so no attempt that started before can ever commit), then deletes only documents stamped
with an older ``gen``. Safety rests on single-document atomic updates and majority writes only; clocks
affect liveness, never correctness.

On a replica set (or mongos) the same steps also run inside a multi-document transaction, so no garbage
is ever visible. nx-27017 answers ``hello`` as a standalone and its transactions are not isolated (one
session's abort rolls back other sessions' acknowledged writes), so the store never opens a transaction
there. ``docs/deploy.md`` says which path runs where.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from ledger.core.merkle import NodeId
from ledger.core.records import StoredEntry
from ledger.errors import IntegrityError, StorageError
from ledger.storage.base import AppendConflict
from ledger.storage.mongo_errors import guard

HEAD = "head"
ENTRY_FIELDS = (
    "seq",
    "event_id",
    "type",
    "subject",
    "occurred_at",
    "recorded_at",
    "entry",
    "leaf_hash",
    "data",
    "salt",
)

Doc = dict[str, Any]  # a BSON document as PyMongo returns it


class StaleTermConflict(AppendConflict):
    """The head carries a newer sequencer term than the caller's: this writer has been fenced off."""


def node_key(node: NodeId) -> str:
    """The ``_id`` of a tree node document."""
    return f"{node.level}:{node.index}"


class HeadCommits:
    """The commit protocol over one database (see the module docstring); also the store's :class:`Fence`."""

    def __init__(self, *, stale_after: float) -> None:
        self.stale_after = stale_after
        self.observed_term = 0  # highest head term seen; a Lease compares it with its own term
        self.uses_transactions = False
        self._db: Any = None
        self._client: Any = None
        self._abandoned: set[str] = set()  # our attempts that ended with an unknown outcome: dead, sweepable

    def bind(self, client: Any, db: Any, *, transactions: bool) -> None:
        """Use this client and database from now on (``MongoStorage.open`` calls it)."""
        self._client, self._db, self.uses_transactions = client, db, transactions

    @property
    def db(self) -> Any:
        """The bound database; StorageError before ``bind``."""
        if self._db is None:
            raise StorageError("mongodb: the store is not open")
        return self._db

    # -- the head ---------------------------------------------------------------------------------
    async def head(self, session: Any = None) -> Doc:
        """The head document; IntegrityError when the database has none (not a ledger's database)."""
        head: Doc | None = await self.db.head.find_one({"_id": HEAD}, session=session)
        if head is None:
            raise IntegrityError("mongodb: the database has no head document; is it ours?")
        self.observed_term = max(self.observed_term, int(head["term"]))
        return head

    async def size(self) -> int:
        """The committed size."""
        return int((await self.head())["size"])

    async def read_term(self) -> int:
        """The head's term now (and ``observed_term`` raised to it)."""
        async with guard("read_term"):
            return int((await self.head())["term"])

    async def fence(self, term: int) -> int:
        """Raise the head's term to ``term`` (a new lease holder does this first), so that no writer with a
        lower term can commit from now on. Returns the head's term afterwards."""
        async with guard("fence"):
            await self.db.head.update_one(
                {"_id": HEAD, "term": {"$lt": term}}, {"$set": {"term": term}, "$inc": {"gen": 1}}
            )
            return int((await self.head())["term"])

    # -- appending --------------------------------------------------------------------------------
    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], expected_size: int, term: int
    ) -> None:
        """Write and commit one batch by the path this server supports (transactions or the fenced head)."""
        async with guard("append"):
            if self.uses_transactions:
                await self._append_in_transaction(entries, nodes, expected_size, term)
            else:
                await self._append_fenced(entries, nodes, expected_size, term)

    @staticmethod
    def check_head(head: Doc, expected_size: int, term: int) -> None:
        """StaleTermConflict when the head's term is above ``term``; AppendConflict when the size moved."""
        if int(head["term"]) > term:
            raise StaleTermConflict(f"sequencer term {term} is stale: the store is at term {head['term']}")
        if int(head["size"]) != expected_size:
            raise AppendConflict(f"tree size is {head['size']}, expected {expected_size}")

    @staticmethod
    def documents(
        entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], head: Doc, term: int, attempt: str
    ) -> tuple[list[Doc], list[Doc]]:
        """Step one's documents: entries and nodes stamped with the head's ``gen``, the term and the attempt."""
        stamp = {"gen": int(head["gen"]), "wterm": term, "att": attempt, "at": time.time()}
        edocs = [{"_id": e.seq, **{f: getattr(e, f) for f in ENTRY_FIELDS}, **stamp} for e in entries]
        ndocs = [{"_id": node_key(n), "end": n.end, "h": h, **stamp} for n, h in nodes.items()]
        return edocs, ndocs

    async def commit_head(self, head: Doc, expected_size: int, count: int, term: int, session: Any = None) -> bool:
        """Step two, the commit point: move the head if it is still exactly as read; whether it moved."""
        result = await self.db.head.update_one(
            {"_id": HEAD, "size": expected_size, "gen": head["gen"], "term": {"$lte": term}},
            {"$set": {"size": expected_size + count, "term": term, "gen": int(head["gen"]) + 1}},
            session=session,
        )
        return bool(result.matched_count == 1)

    async def _append_fenced(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], expected_size: int, term: int
    ) -> None:
        """The path without transactions: write above the head, then move it in one conditional update."""
        head = await self.head()
        self.check_head(head, expected_size, term)
        attempt = os.urandom(8).hex()
        edocs, ndocs = self.documents(entries, nodes, head, term, attempt)
        try:
            if edocs:
                await self.db.entries.insert_many(edocs, ordered=True)
            if ndocs:
                await self.db.nodes.insert_many(ndocs, ordered=True)
        except (BulkWriteError, DuplicateKeyError) as exc:
            await self._discard(attempt, edocs, ndocs)
            await self._explain_duplicate(entries, term)
            raise AppendConflict(f"a document of this batch already exists: {exc}") from None
        except BaseException:
            self._abandoned.add(attempt)
            await self._discard(attempt, edocs, ndocs, quiet=True)  # nothing committed: the head has not moved
            raise
        # The commit point. An error here leaves the outcome unknown: the batch is left in place (it
        # may be committed) and the caller sees StorageUnavailableError; a retry by event_id is exact.
        try:
            committed = await self.commit_head(head, expected_size, len(entries), term)
        except BaseException:
            self._abandoned.add(attempt)  # if it did not commit, it is garbage we may sweep at once
            raise
        if not committed:
            await self._discard(attempt, edocs, ndocs)
            now = await self.head()
            self.check_head(now, expected_size, term)
            raise AppendConflict(f"the head moved during the append (gen {head['gen']} -> {now['gen']})")

    async def _append_in_transaction(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], expected_size: int, term: int
    ) -> None:
        """The same steps inside one multi-document transaction (replica sets and mongos)."""
        async with self._client.start_session() as session:
            try:
                async with await session.start_transaction():
                    head = await self.head(session)
                    self.check_head(head, expected_size, term)
                    edocs, ndocs = self.documents(entries, nodes, head, term, os.urandom(8).hex())
                    if edocs:
                        await self.db.entries.insert_many(edocs, ordered=True, session=session)
                    if ndocs:
                        await self.db.nodes.insert_many(ndocs, ordered=True, session=session)
                    if not await self.commit_head(head, expected_size, len(entries), term, session):
                        raise AppendConflict("the head moved during the append")
            except (BulkWriteError, DuplicateKeyError) as exc:
                await self._explain_duplicate(entries, term)
                raise AppendConflict(f"a document of this batch already exists: {exc}") from None
            except OperationFailure as exc:
                if exc.has_error_label("TransientTransactionError"):
                    raise AppendConflict(f"concurrent append: {exc}") from None
                raise

    async def _discard(self, attempt: str, edocs: list[Doc], ndocs: list[Doc], *, quiet: bool = False) -> None:
        """Remove one uncommitted attempt's documents (never committed ones: the head did not move). By _id,
        so the delete is an index lookup per document; the attempt id keeps another attempt's documents."""
        try:
            if edocs:
                await self.db.entries.delete_many({"_id": {"$in": [d["_id"] for d in edocs]}, "att": attempt})
            if ndocs:
                await self.db.nodes.delete_many({"_id": {"$in": [d["_id"] for d in ndocs]}, "att": attempt})
        except PyMongoError:
            if not quiet:
                raise
            # left above the head: invisible to readers, swept by the next writer that meets it

    async def _explain_duplicate(self, entries: Sequence[StoredEntry], term: int) -> None:
        """After a duplicate key, sweep what a dead attempt left above the head; the caller then raises
        AppendConflict. (A batch's nodes all end above its expected size, so a committed node can only
        be in the way when the head moved, which is a plain conflict.)"""
        head = await self.head()
        size, gen = int(head["size"]), int(head["gen"])
        # Garbage that blocks this batch: above the head, or holding one of its event_ids. Two queries, each
        # on its own index (an $or of the two is a collection scan on nx-27017).
        fields = {"seq": 1, "wterm": 1, "at": 1, "att": 1}
        blockers: list[Doc] = await self.db.entries.find({"seq": {"$gte": size}}, fields).to_list(50)
        blockers += await self.db.entries.find(
            {"event_id": {"$in": [e.event_id for e in entries]}, "seq": {"$gte": size}}, fields
        ).to_list(50)
        blockers += await self.db.nodes.find({"end": {"$gt": size}}, fields).to_list(50)
        now = time.time()
        dead = [
            b
            for b in blockers
            if b.get("seq", size) >= size
            and (
                int(b.get("wterm", 0)) < term
                or now - float(b.get("at", 0)) > self.stale_after
                or b.get("att") in self._abandoned
            )
        ]
        if dead:
            await self.sweep(size, gen)

    async def sweep(self, size: int, gen: int) -> bool:
        """Fence off every attempt that started at ``gen`` or before, then delete what they left.

        Returns False when the head moved meanwhile (the sweep is then someone else's to do)."""
        async with guard("sweep"):
            moved = await self.db.head.update_one({"_id": HEAD, "size": size, "gen": gen}, {"$set": {"gen": gen + 1}})
            if moved.matched_count != 1:
                return False
            await self.db.entries.delete_many({"seq": {"$gte": size}, "gen": {"$lte": gen}})
            await self.db.nodes.delete_many({"end": {"$gt": size}, "gen": {"$lte": gen}})
            return True
