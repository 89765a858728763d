"""The signing key outside the data directory (``hrledger init --key``), joining an existing log from a
second host, and refusing to put a new key in front of someone else's log."""

from __future__ import annotations

import asyncio
import json
import re
import stat
from pathlib import Path

import pytest

from ledger.admin.cli import main
from ledger.admin.datadir import init_datadir, load_datadir
from ledger.errors import DataDirError
from tests.admin.test_cli import run_cli
from tests.support.ledger import fill_ledger


def test_init_with_a_new_key_file_outside_the_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "secrets" / "hrledger.key"
    key.parent.mkdir()
    code, out, err = run_cli(
        capsys, "init", "--data", str(tmp_path / "d"), "--origin", "hr.example/ledger", "--key", str(key)
    )
    assert code == 0, err
    assert "created ledger hr.example/ledger" in out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not (tmp_path / "d" / "signing.key").exists()
    assert json.loads((tmp_path / "d" / "hrledger.json").read_text())["key"] == str(key)
    assert load_datadir(tmp_path / "d").signer().name == "hr.example/ledger"
    assert run_cli(capsys, "key", "show", "--data", str(tmp_path / "d"))[1].startswith("hr.example/ledger+")


@pytest.fixture
def existing(tmp_path: Path, capsys: pytest.CaptureFixture[str], store_uri: str | None) -> tuple[Path, str]:
    """A ledger with 40 entries whose key lives in tmp/key, and the URI of its store (SQLite file or MongoDB)."""
    first = tmp_path / "first"
    store = store_uri or f"sqlite:{tmp_path / 'shared.sqlite3'}"
    code, _, err = run_cli(
        capsys,
        "init",
        "--data",
        str(first),
        "--origin",
        "hr.example/ledger",
        "--store",
        store,
        "--key",
        str(tmp_path / "key"),
    )
    assert code == 0, err
    asyncio.run(fill_ledger(first, 40))
    return first, store


def test_a_second_host_joins_with_the_same_key(
    existing: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, store = existing
    second = tmp_path / "second"
    code, out, err = run_cli(capsys, "init", "--data", str(second), "--store", store, "--key", str(tmp_path / "key"))
    assert code == 0, err
    assert "joined the existing log hr.example/ledger (40 entries" in out
    assert load_datadir(second).origin == "hr.example/ledger"  # taken from the key
    code, out, err = run_cli(capsys, "fsck", "--data", str(second))
    assert code == 0 and out.startswith("fsck ok: 40 entries"), err
    code, _, err = run_cli(
        capsys,
        "init",
        "--data",
        str(tmp_path / "third"),
        "--store",
        store,
        "--origin",
        "other.example/log",
        "--key",
        str(tmp_path / "key"),
    )
    assert code == 1 and "is for 'hr.example/ledger', not the origin 'other.example/log'" in err
    assert not (tmp_path / "third").exists()


def test_a_new_key_in_front_of_another_log_is_refused_and_leaves_nothing(
    existing: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, store = existing
    for key in ([], ["--key", str(tmp_path / "new.key")]):
        intruder = tmp_path / "intruder"
        code, _, err = run_cli(
            capsys, "init", "--data", str(intruder), "--origin", "hr.example/ledger", "--store", store, *key
        )
        assert code == 1 and "the store holds the log of key 'hr.example/ledger+" in err
        assert "not of this data dir's key" in err
        assert not intruder.exists() and not (tmp_path / "new.key").exists()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "key"
    assert main(["init", "--data", str(tmp_path / "a"), "--key", str(key)]) == 0
    key.chmod(0o644)
    capsys.readouterr()
    code, _, err = run_cli(capsys, "init", "--data", str(tmp_path / "b"), "--key", str(key))
    assert code == 1 and "chmod 600" in err
    key.write_text("not a key\n")
    key.chmod(0o600)
    code, _, err = run_cli(capsys, "init", "--data", str(tmp_path / "b"), "--key", str(key))
    assert code == 1 and "is not an hrledger signing key" in err


def test_a_relative_key_path_is_taken_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secrets").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "init", "--data", "ledgers/one", "--key", "secrets/k")
    assert code == 0, err
    assert (tmp_path / "secrets" / "k").is_file() and not (tmp_path / "ledgers" / "secrets").exists()
    assert json.loads((tmp_path / "ledgers/one/hrledger.json").read_text())["key"] == str(tmp_path / "secrets/k")
    monkeypatch.chdir(tmp_path / "secrets")  # the recorded path is absolute: it works from anywhere
    assert run_cli(capsys, "key", "show", "--data", str(tmp_path / "ledgers/one"))[0] == 0


def test_a_failed_init_keeps_an_adopted_key_and_the_empty_dir_it_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--data", str(tmp_path / "first"), "--key", str(tmp_path / "keys" / "k")]) == 1  # no dir
    assert not (tmp_path / "first").exists()
    (tmp_path / "keys").mkdir()
    assert main(["init", "--data", str(tmp_path / "first"), "--key", str(tmp_path / "keys" / "k")]) == 0
    key_text = (tmp_path / "keys" / "k").read_text()
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.chdir(tmp_path / "empty")
    capsys.readouterr()
    code, _, err = run_cli(
        capsys, "init", "--data", ".", "--key", "../keys/k", "--store", f"sqlite:{tmp_path / 'junk.sqlite3'}"
    )
    assert code == 1 and "hrledger:" in err
    assert (tmp_path / "keys" / "k").read_text() == key_text  # the adopted key is untouched
    assert (tmp_path / "empty").is_dir() and list((tmp_path / "empty").iterdir()) == []  # given empty, left empty


def test_an_empty_store_belongs_to_the_first_key_and_a_service_with_another_refuses_to_start(
    tmp_path: Path, store_uri: str | None
) -> None:
    from aiohttp import web

    from api.app import create_app
    from api.config import AppConfig
    from ledger.admin.datadir import init_datadir

    store = store_uri or f"sqlite:{tmp_path / 'shared.sqlite3'}"
    assert main(["init", "--data", str(tmp_path / "first"), "--origin", "hr.example/ledger", "--store", store]) == 0
    # Nothing is in the log yet, so no checkpoint could tell whose it is: the identity record does.
    assert main(["init", "--data", str(tmp_path / "second"), "--origin", "hr.example/ledger", "--store", store]) == 1
    assert not (tmp_path / "second").exists()
    other = init_datadir(tmp_path / "other", origin="hr.example/ledger", store_uri=store)  # no check: a hand-made dir

    async def start(data: Path) -> None:
        runner = web.AppRunner(create_app(AppConfig(data_dir=data, access_log=False, tick_seconds=0)))
        try:
            await runner.setup()
        finally:
            await runner.cleanup()

    with pytest.raises(DataDirError, match="the store holds the log of key"):
        asyncio.run(start(other.path))
    asyncio.run(start(tmp_path / "first"))  # the first key's own service starts


def test_an_origin_may_not_take_the_name_of_the_logs_statements(tmp_path: Path) -> None:
    """A checkpoint's first line is its origin; the bundle declaration's and the subject head's first lines
    begin with hrledger.dev/, so no log may be called that (SPEC section 1)."""
    with pytest.raises(DataDirError, match=re.escape("begins with hrledger.dev/, which names the log's signed")):
        init_datadir(tmp_path / "d", origin="hrledger.dev/bundle/v2")
