"""Backup and restore on MongoDB, proved by ``hrledger fsck`` (docs/deploy.md, "Backup and restore").

A copy of every collection into a new database stands in for mongodump/mongorestore: fsck passes on a
complete restore and names what is wrong with a damaged or partial one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from ledger.admin.cli import main
from ledger.admin.datadir import init_datadir
from ledger.storage.mongo import database_name
from tests.support.ledger import fill_ledger
from tests.support.mongo_server import drop_database, fresh_uri

Database = Any  # pymongo's Database[dict[str, Any]]
ENTRIES = 40


@pytest.fixture
async def ledger(tmp_path: Path, mongo_uri: str) -> tuple[Path, str]:
    uri = fresh_uri(mongo_uri)
    data = tmp_path / "d"
    init_datadir(data, origin="fsck.example/log", store_uri=uri)
    await fill_ledger(data, ENTRIES)
    return data, uri


@pytest.fixture
def restore(ledger: tuple[Path, str], mongo_uri: str) -> Iterator[Callable[..., str]]:
    """``restore(damage)`` copies the ledger's database into a new one, lets ``damage`` change the copy,
    and returns the copy's URI."""
    _, source_uri = ledger
    made: list[str] = [source_uri]
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)

    def copy(damage: Callable[[Database], None] = lambda db: None) -> str:
        target_uri = fresh_uri(mongo_uri)
        made.append(target_uri)
        source, target = client[database_name(source_uri)], client[database_name(target_uri)]
        for name in source.list_collection_names():
            docs = list(source[name].find())
            if docs:
                target[name].insert_many(docs)
        damage(target)
        return target_uri

    yield copy
    client.close()
    for uri in made:
        drop_database(uri)


def fsck(capsys: pytest.CaptureFixture[str], data: Path, uri: str) -> tuple[int, str, str]:
    code = main(["fsck", "--data", str(data), "--store", uri])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_complete_restore_passes_fsck(
    ledger: tuple[Path, str], restore: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    data, uri = ledger
    code, original, err = fsck(capsys, data, uri)
    assert code == 0, err
    assert original.startswith(f"fsck ok: {ENTRIES} entries, ")
    code, restored, err = fsck(capsys, data, restore())
    assert code == 0, err
    assert restored == original  # the same entries, nodes and checkpoints, all checked


def _change_leaf(db: Database) -> None:
    doc = db.entries.find_one({"_id": 17})
    db.entries.update_one({"_id": 17}, {"$set": {"entry": bytes(doc["entry"]).replace(b"attendance", b"attendancf")}})


def _partial(db: Database) -> None:
    # A restore cut short: the head and the entries end at 20, the checkpoints up to 40 came back.
    db.entries.delete_many({"seq": {"$gte": 20}})
    db.head.update_one({"_id": "head"}, {"$set": {"size": 20}})


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_change_leaf, "entry seq 17: stored leaf hash is not SHA-256(0x00 || entry)"),
        (
            lambda db: db.nodes.update_one({"_id": "2:3"}, {"$set": {"h": bytes(32)}}),
            "node (level 2, index 3): stored hash differs",
        ),
        (lambda db: db.nodes.delete_one({"_id": "3:1"}), "node (level 3, index 1): missing"),
        (lambda db: db.entries.delete_one({"_id": 9}), "entry seq 10: expected seq 9"),
        (_partial, "checkpoint size 40: beyond the stored tree of size 20"),
    ],
    ids=["leaf", "node", "missing-node", "missing-entry", "partial"],
)
def test_a_damaged_restore_fails_fsck_naming_the_damage(
    ledger: tuple[Path, str],
    restore: Callable[..., str],
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Database], None],
    expected: str,
) -> None:
    data, _ = ledger
    code, out, err = fsck(capsys, data, restore(damage))
    assert code == 1 and "fsck FAILED" in out
    assert expected in err, err
