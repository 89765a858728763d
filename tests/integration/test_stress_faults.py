"""A full or read-only disk: writes answer 503 problem+json with Retry-After, reads keep working, nothing is
half-written, and the service recovers by itself when the fault clears.

Three ways to make the fault, from most to least real:

- a real size-limited filesystem (tmpfs mounted with ``size=``) holding the data dir of a real
  ``hrledger serve`` process, filled up: SQLite gets ENOSPC. Needs ``mount`` (root); skipped otherwise.
  A read-only remount is not possible while SQLite holds its files open for writing (the kernel answers
  EBUSY), and ``chmod`` does not stop root, so EROFS is simulated at the storage boundary instead.
- ``RLIMIT_FSIZE`` lowered on a running ``hrledger serve`` process (``prlimit``; any user): every write
  that would grow a file fails with EFBIG, which SQLite reports as a disk I/O error.
- ``tests/support/faulty_storage.py`` around the real SQLite store, injected into ``create_app``: ENOSPC and EROFS
  as the driver reports them, a commit whose answer is lost, a failing checkpoint write.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from api.config import LOG
from ledger.admin.datadir import DataDir, init_datadir
from tests.support.api import ORIGIN, AiohttpClient, Api, event, make_tokens, problem, start_api, wait_until
from tests.support.faulty_storage import ENOSPC, EROFS, FaultyStorage
from tests.support.stress import fsck_dir, start_server


@pytest.fixture
async def faulty(
    tmp_path: Path, aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> tuple[Api, FaultyStorage]:
    # create_app has no store injection point (see the report of issue 7): wrap the store the data dir opens.
    wrappers: list[FaultyStorage] = []
    original = DataDir.open_store

    def open_store(self: DataDir, override_uri: str | None = None) -> Any:
        wrappers.append(FaultyStorage(original(self, override_uri)))
        return wrappers[-1]

    monkeypatch.setattr(DataDir, "open_store", open_store)
    api = await start_api(tmp_path, aiohttp_client, checkpoint_wait_seconds=3.0)
    return api, wrappers[-1]


async def _checkpoint_size(api: Api) -> int | None:
    resp = await api.get("/v1/log")
    assert resp.status == 200
    size: int | None = (await resp.json())["checkpoint_size"]
    return size


async def _reads_work(api: Api, size: int) -> None:
    for path, params in (
        ("/v1/log", {}),
        ("/v1/checkpoint", {}),
        ("/v1/entries/0", {}),
        ("/v1/entries", {"limit": 10}),
        ("/v1/proofs/inclusion", {"seq": 1}),
        ("/v1/proofs/consistency", {"first": 1}),
        ("/healthz", {}),
    ):
        resp = await api.get(path, **{k: str(v) for k, v in params.items()})
        assert resp.status == 200, (path, await resp.text())
    page = await (await api.get("/v1/entries", limit=1000)).json()
    assert len(page["entries"]) == size


@pytest.mark.parametrize("reason", [ENOSPC, EROFS], ids=["ENOSPC", "EROFS"])
async def test_faulty_disk_refuses_writes_keeps_reads_and_recovers(
    faulty: tuple[Api, FaultyStorage], reason: str
) -> None:
    api, store = faulty
    resp = await api.post({"events": [event(i) for i in range(5)]}, params={"wait": "checkpoint"})
    assert resp.status == 201
    before = await store.inner.latest_checkpoint()
    assert before is not None and before.size == 5

    store.fail_writes(reason)
    for body, params in (
        (event(100), None),
        ({"events": [event(101), event(102)]}, None),
        (event(103), {"wait": "checkpoint"}),
    ):
        resp = await api.post(body, params=params)
        doc = await problem(resp, 503, "storage-unavailable")
        assert int(resp.headers["Retry-After"]) >= 1
        assert reason in doc["detail"], doc
    assert store.refused["append"] >= 3
    # Nothing half-written: same size, same checkpoint, none of the refused events, fsck clean.
    assert await store.inner.tree_size() == 5
    assert await store.inner.latest_checkpoint() == before
    assert not await store.inner.get_entries_by_event_id(["ev-100", "ev-101", "ev-102", "ev-103"])
    await _reads_work(api, 5)
    report = await fsck_dir(api.data)
    assert report.ok and report.entries == 5, report.problems

    store.heal()  # the disk has room again: the very next write succeeds, no restart
    resp = await api.post(event(100))
    assert resp.status == 201 and (await resp.json())["seq"] == 5  # no seq was burnt by the refusals
    resp = await api.post({"events": [event(101), event(102)]}, params={"wait": "checkpoint"})
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["tree_size"] == 8
    assert await _checkpoint_size(api) == 8
    report = await fsck_dir(api.data)
    assert report.ok and report.entries == 8, report.problems


async def test_lost_answer_after_commit_is_recovered_by_the_retry(faulty: tuple[Api, FaultyStorage]) -> None:
    api, store = faulty
    assert (await api.post(event(1))).status == 201
    store.fail_after_commit()
    await problem(await api.post({"events": [event(2), event(3)]}), 503, "storage-unavailable")
    store.heal()
    assert await store.inner.tree_size() == 3  # durable although the client was told 503
    replay = await api.post({"events": [event(2), event(3)]})
    assert replay.status == 200  # the retry finds the originals: no second copy
    assert [r["seq"] for r in (await replay.json())["results"]] == [1, 2]
    assert await store.inner.tree_size() == 3
    assert (await api.post(event(4))).status == 201
    await wait_until(lambda: _size_is(api, 4))
    assert (await fsck_dir(api.data)).ok


async def _size_is(api: Api, size: int) -> bool:
    return await _checkpoint_size(api) == size


async def test_lost_answer_replay_with_wait_gets_its_proof(faulty: tuple[Api, FaultyStorage]) -> None:
    api, store = faulty
    assert (await api.post(event(1), params={"wait": "checkpoint"})).status == 201
    store.fail_after_commit()
    await problem(await api.post(event(2)), 503, "storage-unavailable")
    store.heal()
    replay = await api.post(event(2), params={"wait": "checkpoint"})
    assert replay.status == 200, await replay.text()


async def test_checkpoint_write_fault_is_reported_then_publishing_resumes(faulty: tuple[Api, FaultyStorage]) -> None:
    api, store = faulty
    assert (await api.post(event(1), params={"wait": "checkpoint"})).status == 201
    store.fail_writes(ENOSPC, only=["add_checkpoint"])
    assert (await api.post(event(2))).status == 201  # the entry commits; only the checkpoint write fails
    await wait_until(lambda: _degraded(api))
    health = await (await api.client.get("/healthz")).json()
    assert ENOSPC in health["publish_error"]
    assert await store.inner.tree_size() == 2 and await _checkpoint_size(api) == 1
    store.heal()
    assert (await api.post(event(3))).status == 201
    await wait_until(lambda: _size_is(api, 3))  # the next commit publishes again
    assert (await fsck_dir(api.data)).ok


async def _degraded(api: Api) -> bool:
    return bool((await (await api.client.get("/healthz")).json())["status"] == "degraded")


async def test_publisher_health_recovers_after_a_transient_fault(faulty: tuple[Api, FaultyStorage]) -> None:
    api, store = faulty
    assert (await api.post(event(1), params={"wait": "checkpoint"})).status == 201
    store.fail_writes(ENOSPC, only=["add_checkpoint"])
    assert (await api.post(event(2))).status == 201
    await wait_until(lambda: _degraded(api))
    store.heal()
    assert (await api.post(event(3))).status == 201
    await wait_until(lambda: _size_is(api, 3))
    assert api.app[LOG].publish_error is None
    assert not await _degraded(api)
    assert (await api.post(event(4), params={"wait": "checkpoint"})).status == 201


# -- real faults on a real service process ---------------------------------------------------------------------


async def _post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any], str | None]:
    async with session.post(f"{url}/v1/events", json=body) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers.get("Retry-After")


async def _real_fault_round(data: Path, make_fault: Any, clear_fault: Any, expected_detail: tuple[str, ...]) -> None:
    tokens = await make_tokens(data)
    server = await start_server(data)
    writer = aiohttp.ClientSession(headers={"Authorization": f"Bearer {tokens['writer']}"})
    auditor = aiohttp.ClientSession(headers={"Authorization": f"Bearer {tokens['auditor']}"})
    try:
        status, _, _ = await _post(writer, server.url, {"events": [event(i) for i in range(20)]})
        assert status == 201
        make_fault(server)
        for k in range(3):
            batch = {
                "events": [event(f"x{k}-{i}", type="custom.padding", data={"pad": "x" * 2000}) for i in range(200)]
            }
            status, doc, retry = await _post(writer, server.url, batch)
            assert status == 503, doc
            assert doc["type"].endswith("/storage-unavailable") and retry is not None and int(retry) >= 1
            assert any(text in doc["detail"] for text in expected_detail), doc
        for path in ("/v1/entries/3", "/v1/checkpoint", "/v1/log"):
            async with auditor.get(server.url + path) as resp:
                assert resp.status == 200, (path, await resp.text())
        async with auditor.get(server.url + "/v1/log") as resp:
            assert (await resp.json())["tree_size"] == 20  # nothing half-written
        clear_fault(server)
        status, doc, _ = await _post(writer, server.url, {"events": [event(f"y{i}") for i in range(5)]})
        assert status == 201, doc
        assert [r["seq"] for r in doc["results"]] == [20, 21, 22, 23, 24]
        for _ in range(200):
            async with auditor.get(server.url + "/v1/log") as resp:
                if (await resp.json())["checkpoint_size"] == 25:
                    break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("no checkpoint covers the writes made after the fault cleared")
        assert await server.stop() == 0
    finally:
        await writer.close()
        await auditor.close()
        with contextlib.suppress(Exception):
            await server.kill()
    report = await fsck_dir(data)
    assert report.ok and report.entries == 25, report.problems


async def test_real_file_size_limit_on_the_service_process(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)

    def limit(server: Any) -> None:  # EFBIG on every write that would grow a file of the process
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))

    def unlimit(server: Any) -> None:
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    await _real_fault_round(data, limit, unlimit, ("disk I/O error", "disk is full"))


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / f"fs-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_real_full_filesystem(small_fs: Path) -> None:
    data = small_fs / "d"
    init_datadir(data, origin=ORIGIN)
    filler = small_fs / "filler"

    def fill(_: Any) -> None:
        with open(filler, "wb") as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()

    await _real_fault_round(data, fill, lambda _: filler.unlink(), ("disk is full", "disk I/O error"))
