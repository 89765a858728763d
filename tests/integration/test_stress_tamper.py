"""Tampering: one changed byte in any stored column is found by ``hrledger fsck`` with its location, and a
running service refuses to sign a checkpoint that is not consistent with the last one it published.

``tests/admin/test_cli.py`` covers four tamperings through the CLI; here every column of every log table is
changed by one byte (or one unit), and the running service is tampered with while it takes writes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from api.config import LOG, SIGNER
from ledger.admin.cli import main as cli
from ledger.core.notes import CheckpointBody, sign_checkpoint
from tests.support.api import ORIGIN, AiohttpClient, Api, event, problem, start_api, wait_until
from tests.support.ledger import fill_ledger


def _flip(value: Any) -> Any:
    """The stored value with one byte changed (TEXT and BLOB); integers move out of the way."""
    if isinstance(value, bytes):
        middle = len(value) // 2
        return value[:middle] + bytes([value[middle] ^ 0x01]) + value[middle + 1 :]
    if isinstance(value, str):
        return value[:-1] + chr(ord(value[-1]) ^ 0x40)
    raise TypeError(value)


# (table, column, row selector, a substring fsck must print for it)
CASES = [
    ("entries", "event_id", "seq = 17", "entry seq 17: column event_id differs from the leaf"),
    ("entries", "type", "seq = 17", "entry seq 17: column type differs from the leaf"),
    ("entries", "subject", "seq = 17", "entry seq 17: column subject differs from the leaf"),
    ("entries", "occurred_at", "seq = 17", "entry seq 17: column occurred_at differs from the leaf"),
    ("entries", "recorded_at", "seq = 17", "entry seq 17: column recorded_at differs from the leaf"),
    ("entries", "entry", "seq = 17", "entry seq 17: stored leaf hash is not SHA-256(0x00 || entry)"),
    ("entries", "leaf_hash", "seq = 17", "entry seq 17: stored leaf hash is not SHA-256(0x00 || entry)"),
    ("entries", "data", "seq = 17", "entry seq 17: data and salt do not match"),
    ("entries", "salt", "seq = 17", "entry seq 17: data and salt do not match"),
    ("nodes", "hash", "level = 0 AND idx = 17", "node (level 0, index 17): stored hash differs"),
    ("nodes", "hash", "level = 5 AND idx = 0", "node (level 5, index 0): stored hash differs"),
    ("checkpoints", "root", "size = 21", "checkpoint size 21: the signed note says size 21 with another root"),
    ("checkpoints", "note", "size = 21", "checkpoint size 21:"),
]
INT_CASES = [
    ("UPDATE entries SET seq = seq + 1000 WHERE seq = 17", "entry seq 18: expected seq 17 here"),
    ("UPDATE nodes SET idx = idx + 1000000 WHERE level = 2 AND idx = 3", "node (level 2, index 3): missing"),
    ("UPDATE nodes SET level = level + 40 WHERE level = 1 AND idx = 5", "node (level 1, index 5): missing"),
    ("UPDATE checkpoints SET size = size + 1 WHERE size = 40", "checkpoint size 41: the signed note says size 40"),
    ("DELETE FROM entries WHERE seq = 30", "entry seq 31: expected seq 30 here"),
    ("DELETE FROM nodes WHERE level = 3 AND idx = 1", "node (level 3, index 1): missing"),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("tamper") / "data"
    assert cli(["init", "--data", str(data), "--origin", "hr.example/ledger"]) == 0
    asyncio.run(fill_ledger(data, 40))  # checkpoints at 7, 14, 21, 28, 35, 40
    return data


def _copy(pristine: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "data"
    shutil.copytree(pristine, target)
    return target


def _fsck(data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = cli(["fsck", "--data", str(data)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("table", "column", "where", "expected"), CASES, ids=[f"{c[0]}.{c[1]}[{c[2]}]" for c in CASES])
def test_fsck_finds_one_changed_byte_in_every_column(
    pristine: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    column: str,
    where: str,
    expected: str,
) -> None:
    data = _copy(pristine, tmp_path)
    db = sqlite3.connect(data / "ledger.sqlite3")
    (value,) = db.execute(f"SELECT {column} FROM {table} WHERE {where}").fetchone()
    db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (_flip(value),))
    db.commit()
    db.close()
    code, err = _fsck(data, capsys)
    assert code == 1 and expected in err, err


@pytest.mark.parametrize(("sql", "expected"), INT_CASES, ids=[c[0].split(" WHERE")[0] for c in INT_CASES])
def test_fsck_finds_moved_and_missing_rows(
    pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, expected: str
) -> None:
    data = _copy(pristine, tmp_path)
    db = sqlite3.connect(data / "ledger.sqlite3")
    assert db.execute(sql).rowcount == 1
    db.commit()
    db.close()
    code, err = _fsck(data, capsys)
    assert code == 1 and expected in err, err


def test_fsck_passes_on_the_untouched_copy(pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _fsck(_copy(pristine, tmp_path), capsys)[0] == 0


# -- the running service ----------------------------------------------------------------------------------------


def _forged_checkpoint(api: Api, size: int) -> tuple[bytes, bytes]:
    """A checkpoint for ``size`` over another tree, signed with the log's own key (a fork, or a stolen key)."""
    root = bytes(32 - 1) + b"\x01"
    return root, sign_checkpoint(CheckpointBody(ORIGIN, size, root), api.app[SIGNER])


def _tamper_node(db: sqlite3.Connection, api: Api) -> None:
    (value,) = db.execute("SELECT hash FROM nodes WHERE level = 3 AND idx = 0").fetchone()
    db.execute("UPDATE nodes SET hash = ? WHERE level = 3 AND idx = 0", (_flip(value),))


def _tamper_note(db: sqlite3.Connection, api: Api) -> None:
    (note,) = db.execute("SELECT note FROM checkpoints WHERE size = 8").fetchone()
    db.execute("UPDATE checkpoints SET note = ? WHERE size = 8", (_flip(note),))


def _tamper_root(db: sqlite3.Connection, api: Api) -> None:
    (root,) = db.execute("SELECT root FROM checkpoints WHERE size = 8").fetchone()
    db.execute("UPDATE checkpoints SET root = ? WHERE size = 8", (_flip(root),))


def _fork(db: sqlite3.Connection, api: Api) -> None:
    root, note = _forged_checkpoint(api, 8)
    db.execute("UPDATE checkpoints SET root = ?, note = ? WHERE size = 8", (root, note))


REFUSAL = "refusing to sign size 12: not consistent with checkpoint 8"
TAMPERINGS = {
    "node": (_tamper_node, REFUSAL),
    "root": (_tamper_root, REFUSAL),
    "forked-checkpoint": (_fork, REFUSAL),
    # Which refusal depends on where the flipped bit lands in the (random) signature's base64.
    "note": (_tamper_note, "checkpoint: "),
}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
async def test_running_service_refuses_to_sign_after_tampering(
    tmp_path: Path, aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    api = await start_api(tmp_path, aiohttp_client, checkpoint_wait_seconds=2.0)
    resp = await api.post({"events": [event(i) for i in range(8)]}, params={"wait": "checkpoint"})
    assert resp.status == 201 and (await resp.json())["tree_size"] == 8
    store = api.app[LOG].store
    before = await store.latest_checkpoint()
    db = sqlite3.connect(api.data / "ledger.sqlite3")
    tamper, expected = TAMPERINGS[how]
    tamper(db, api)
    db.commit()
    db.close()

    with caplog.at_level(logging.ERROR, logger="hrledger.log"):
        assert (await api.post({"events": [event(i) for i in range(8, 12)]})).status == 201
        await wait_until(lambda: _degraded(api))
    health = await (await api.client.get("/healthz")).json()
    assert health["status"] == "degraded"
    error = health["publish_error"]
    assert expected in error, error
    assert any("checkpoint not published" in r.getMessage() for r in caplog.records)
    latest = await store.latest_checkpoint()
    assert latest is not None and latest.size == 8  # nothing new was signed
    assert [cp.size for cp in await store.list_checkpoints()] == [0, 8]
    assert before is not None
    # A client asking for proofs learns that the log refuses to sign; it is never handed a forked checkpoint.
    refused = await api.post(event(99), params={"wait": "checkpoint"})
    assert refused.status == 500
    doc = await refused.json(content_type=None)
    assert doc["type"].rsplit("/", 1)[1] in ("integrity-failure", "verification-failure"), doc
    await problem(refused, 500, doc["type"].rsplit("/", 1)[1])
    assert api.app[LOG].publish_error is not None


async def _degraded(api: Api) -> bool:
    return bool((await (await api.client.get("/healthz")).json())["status"] == "degraded")
