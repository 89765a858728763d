"""The service with a witness policy, over real HTTP: cosigned checkpoints, /healthz and /metrics, and bundles
whose cosignatures the standalone verifier counts (``--witness``, ``--witness-threshold``)."""

from __future__ import annotations

import asyncio
import json
import os
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.config import AppConfig
from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core.cosignature import Cosigner
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens
from tests.support.witness import RunningWitness, start_witness
from verifier.cli import run as verify_cli
from verifier.cosignature import check, parse_witness_vkey
from verifier.note import parse_note, parse_vkey

E = "E3001"


def ev(eid: str, when: str) -> dict[str, Any]:
    return {
        "event_id": eid,
        "type": "attendance.clock_in",
        "subject": E,
        "occurred_at": when,
        "source": "hr",
        "data": {"method": "card"},
    }


@dataclass
class Setup:
    api: Api
    witnesses: list[RunningWitness]

    async def checkpoint(self) -> bytes:
        resp = await self.api.get("/v1/checkpoint")
        assert resp.status == 200
        return bytes(await resp.read())

    async def cosigners(self) -> list[str]:
        note = parse_note(await self.checkpoint())
        found = check(note, [parse_witness_vkey(w.vkey) for w in self.witnesses], parse_vkey(self.api.verifier.text))
        assert not found.invalid and not found.unknown
        return [c.witness.name for c in found.valid]

    async def until_cosigned_by(self, n: int) -> None:
        async with asyncio.timeout(10):
            while len(await self.cosigners()) != n:
                await asyncio.sleep(0.02)

    async def bundle(self, tmp_path: Path) -> Path:
        body = {"subject": E, "from": "2026-02-01", "to": "2026-02-28"}
        resp = await self.api.client.post("/v1/bundles", json=body, headers=self.api.auth("legal"))
        assert resp.status == 200, await resp.text()
        path = tmp_path / "bundle.zip"
        path.write_bytes(await resp.read())
        return path


def manifest(bundle: Path) -> dict[str, Any]:
    with zipfile.ZipFile(bundle) as z:
        doc: dict[str, Any] = json.loads(z.read("manifest.json"))
    return doc


@pytest.fixture
async def setup(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> AsyncIterator[Setup]:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    vkey = load_datadir(data).signer().vkey
    witnesses = [await start_witness(tmp_path, name, [vkey]) for name in ("lawfirm.example/w", "union.example/w")]
    policy = tmp_path / "witnesses.toml"
    policy.write_text(
        "quorum = 2\nmin_interval_seconds = 0\n"
        + "".join(f'\n[[witness]]\nvkey = "{w.vkey}"\nurl = "{w.url}/"\n' for w in witnesses),
        encoding="utf-8",
    )
    app = create_app(AppConfig(data_dir=data, access_log=False, tick_seconds=0, witnesses_path=policy))
    api = Api(await aiohttp_client(app), app, data, await make_tokens(data))
    resp = await api.post(
        {"events": [ev("in-1", "2026-02-02T08:58:00+08:00"), ev("in-2", "2026-02-03T08:59:00+08:00")]},
        params={"wait": "checkpoint"},
    )
    assert resp.status == 201, await resp.text()
    yield Setup(api, witnesses)
    for w in witnesses:
        await w.stop()


async def test_the_checkpoint_carries_both_cosignatures_and_health_shows_them(setup: Setup) -> None:
    await setup.until_cosigned_by(2)
    health = await (await setup.api.client.get("/healthz")).json()
    assert health["status"] == "ok" and not [w for w in health["warnings"] if "witness" in w]
    status = health["witnesses"]
    assert status["checkpoint_witnessed"] is True and status["quorum"] == 2 and status["evidence"] == 0
    assert [(w["cosigned_size"], w["lag_entries"]) for w in status["witnesses"]] == [(2, 0), (2, 0)]
    metrics = await (await setup.api.client.get("/metrics")).text()
    label = parse_witness_vkey(setup.witnesses[0].vkey).label
    assert f'hrledger_witness_cosigned_size{{witness="{label}"}} 2.0' in metrics
    assert "hrledger_checkpoint_witnessed 1.0" in metrics and "hrledger_signing_held 0.0" in metrics
    assert f'hrledger_witness_cosign_seconds_count{{witness="{label}"}}' in metrics


def verify(bundle: Path, vkey: str, capsys: pytest.CaptureFixture[str], *witness_args: str) -> tuple[int, str]:
    code = verify_cli([str(bundle), "--vkey", vkey, *witness_args])
    out = capsys.readouterr()
    return code, out.out + out.err


async def test_a_bundle_with_two_cosignatures_verifies_with_both_witnesses(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await setup.until_cosigned_by(2)
    bundle = await setup.bundle(tmp_path)
    assert manifest(bundle)["latest"] is True  # the latest published tree, and the quorum cosigned it
    vkey, (w1, w2) = setup.api.verifier.text, [w.vkey for w in setup.witnesses]
    code, out = verify(bundle, vkey, capsys, "--witness", w1, "--witness", w2, "--witness-threshold", "2")
    assert code == 0, out
    assert "cosigned by lawfirm.example/w+" in out and "cosigned by union.example/w+" in out
    assert "2 of 2 named witnesses cosigned" in out
    code, out = verify(bundle, vkey, capsys, "--witness", w1, "--witness", w2, "--witness-threshold", "3")
    assert code == 2 and "cannot be met by the 2 witness(es)" in out
    stranger = Cosigner("notary.example/w", os.urandom(32)).vkey
    code, out = verify(bundle, vkey, capsys, "--witness", w1, "--witness", w2, "--witness", stranger)
    assert code == 1 and "2 of the 3 named witnesses cosigned it" in out and "3 required" in out
    assert "not cosigned by the named witness notary.example/w+" in out
    code, out = verify(bundle, vkey, capsys, "--witness", stranger)
    assert code == 1 and "0 of the 1 named witnesses cosigned it (none)" in out
    assert "by lawfirm.example/w+" in out and "not a named witness) is shown and ignored" in out
    code, out = verify(bundle, vkey, capsys, "--witness", w1)
    assert code == 0 and "union.example/w+" in out and "shown and ignored" in out


async def test_a_witness_down_leaves_ingest_going_and_the_checkpoint_not_yet_witnessed(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await setup.until_cosigned_by(2)
    await setup.witnesses[1].stop()
    resp = await setup.api.post(ev("in-3", "2026-02-04T08:57:00+08:00"), params={"wait": "checkpoint"})
    assert resp.status == 201
    await setup.until_cosigned_by(1)
    health = await (await setup.api.client.get("/healthz")).json()
    assert health["witnesses"]["checkpoint_witnessed"] is False
    assert any("not yet witnessed: 1 of 2" in w for w in health["warnings"])
    down = health["witnesses"]["witnesses"][1]
    assert down["cosigned_size"] == 2 and down["lag_entries"] == 1
    bundle = await setup.bundle(tmp_path)
    # the bundle holds the latest published tree (every fact), and says it is not the latest witnessed one
    assert (manifest(bundle)["tree_size"], manifest(bundle)["latest"]) == (3, False)
    vkey, (w1, w2) = setup.api.verifier.text, [w.vkey for w in setup.witnesses]
    code, out = verify(bundle, vkey, capsys, "--witness", w1, "--witness", w2)
    assert code == 1 and "1 of the 2 named witnesses cosigned it" in out
    assert verify(bundle, vkey, capsys, "--witness", w1, "--witness", w2, "--witness-threshold", "1")[0] == 0
    await setup.witnesses[1].start()  # back, with its state: it catches up from size 2
    await setup.until_cosigned_by(2)


async def test_no_witness_reachable_and_the_bundle_says_not_witnessed(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await setup.until_cosigned_by(2)
    for w in setup.witnesses:
        await w.stop()
    resp = await setup.api.post(ev("in-3", "2026-02-04T08:57:00+08:00"), params={"wait": "checkpoint"})
    assert resp.status == 201
    assert await setup.cosigners() == []
    bundle = await setup.bundle(tmp_path)
    code, out = verify(bundle, setup.api.verifier.text, capsys)
    assert code == 0 and "the checkpoint carries no witness cosignature: not witnessed" in out
    code, out = verify(bundle, setup.api.verifier.text, capsys, "--witness", setup.witnesses[0].vkey)
    assert code == 1 and "0 of the 1 named witnesses" in out
