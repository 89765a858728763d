"""The log's witness records on both stores: cosignature lines per checkpoint, witness state, evidence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core.cosignature import Cosigner
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint
from ledger.core.records import StoredCheckpoint
from ledger.errors import IntegrityError
from ledger.services import witness_records as records
from ledger.storage.base import Storage

SIGNER = Signer("test.example/log", bytes(32))


@pytest.fixture
async def store(tmp_path: Path, store_uri: str | None) -> AsyncIterator[Storage]:
    init_datadir(tmp_path / "d", origin="test.example/log", store_uri=store_uri)
    s = load_datadir(tmp_path / "d").open_store()
    await s.open()
    yield s
    await s.close()


def checkpoint(size: int, root: bytes) -> StoredCheckpoint:
    note = sign_checkpoint(CheckpointBody(SIGNER.name, size, root), SIGNER)
    return StoredCheckpoint(size, root, note, "2026-02-02T00:00:00.000000Z")


async def test_cosignature_lines_are_appended_to_the_note_in_witness_order(store: Storage) -> None:
    cp = checkpoint(5, b"r" * 32)
    assert await records.cosigned_note(store, cp) == cp.note
    body = cp.note.split(b"\n\n")[0] + b"\n"
    b, a = Cosigner("b.example/w", b"b" * 32), Cosigner("a.example/w", b"a" * 32)
    for w in (b, a):
        await records.add_cosignature(store, cp, w.key.label, w.cosign(body, 7), 7, "2026-02-02T00:00:01.000000Z")
    await records.add_cosignature(store, cp, b.key.label, b.cosign(body, 9), 9, "2026-02-02T00:00:02.000000Z")
    assert await records.cosigned_note(store, cp) == cp.note + (a.cosign(body, 7) + b.cosign(body, 9)).encode()
    with pytest.raises(IntegrityError, match="another root"):
        await records.cosignature_lines(store, checkpoint(5, b"s" * 32))


async def test_state_round_trips(store: Storage) -> None:
    assert await records.load_state(store, "w+1") == records.WitnessState("w+1")
    state = records.WitnessState("w+1", 5, "cm9vdA==", 1_700_000_000, (6, "bmV4dA=="), 2, True)
    await records.save_state(store, state)
    assert await records.load_state(store, "w+1") == state


async def test_evidence_keeps_what_the_witness_said(store: Storage) -> None:
    cp = checkpoint(3, b"r" * 32)
    key = await records.record_evidence(
        store,
        recorded_at="2026-02-02T00:00:00.000001Z",
        witness="w+1",
        vkey="w+1+B...",
        url="https://w.example",
        checkpoint=cp,
        request_old=0,
        status=409,
        content_type="text/x.tlog.size",
        body=b"9\n" + b"x" * 10_000,
        meaning="larger",
    )
    [doc] = await records.list_evidence(store)
    assert key.startswith("2026-02-02T00:00:00.000001Z")
    assert doc["checkpoint"] == cp.note.decode() and doc["status"] == 409 and doc["size"] == 3
    assert len(doc["body"]) == records.MAX_EVIDENCE_BODY and doc["body"].startswith("9\n")
