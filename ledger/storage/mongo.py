"""The MongoDB store (PyMongo's async API), for several service processes on one replica set.

Commit point. One ``head`` document ``{_id: "head", size, term, gen}`` says what is committed: entries
with ``seq < size`` and tree nodes ending at or below ``size``. Every reader reads the head first and
ignores anything above it, so a batch becomes visible exactly when the head moves. An append writes its
entries and nodes (each stamped with the head ``gen`` it started from, its ``wterm`` and an attempt id),
then advances the head with ONE conditional update ``{size: expected_size, gen: gen, term <= term}``;
that update is the commit. A stale sequencer (lower term) or a lost race matches nothing and commits
nothing. Whatever an attempt left above the head is garbage: it is removed by its writer on failure, or
swept by a later writer once it is provably dead (a lower term, or older than ``stale_after``): the
sweep first bumps ``gen`` (so no attempt that started before can ever commit), then deletes only
documents stamped with an older ``gen``. Safety rests on single-document atomic updates and majority
writes only; clocks affect liveness, never correctness.

On a replica set (or mongos) the same steps also run inside a multi-document transaction, so no
garbage is ever visible. nx-27017 answers ``hello`` as a standalone and its transactions are not
isolated (one session's abort rolls back other sessions' acknowledged writes), so the store never opens
a transaction there. ``docs/deploy.md`` says which path runs where.

PyMongo's typing is partial; documents cross this boundary as ``dict[str, Any]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, uri_parser
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WTimeoutError,
)
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError, LedgerError, StorageError, StorageUnavailableError
from ledger.storage.base import AppendConflict

DEFAULT_DATABASE = "hrledger"
HEAD = "head"
_UNAVAILABLE = (ConnectionFailure, ServerSelectionTimeoutError, ExecutionTimeout, WTimeoutError, WaitQueueTimeoutError)
_ENTRY_FIELDS = (
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


def database_name(uri: str) -> str:
    """The database named in the URI path, ``hrledger`` when the path is empty."""
    return uri_parser.parse_uri(uri)["database"] or DEFAULT_DATABASE


def _entry(doc: Doc) -> StoredEntry:
    return StoredEntry(
        seq=int(doc["seq"]),
        event_id=doc["event_id"],
        type=doc["type"],
        subject=doc["subject"],
        occurred_at=doc["occurred_at"],
        recorded_at=doc["recorded_at"],
        entry=bytes(doc["entry"]),
        leaf_hash=bytes(doc["leaf_hash"]),
        data=None if doc.get("data") is None else bytes(doc["data"]),
        salt=None if doc.get("salt") is None else bytes(doc["salt"]),
    )


def _checkpoint(doc: Doc) -> StoredCheckpoint:
    return StoredCheckpoint(
        size=int(doc["_id"]), root=bytes(doc["root"]), note=bytes(doc["note"]), published_at=doc["published_at"]
    )


def _node_key(node: NodeId) -> str:
    return f"{node.level}:{node.index}"


def _record_key(kind: str, key: str) -> str:
    return json.dumps([kind, key], ensure_ascii=False)


class MongoStorage:
    """Storage on one MongoDB database. ``transactions``: None detects (replica set or mongos: yes)."""

    def __init__(
        self,
        uri: str,
        *,
        transactions: bool | None = None,
        stale_after: float = 10.0,
        server_selection_timeout: float = 5.0,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.uri = uri
        self._client_options = dict(client_options or {})  # more AsyncMongoClient options, e.g. event_listeners
        self.database_name = database_name(uri)
        self.stale_after = stale_after
        self.observed_term = 0  # highest head term seen; a Lease compares it with its own term
        self._want_transactions = transactions
        self._uses_transactions = False
        self.replicated = False  # a replica set member or mongos (known after open)
        self._abandoned: set[str] = set()  # our attempts that ended with an unknown outcome: dead, sweepable
        self._timeout = server_selection_timeout
        self._client: Any = None  # AsyncMongoClient[Doc]; Any because its stubs are partial
        self._db: Any = None

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def database(self) -> Any:
        """The PyMongo database (majority writes with journaling, majority reads); for ledger.services.lease."""
        if self._db is None:
            raise StorageError("mongodb: the store is not open")
        return self._db

    @property
    def uses_transactions(self) -> bool:
        return self._uses_transactions

    @asynccontextmanager
    async def _guard(self, what: str) -> AsyncIterator[None]:
        """Translate PyMongo exceptions at this boundary (and only here)."""
        try:
            yield
        except (AppendConflict, LedgerError):
            raise
        except _UNAVAILABLE as exc:
            raise StorageUnavailableError(f"mongodb {what}: {exc}") from exc
        except OperationFailure as exc:
            if exc.has_error_label("RetryableWriteError") or exc.code in (91, 189, 11600, 11602, 10107, 13435):
                raise StorageUnavailableError(f"mongodb {what}: {exc}") from exc  # shutdown, stepdown, not primary
            raise StorageError(f"mongodb {what}: {exc}") from exc
        except PyMongoError as exc:
            raise StorageError(f"mongodb {what}: {exc}") from exc

    async def open(self) -> None:
        options = uri_parser.parse_uri(self.uri)["options"]
        kwargs: dict[str, Any] = {
            **self._client_options,
            "w": "majority",
            "journal": True,
            "readConcernLevel": "majority",
        }
        if "serverSelectionTimeoutMS" not in options:
            kwargs["serverSelectionTimeoutMS"] = int(self._timeout * 1000)
        async with self._guard("open"):
            self._client = AsyncMongoClient(self.uri, **kwargs)
            self._db = self._client.get_database(
                self.database_name,
                write_concern=WriteConcern(w="majority", j=True),
                read_concern=ReadConcern("majority"),
            )
            hello: Doc = await self._client.admin.command("hello")
            self.replicated = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
            want = self._want_transactions
            self._uses_transactions = self.replicated if want is None else want
            db = self._db
            # Ranges and sorts use the plain fields seq (entries) and size (checkpoints), never _id: nx-27017
            # 0.8.1 compares and sorts integer _id values as text in writes and sorts.
            await db.entries.create_index("seq", unique=True, name="seq")
            await db.entries.create_index("event_id", unique=True, name="event_id")
            await db.entries.create_index([("subject", ASCENDING), ("seq", ASCENDING)], name="subject_seq")
            await db.entries.create_index([("type", ASCENDING), ("seq", ASCENDING)], name="type_seq")
            await db.nodes.create_index("end", name="end")
            await db.checkpoints.create_index("size", unique=True, name="size")
            await db.records.create_index([("kind", ASCENDING), ("key", ASCENDING)], unique=True, name="kind_key")
            with suppress(DuplicateKeyError):  # the head exists already: an existing ledger
                await db.head.insert_one({"_id": HEAD, "size": 0, "term": 0, "gen": 0})

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = self._db = None

    async def _head(self, session: Any = None) -> Doc:
        head: Doc | None = await self.database.head.find_one({"_id": HEAD}, session=session)
        if head is None:
            raise IntegrityError(f"mongodb: database {self.database_name!r} has no head document; is it ours?")
        self.observed_term = max(self.observed_term, int(head["term"]))
        return head

    async def _size(self) -> int:
        return int((await self._head())["size"])

    # -- the tree ---------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        async with self._guard("tree_size"):
            return await self._size()

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        for offset, e in enumerate(entries):
            if e.seq != expected_size + offset:
                raise StorageError(f"entry seq {e.seq} is not contiguous from {expected_size}")
        async with self._guard("append"):
            if self._uses_transactions:
                await self._append_in_transaction(entries, nodes, expected_size, term)
            else:
                await self._append_fenced(entries, nodes, expected_size, term)

    def _check_head(self, head: Doc, expected_size: int, term: int) -> None:
        if int(head["term"]) > term:
            raise StaleTermConflict(f"sequencer term {term} is stale: the store is at term {head['term']}")
        if int(head["size"]) != expected_size:
            raise AppendConflict(f"tree size is {head['size']}, expected {expected_size}")

    def _documents(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], head: Doc, term: int, attempt: str
    ) -> tuple[list[Doc], list[Doc]]:
        stamp = {"gen": int(head["gen"]), "wterm": term, "att": attempt, "at": time.time()}
        edocs = [{"_id": e.seq, **{f: getattr(e, f) for f in _ENTRY_FIELDS}, **stamp} for e in entries]
        ndocs = [{"_id": _node_key(n), "end": n.end, "h": h, **stamp} for n, h in nodes.items()]
        return edocs, ndocs

    async def _commit_head(self, head: Doc, expected_size: int, count: int, term: int, session: Any = None) -> bool:
        result = await self.database.head.update_one(
            {"_id": HEAD, "size": expected_size, "gen": head["gen"], "term": {"$lte": term}},
            {"$set": {"size": expected_size + count, "term": term, "gen": int(head["gen"]) + 1}},
            session=session,
        )
        return bool(result.matched_count == 1)

    async def _append_fenced(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], expected_size: int, term: int
    ) -> None:
        head = await self._head()
        self._check_head(head, expected_size, term)
        attempt = os.urandom(8).hex()
        edocs, ndocs = self._documents(entries, nodes, head, term, attempt)
        try:
            if edocs:
                await self.database.entries.insert_many(edocs, ordered=True)
            if ndocs:
                await self.database.nodes.insert_many(ndocs, ordered=True)
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
            committed = await self._commit_head(head, expected_size, len(entries), term)
        except BaseException:
            self._abandoned.add(attempt)  # if it did not commit, it is garbage we may sweep at once
            raise
        if not committed:
            await self._discard(attempt, edocs, ndocs)
            now = await self._head()
            self._check_head(now, expected_size, term)
            raise AppendConflict(f"the head moved during the append (gen {head['gen']} -> {now['gen']})")

    async def _append_in_transaction(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], expected_size: int, term: int
    ) -> None:
        async with self._client.start_session() as session:
            try:
                async with await session.start_transaction():
                    head = await self._head(session)
                    self._check_head(head, expected_size, term)
                    edocs, ndocs = self._documents(entries, nodes, head, term, os.urandom(8).hex())
                    if edocs:
                        await self.database.entries.insert_many(edocs, ordered=True, session=session)
                    if ndocs:
                        await self.database.nodes.insert_many(ndocs, ordered=True, session=session)
                    if not await self._commit_head(head, expected_size, len(entries), term, session):
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
                await self.database.entries.delete_many({"_id": {"$in": [d["_id"] for d in edocs]}, "att": attempt})
            if ndocs:
                await self.database.nodes.delete_many({"_id": {"$in": [d["_id"] for d in ndocs]}, "att": attempt})
        except PyMongoError:
            if not quiet:
                raise
            # left above the head: invisible to readers, swept by the next writer that meets it

    async def _explain_duplicate(self, entries: Sequence[StoredEntry], term: int) -> None:
        """After a duplicate key, sweep what a dead attempt left above the head; the caller then raises
        AppendConflict. (A batch's nodes all end above its expected size, so a committed node can only
        be in the way when the head moved, which is a plain conflict.)"""
        head = await self._head()
        size, gen = int(head["size"]), int(head["gen"])
        # Garbage that blocks this batch: above the head, or holding one of its event_ids. Two queries, each
        # on its own index (an $or of the two is a collection scan on nx-27017).
        fields = {"seq": 1, "wterm": 1, "at": 1, "att": 1}
        blockers: list[Doc] = await self.database.entries.find({"seq": {"$gte": size}}, fields).to_list(50)
        blockers += await self.database.entries.find(
            {"event_id": {"$in": [e.event_id for e in entries]}, "seq": {"$gte": size}}, fields
        ).to_list(50)
        blockers += await self.database.nodes.find({"end": {"$gt": size}}, fields).to_list(50)
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
        async with self._guard("sweep"):
            moved = await self.database.head.update_one(
                {"_id": HEAD, "size": size, "gen": gen}, {"$set": {"gen": gen + 1}}
            )
            if moved.matched_count != 1:
                return False
            await self.database.entries.delete_many({"seq": {"$gte": size}, "gen": {"$lte": gen}})
            await self.database.nodes.delete_many({"end": {"$gt": size}, "gen": {"$lte": gen}})
            return True

    async def fence(self, term: int) -> int:
        """Raise the head's term to ``term`` (a new lease holder does this first), so that no writer with a
        lower term can commit from now on. Returns the head's term afterwards."""
        async with self._guard("fence"):
            await self.database.head.update_one(
                {"_id": HEAD, "term": {"$lt": term}}, {"$set": {"term": term}, "$inc": {"gen": 1}}
            )
            return int((await self._head())["term"])

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        async with self._guard("get_nodes"):
            size = await self._size()
            by_key = {_node_key(n): n for n in ids}
            docs: list[Doc] = await self.database.nodes.find({"_id": {"$in": list(by_key)}}).to_list(None)
            return {by_key[d["_id"]]: bytes(d["h"]) for d in docs if int(d["end"]) <= size}

    # -- entries ----------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None:
        async with self._guard("get_entry"):
            if seq < 0 or seq >= await self._size():
                return None
            doc: Doc | None = await self.database.entries.find_one({"_id": seq})
            return None if doc is None else _entry(doc)

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        unique = list(dict.fromkeys(event_ids))
        found: dict[str, StoredEntry] = {}
        async with self._guard("get_entries_by_event_id"):
            size = await self._size()
            for i in range(0, len(unique), 1000):
                query = {"event_id": {"$in": unique[i : i + 1000]}}
                for doc in await self.database.entries.find(query).to_list(None):
                    if int(doc["seq"]) < size:
                        found[doc["event_id"]] = _entry(doc)
        return found

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        unique = list(dict.fromkeys(subjects))
        if not unique:
            return {}
        async with self._guard("subject_heads"):
            below = min(tree_size, await self._size())

            async def head(subject: str) -> tuple[str, int | None]:
                # The (subject, seq) index, walked backwards from below: one key per subject, whatever its history.
                doc: Doc | None = await self.database.entries.find_one(
                    {"subject": subject, "seq": {"$lt": below}}, {"seq": 1}, sort=[("seq", -1)]
                )
                return subject, None if doc is None else int(doc["seq"])

            found = await asyncio.gather(*(head(s) for s in unique))
        return {s: seq for s, seq in found if seq is not None}

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        if limit <= 0:
            return []
        async with self._guard("scan_entries"):
            size = await self._size()
            query: Doc = {"seq": {"$gte": from_seq, "$lt": size}}
            if subject is not None:
                query["subject"] = subject
            if type is not None:
                query["type"] = type
            docs: list[Doc] = await self.database.entries.find(query).sort("seq", ASCENDING).limit(limit).to_list(None)
            return [_entry(d) for d in docs]

    async def erase_data(self, seqs: Sequence[int]) -> int:
        if not seqs:
            return 0
        async with self._guard("erase_data"):
            size = await self._size()
            # data and salt are written together and erased together, so "salt is set" is "not erased yet".
            # No $or: nx-27017 0.8.1 applies a write whose filter has a top-level $or beside other fields to
            # everything the $or matches, and scans the collection for an $and.
            result = await self.database.entries.update_many(
                {"_id": {"$in": [s for s in seqs if 0 <= s < size]}, "salt": {"$ne": None}},
                {"$set": {"data": None, "salt": None}},
            )
            return int(result.modified_count)

    # -- checkpoints ------------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        async with self._guard("add_checkpoint"):
            try:
                await self.database.checkpoints.insert_one(
                    {
                        "_id": checkpoint.size,
                        "size": checkpoint.size,
                        "root": checkpoint.root,
                        "note": checkpoint.note,
                        "published_at": checkpoint.published_at,
                    }
                )
            except DuplicateKeyError:
                existing = await self.database.checkpoints.find_one({"_id": checkpoint.size})
                if existing is None or bytes(existing["root"]) != checkpoint.root:
                    raise IntegrityError(
                        f"a different root is already published for tree size {checkpoint.size}"
                    ) from None

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        async with self._guard("latest_checkpoint"):
            # The range makes the size index the plan on every server (nx-27017 plans a bare sort as a scan).
            doc: Doc | None = await self.database.checkpoints.find_one({"size": {"$gte": 0}}, sort=[("size", -1)])
            return None if doc is None else _checkpoint(doc)

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        async with self._guard("get_checkpoint"):
            doc: Doc | None = await self.database.checkpoints.find_one({"_id": size})
            return None if doc is None else _checkpoint(doc)

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        query: Doc = {"$gte": min_size}
        if max_size is not None:
            query["$lte"] = max_size
        async with self._guard("list_checkpoints"):
            cursor = self.database.checkpoints.find({"size": query}).sort("size", ASCENDING)
            docs: list[Doc] = await cursor.to_list(None)
            return [_checkpoint(d) for d in docs]

    # -- records ----------------------------------------------------------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        # JSON text, as in SQLite: the document comes back exactly as given (BSON would alter some values)
        text = json.dumps(dict(doc), ensure_ascii=False, sort_keys=True)
        async with self._guard("put_record"):
            rid = _record_key(kind, key)  # _id repeated in the replacement: nx-27017 drops the filter's on upsert
            await self.database.records.replace_one(
                {"_id": rid}, {"_id": rid, "kind": kind, "key": key, "doc": text}, upsert=True
            )

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        async with self._guard("get_record"):
            found: Doc | None = await self.database.records.find_one({"_id": _record_key(kind, key)})
        return None if found is None else dict(json.loads(found["doc"]))

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        if limit <= 0:
            return []
        async with self._guard("list_records"):
            docs: list[Doc] = (
                await self.database.records.find({"kind": kind}).sort("key", ASCENDING).limit(limit).to_list(None)
            )
        return [(d["key"], dict(json.loads(d["doc"]))) for d in docs]

    async def delete_record(self, kind: str, key: str) -> bool:
        async with self._guard("delete_record"):
            result = await self.database.records.delete_one({"_id": _record_key(kind, key)})
            return bool(result.deleted_count > 0)
