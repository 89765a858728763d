"""Whole processes: ``hrledger serve --witnesses`` with two ``hrledger witness serve`` processes and a quorum of 2;
one witness is stopped mid-stream and started again, and catches up from the state it kept."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from ledger.admin.cli import main
from ledger.admin.datadir import init_datadir, load_datadir
from ledger.witness.datadir import load_witness_dir
from tests.support.api import ORIGIN, event, make_tokens, start_server
from tests.support.witness import start_witness_process
from verifier.cosignature import check, parse_witness_vkey
from verifier.note import parse_note, parse_vkey


async def stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 30)


async def test_two_witness_processes_a_quorum_of_two_and_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    log_vkey = load_datadir(data).signer().vkey
    tokens = await make_tokens(data)
    keys, witnesses = [], []
    for name in ("lawfirm.example/w", "union.example/w"):
        wdir = tmp_path / name.split(".")[0]
        assert await asyncio.to_thread(main, ["witness", "init", "--data", str(wdir), "--name", name]) == 0
        proc, url = await start_witness_process(wdir, "--log", log_vkey)
        witnesses.append((wdir, proc, url))
        keys.append(load_witness_dir(wdir).cosigner().vkey)
    entries = [f'[[witness]]\nvkey = "{k}"\nurl = "{w[2]}"\n' for k, w in zip(keys, witnesses, strict=True)]
    policy = tmp_path / "witnesses.toml"
    policy.write_text("quorum = 2\n" + "".join(entries), encoding="utf-8")
    server, base = await start_server(data, "--witnesses", str(policy), "--no-access-log")
    auth = {"Authorization": f"Bearer {tokens['writer']}"}
    audit = {"Authorization": f"Bearer {tokens['auditor']}"}
    parsed = [parse_witness_vkey(k) for k in keys]

    async def cosigners(session: aiohttp.ClientSession, size: int) -> list[str]:
        async with session.get(f"{base}/v1/checkpoint", headers=audit) as r:
            raw = await r.read()
        if int(raw.split(b"\n")[1]) != size:
            return []
        found = check(parse_note(raw), parsed, parse_vkey(log_vkey))
        assert not found.invalid
        return [c.witness.name for c in found.valid]

    async def until(session: aiohttp.ClientSession, size: int, names: list[str]) -> None:
        async with asyncio.timeout(20):
            while await cosigners(session, size) != names:
                await asyncio.sleep(0.05)

    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{base}/v1/events?wait=checkpoint", json=event(1), headers=auth) as r:
                assert r.status == 201
            await until(s, 1, ["lawfirm.example/w", "union.example/w"])
            wdir, proc, url = witnesses[1]
            assert await stop(proc) == 0
            for i in range(2, 5):
                async with s.post(f"{base}/v1/events?wait=checkpoint", json=event(i), headers=auth) as r:
                    assert r.status == 201  # ingest goes on without it
            await until(s, 4, ["lawfirm.example/w"])
            async with s.get(f"{base}/healthz") as r:
                health = await r.json()
            assert health["witnesses"]["checkpoint_witnessed"] is False
            port = url.rsplit(":", 1)[1]
            proc, _ = await start_witness_process(wdir, "--log", log_vkey, "--port", port)
            witnesses[1] = (wdir, proc, url)
            await until(s, 4, ["lawfirm.example/w", "union.example/w"])
    finally:
        assert await stop(server) == 0
        for _, proc, _ in witnesses:
            await stop(proc)
