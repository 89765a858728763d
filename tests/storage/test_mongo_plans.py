"""Every query the MongoDB driver sends is answered through an index, never a collection scan.

A command listener records each read and write filter the driver sends while the storage conformance
suite, a Log with its lease, and a crashed attempt's sweep run; each distinct query shape is then
explained on the server. A real MongoDB must show no ``COLLSCAN`` stage, with no exception.

nx-27017 answers explain with SQLite's plan, where a scan of the collection's table is ``SCAN <name>``
(its plans match its timings: we measured it). Its planner has two gaps a real MongoDB does not have,
and only queries that fall into them are excused there, each by its shape: it never plans a compound
index (so (subject, seq), (type, seq) and (kind, key) queries scan), and it evaluates ``$in`` on any
field but ``_id`` row by row. Any other scan fails on nx-27017 too; it is how this test found the
unindexed delete of an abandoned attempt, and an erase and a sweep query that only nx-27017 scanned.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient, monitoring

from ledger.core import merkle
from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.log import Log
from ledger.services.lease import Lease
from ledger.storage.base import AppendConflict
from ledger.storage.mongo import MongoStorage, database_name
from tests.support.conformance import StorageConformance, make_entry
from tests.support.mongo_server import drop_database, fresh_uri, mongo_uri

__all__ = ["mongo_uri"]
SESSION_FIELDS = {
    "lsid",
    "txnNumber",
    "$db",
    "$clusterTime",
    "readConcern",
    "writeConcern",
    "startTransaction",
    "autocommit",
    "$readPreference",
    "ordered",
    "cursor",
    "batchSize",
    "singleBatch",
}


class CommandLog(monitoring.CommandListener):
    """The access path of every command: (collection, filter, sort)."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        cmd, name = event.command, event.command_name
        if name == "find":
            self.queries.append((cmd["find"], dict(cmd.get("filter", {})), cmd.get("sort")))
        elif name == "update":
            self.queries += [(cmd["update"], dict(u["q"]), None) for u in cmd["updates"]]
        elif name == "delete":
            self.queries += [(cmd["delete"], dict(d["q"]), None) for d in cmd["deletes"]]
        elif name == "aggregate" and cmd["pipeline"] and "$match" in cmd["pipeline"][0]:
            self.queries.append((cmd["aggregate"], dict(cmd["pipeline"][0]["$match"]), None))
        elif name == "findAndModify":
            self.queries.append((cmd["findAndModify"], dict(cmd.get("query", {})), cmd.get("sort")))
        elif name in ("aggregate", "count", "distinct", "mapReduce"):
            raise AssertionError(f"unexpected {name} command: {cmd}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def shape(value: Any) -> Any:
    """A filter with its values blanked: one explain per query shape is enough."""
    if isinstance(value, dict):
        return {k: shape(v) if k.startswith("$") or isinstance(v, dict | list) else "?" for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return "?"


def scans(plan: Any, collection: str) -> list[str]:
    """The full-collection scans in an explain answer (MongoDB or nx-27017's SQLite plan)."""
    found: list[str] = []
    if isinstance(plan, dict):
        if plan.get("stage") == "COLLSCAN":
            found.append(json.dumps(plan, default=str)[:200])
        detail = plan.get("detail")
        if isinstance(detail, str) and re.fullmatch(rf"SCAN {re.escape(collection)}( AS \w+)?", detail):
            found.append(detail)
        for v in plan.values():
            found += scans(v, collection)
    elif isinstance(plan, list):
        for v in plan:
            found += scans(v, collection)
    return found


def nx_planner_gap(query: dict[str, Any], indexes: dict[str, Any]) -> bool:
    """Whether nx-27017 0.8.1 must scan for ``query`` although MongoDB has an index for it."""
    fields = {k for k in query if not k.startswith("$")}
    if any(isinstance(query[k], dict) and "$in" in query[k] for k in fields - {"_id"}):
        return True  # $in outside _id
    single = {info["key"][0][0] for info in indexes.values() if len(info["key"]) == 1}
    compound_first = {info["key"][0][0] for info in indexes.values() if len(info["key"]) > 1}
    return not (fields & single) and bool(fields & compound_first)  # only a compound index serves it


def full_scans(uri: str, queries: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> list[str]:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        db = client[database_name(uri)]
        seen: set[str] = set()
        problems: list[str] = []
        for collection, query, sort in queries:
            key = json.dumps([collection, shape(query), sort], sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            find: dict[str, Any] = {"find": collection, "filter": copy.deepcopy(query)}
            if sort:
                find |= {"sort": sort, "limit": 1}
            plan = db.command("explain", find, verbosity="queryPlanner").get("queryPlanner", {})
            if not (found := scans(plan.get("winningPlan"), collection)):
                continue
            sqlite_plan = isinstance(plan.get("winningPlan"), list)  # nx-27017; MongoDB answers a document
            if sqlite_plan and nx_planner_gap(query, dict(db[collection].index_information())):
                continue
            problems.append(f"{collection} {shape(query)} sort={sort}: {found}")
        assert seen, "no query was recorded"
        return problems
    finally:
        client.close()


@pytest.fixture
def commands() -> CommandLog:
    return CommandLog()


@pytest.fixture
async def watched_uri(mongo_uri: str, commands: CommandLog) -> AsyncIterator[str]:
    """A fresh database whose every query is explained after the test: any full scan fails it."""
    uri = fresh_uri(mongo_uri)
    yield uri
    try:
        problems = full_scans(uri, commands.queries)
    finally:
        drop_database(uri)
    assert not problems, "queries without an index:\n" + "\n".join(problems)


class TestEveryConformanceQueryUsesAnIndex(StorageConformance):
    @pytest.fixture
    async def store(self, watched_uri: str, commands: CommandLog) -> AsyncIterator[MongoStorage]:
        s = MongoStorage(watched_uri, client_options={"event_listeners": [commands]})
        await s.open()
        yield s
        await s.close()


@pytest.fixture
def listener_uri(watched_uri: str, commands: CommandLog) -> Iterator[tuple[str, dict[str, Any]]]:
    yield watched_uri, {"event_listeners": [commands]}


async def test_log_lease_and_sweep_queries_use_indexes(listener_uri: tuple[str, dict[str, Any]]) -> None:
    uri, options = listener_uri
    store = MongoStorage(uri, client_options=options, stale_after=3600)
    await store.open()
    lease = Lease(store, holder="A", ttl=5)
    assert await lease.step() and await lease.step()  # take, then renew
    log = Log(
        store,
        Signer.generate("plans.example/log", bytes(32)),
        clock=lambda: datetime.now(UTC),
        random_bytes=os.urandom,
        term=lease.current_term,
    )
    await log.start()
    for i in range(0, 40, 10):
        await log.append(
            [
                Event(
                    f"ev-{k}", "attendance.clock_in", f"E{k % 3}", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"}
                )
                for k in range(i, i + 10)
            ]
        )
    await log.wait_for_checkpoint(40)
    await log.inclusion_proofs(list(range(40)), 40)
    await log.consistency_proof(7, 40)
    await log.stop()
    # A crashed attempt above the head, then a newer term that meets it, sweeps it and commits.
    head = await store.database.head.find_one({"_id": "head"})
    dead = [make_entry(i, event_id=f"dead-{i}") for i in range(40, 42)]
    nodes, _ = merkle.append_leaves(40, await store.get_nodes(merkle.root_nodes(40)), [e.leaf_hash for e in dead])
    assert head is not None
    edocs, ndocs = store.commits.documents(dead, nodes, head, 0, "crashed")
    await store.database.entries.insert_many(edocs)
    await store.database.nodes.insert_many(ndocs)
    with pytest.raises(AppendConflict):
        await store.append(dead, nodes, expected_size=40, term=lease.term + 1)
    await store.append(dead, nodes, expected_size=40, term=lease.term + 1)
    assert await store.tree_size() == 42
    await lease.release()
    await store.close()
