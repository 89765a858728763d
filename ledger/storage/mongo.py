"""The MongoDB store (PyMongo's async API), for several service processes on one replica set.

This module holds the reads, checkpoints and records; the commit point and the fence are the protocol of
``mongo_commit`` (read it first), the sequencer lease's documents are ``mongo_lease``, and PyMongo's
exceptions are translated in ``mongo_errors`` and nowhere else. Every read takes the head's committed size
first and filters by it, which is the contract's visibility rule.

PyMongo's typing is partial; documents cross this boundary as ``dict[str, Any]``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, uri_parser
from pymongo.errors import DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError, StorageError
from ledger.storage.mongo_commit import HEAD, Doc, HeadCommits, StaleTermConflict, node_key
from ledger.storage.mongo_errors import guard
from ledger.storage.mongo_lease import MongoLeaseStore

__all__ = ["DEFAULT_DATABASE", "MongoStorage", "StaleTermConflict", "database_name"]

DEFAULT_DATABASE = "hrledger"


def database_name(uri: str) -> str:
    """The database named in the URI path, ``hrledger`` when the path is empty."""
    return uri_parser.parse_uri(uri)["database"] or DEFAULT_DATABASE


def _entry(doc: Doc) -> StoredEntry:
    """One entry document as a StoredEntry."""
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
    """One checkpoint document as a StoredCheckpoint."""
    return StoredCheckpoint(
        size=int(doc["_id"]), root=bytes(doc["root"]), note=bytes(doc["note"]), published_at=doc["published_at"]
    )


def _record_key(kind: str, key: str) -> str:
    """The ``_id`` of a record document."""
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
        self.commits = HeadCommits(stale_after=stale_after)
        self._want_transactions = transactions
        self.replicated = False  # a replica set member or mongos (known after open)
        self._timeout = server_selection_timeout
        self._client: Any = None  # AsyncMongoClient[Doc]; Any because its stubs are partial
        self._db: Any = None
        self._leases: MongoLeaseStore | None = None

    # -- plumbing ---------------------------------------------------------------------------------
    @property
    def database(self) -> Any:
        """The PyMongo database (majority writes with journaling, majority reads), for tests and operator
        tools that inspect documents; services use the store's methods, the lease port and the fence."""
        if self._db is None:
            raise StorageError("mongodb: the store is not open")
        return self._db

    @property
    def uses_transactions(self) -> bool:
        """Whether appends run in multi-document transactions (known after open)."""
        return self.commits.uses_transactions

    @property
    def stale_after(self) -> float:
        """Seconds after which an uncommitted attempt of the same term is presumed dead and swept."""
        return self.commits.stale_after

    @property
    def leases(self) -> MongoLeaseStore:
        """The lease port on this database (``ledger.storage.leases.LeaseStore``)."""
        if self._leases is None:
            raise StorageError("mongodb: the store is not open")
        return self._leases

    # -- the fence (ledger.storage.leases.Fence) ---------------------------------------------------
    @property
    def observed_term(self) -> int:
        """The highest head term seen by this process."""
        return self.commits.observed_term

    async def read_term(self) -> int:
        """The head's term now."""
        return await self.commits.read_term()

    async def fence(self, term: int) -> int:
        """Raise the head's term to ``term``; see ``HeadCommits.fence``."""
        return await self.commits.fence(term)

    async def sweep(self, size: int, gen: int) -> bool:
        """Remove what dead attempts left above the head; see ``HeadCommits.sweep``."""
        return await self.commits.sweep(size, gen)

    async def open(self) -> None:
        """Connect, detect the commit path, create the indexes and the head if absent."""
        options = uri_parser.parse_uri(self.uri)["options"]
        kwargs: dict[str, Any] = {
            **self._client_options,
            "w": "majority",
            "journal": True,
            "readConcernLevel": "majority",
        }
        if "serverSelectionTimeoutMS" not in options:
            kwargs["serverSelectionTimeoutMS"] = int(self._timeout * 1000)
        async with guard("open"):
            self._client = AsyncMongoClient(self.uri, **kwargs)
            self._db = self._client.get_database(
                self.database_name,
                write_concern=WriteConcern(w="majority", j=True),
                read_concern=ReadConcern("majority"),
            )
            hello: Doc = await self._client.admin.command("hello")
            self.replicated = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
            want = self._want_transactions
            self.commits.bind(self._client, self._db, transactions=self.replicated if want is None else want)
            self._leases = MongoLeaseStore(self._db)
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
        """Close the client (harmless twice)."""
        if self._client is not None:
            await self._client.close()
            self._client = self._db = self._leases = None

    async def _size(self) -> int:
        """The committed size, read from the head."""
        try:
            return await self.commits.size()
        except IntegrityError as exc:
            raise IntegrityError(f"{exc} (database {self.database_name!r})") from None

    # -- the tree ---------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        """The head's size."""
        async with guard("tree_size"):
            return await self._size()

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        """The commit protocol of ``mongo_commit``."""
        for offset, e in enumerate(entries):
            if e.seq != expected_size + offset:
                raise StorageError(f"entry seq {e.seq} is not contiguous from {expected_size}")
        await self.commits.append(entries, nodes, expected_size, term)

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """Node documents by ``_id``, only those ending at or below the head's size."""
        if not ids:
            return {}
        async with guard("get_nodes"):
            size = await self._size()
            by_key = {node_key(n): n for n in ids}
            docs: list[Doc] = await self.database.nodes.find({"_id": {"$in": list(by_key)}}).to_list(None)
            return {by_key[d["_id"]]: bytes(d["h"]) for d in docs if int(d["end"]) <= size}

    # -- entries ----------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None:
        """The entry by ``_id`` when below the head's size."""
        async with guard("get_entry"):
            if seq < 0 or seq >= await self._size():
                return None
            doc: Doc | None = await self.database.entries.find_one({"_id": seq})
            return None if doc is None else _entry(doc)

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        """Entries by the unique event_id index, 1000 ids per query, below the head's size."""
        unique = list(dict.fromkeys(event_ids))
        found: dict[str, StoredEntry] = {}
        async with guard("get_entries_by_event_id"):
            size = await self._size()
            for i in range(0, len(unique), 1000):
                query = {"event_id": {"$in": unique[i : i + 1000]}}
                for doc in await self.database.entries.find(query).to_list(None):
                    if int(doc["seq"]) < size:
                        found[doc["event_id"]] = _entry(doc)
        return found

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        """One backward walk of the (subject, seq) index per subject, below the head's size, concurrently."""
        unique = list(dict.fromkeys(subjects))
        if not unique:
            return {}
        async with guard("subject_heads"):
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
        """One page in seq order below the head's size, on the (subject, seq) or (type, seq) index when filtered."""
        if limit <= 0:
            return []
        async with guard("scan_entries"):
            size = await self._size()
            query: Doc = {"seq": {"$gte": from_seq, "$lt": size}}
            if subject is not None:
                query["subject"] = subject
            if type is not None:
                query["type"] = type
            docs: list[Doc] = await self.database.entries.find(query).sort("seq", ASCENDING).limit(limit).to_list(None)
            return [_entry(d) for d in docs]

    async def erase_data(self, seqs: Sequence[int]) -> int:
        """Unset data and salt of the given committed entries still holding them, in one update."""
        if not seqs:
            return 0
        async with guard("erase_data"):
            size = await self._size()
            # data and salt are written together and erased together, so "salt is set" is "not erased yet".
            # No $or: nx-27017 0.8.1 applies a write whose filter has a top-level $or beside other fields to
            # everything the $or matches, and scans the collection for an $and.
            committed = sorted({s for s in seqs if 0 <= s < size})
            if not committed:  # nothing to erase; an empty $in would scan the collection on nx-27017
                return 0
            result = await self.database.entries.update_many(
                {"_id": {"$in": committed}, "salt": {"$ne": None}},
                {"$set": {"data": None, "salt": None}},
            )
            return int(result.modified_count)

    # -- checkpoints ------------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Insert by size; on a duplicate, IntegrityError unless the stored root is the same."""
        async with guard("add_checkpoint"):
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
        """The checkpoint of the largest size, by the size index."""
        async with guard("latest_checkpoint"):
            # The range makes the size index the plan on every server (nx-27017 plans a bare sort as a scan).
            doc: Doc | None = await self.database.checkpoints.find_one({"size": {"$gte": 0}}, sort=[("size", -1)])
            return None if doc is None else _checkpoint(doc)

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``."""
        async with guard("get_checkpoint"):
            doc: Doc | None = await self.database.checkpoints.find_one({"_id": size})
            return None if doc is None else _checkpoint(doc)

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        """Checkpoints in ``[min_size, max_size]`` by size."""
        query: Doc = {"$gte": min_size}
        if max_size is not None:
            query["$lte"] = max_size
        async with guard("list_checkpoints"):
            cursor = self.database.checkpoints.find({"size": query}).sort("size", ASCENDING)
            docs: list[Doc] = await cursor.to_list(None)
            return [_checkpoint(d) for d in docs]

    # -- records ----------------------------------------------------------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Upsert the document as JSON text (it comes back exactly as JSON gives it)."""
        # JSON text, as in SQLite: the document comes back exactly as given (BSON would alter some values)
        text = json.dumps(dict(doc), ensure_ascii=False, sort_keys=True)
        async with guard("put_record"):
            rid = _record_key(kind, key)  # _id repeated in the replacement: nx-27017 drops the filter's on upsert
            await self.database.records.replace_one(
                {"_id": rid}, {"_id": rid, "kind": kind, "key": key, "doc": text}, upsert=True
            )

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """The document, or None."""
        async with guard("get_record"):
            found: Doc | None = await self.database.records.find_one({"_id": _record_key(kind, key)})
        return None if found is None else dict(json.loads(found["doc"]))

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """One kind's documents by key."""
        if limit <= 0:
            return []
        async with guard("list_records"):
            docs: list[Doc] = (
                await self.database.records.find({"kind": kind}).sort("key", ASCENDING).limit(limit).to_list(None)
            )
        return [(d["key"], dict(json.loads(d["doc"]))) for d in docs]

    async def delete_record(self, kind: str, key: str) -> bool:
        """Delete; whether it existed."""
        async with guard("delete_record"):
            result = await self.database.records.delete_one({"_id": _record_key(kind, key)})
            return bool(result.deleted_count > 0)
