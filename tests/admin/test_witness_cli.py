"""``hrledger witness init|serve|show`` as an operator runs them, the server as its own process."""

from __future__ import annotations

import asyncio
import signal
import stat
from pathlib import Path

import aiohttp
import pytest

from ledger.admin.cli import main
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint
from tests.support.witness import start_witness_process
from verifier.cosignature import parse_witness_vkey

LOG = Signer("hr.example/ledger", bytes(32))


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_prints_the_cosignature_key_and_keeps_the_key_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "witness", "init", "--data", str(tmp_path / "w"), "--name", "lawfirm.example/w")
    assert code == 0
    key = parse_witness_vkey(out.strip().splitlines()[-1])
    assert key.name == "lawfirm.example/w"
    assert stat.S_IMODE((tmp_path / "w" / "witness.key").stat().st_mode) == 0o600
    assert (tmp_path / "w" / "witness.sqlite3").is_file()
    code, _, err = run_cli(capsys, "witness", "init", "--data", str(tmp_path / "w"), "--name", "lawfirm.example/w")
    assert code == 1 and "keeps one key for good" in err
    code, out, _ = run_cli(capsys, "witness", "show", "--data", str(tmp_path / "w"))
    assert code == 0 and out.strip() == key.vkey


def test_serve_without_logs_or_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "witness", "serve", "--data", str(tmp_path / "none"), "--log", LOG.vkey)
    assert code == 1 and "hrledger witness init" in err
    run_cli(capsys, "witness", "init", "--data", str(tmp_path / "w"), "--name", "w.example/w")
    code, _, err = run_cli(capsys, "witness", "serve", "--data", str(tmp_path / "w"))
    assert code == 1 and "at least one log" in err


def test_the_log_service_refuses_a_bad_witness_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "init", "--data", str(tmp_path / "d"), "--origin", "hr.example/ledger")[0] == 0
    policy = tmp_path / "witnesses.toml"
    policy.write_text("quorum = 1\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "serve", "--data", str(tmp_path / "d"), "--witnesses", str(policy))
    assert code == 1 and "[[witness]]" in err


async def post(url: str, body: bytes) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as s, s.post(url + "/add-checkpoint", data=body) as r:
        return r.status, await r.read()


def note(size: int) -> bytes:
    return sign_checkpoint(CheckpointBody(LOG.name, size, bytes([size]) * 32), LOG)


async def test_a_served_witness_keeps_its_state_across_a_restart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "w"
    assert await asyncio.to_thread(main, ["witness", "init", "--data", str(data), "--name", "lawfirm.example/w"]) == 0
    logs = tmp_path / "logs.txt"
    logs.write_text(f"# witnessed\n{LOG.vkey}\n", encoding="utf-8")
    proc, url = await start_witness_process(data, "--logs", str(logs))
    try:
        status, body = await post(url, b"old 0\n\n" + note(4))
        assert status == 200 and body.startswith("\u2014 lawfirm.example/w ".encode())
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    proc, url = await start_witness_process(data, "--log", LOG.vkey)
    try:
        assert await post(url, b"old 0\n\n" + note(9)) == (409, b"4\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    code = await asyncio.to_thread(main, ["witness", "show", "--data", str(data)])
    out = capsys.readouterr().out
    assert code == 0 and "hr.example/ledger: size 4, cosigned " in out and "0 refused request(s) kept" in out
