"""The command line end to end on a real data directory: init, keys, tokens, fsck, erase."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.admin.cli import main
from ledger.admin.datadir import load_datadir
from ledger.admin.fsck import fsck
from ledger.core.wire import verify_checkpoint
from ledger.domain.calendar import NATIONAL_YEARS
from ledger.log import Log
from tests.support.ledger import fill_ledger
from verifier.merkle import verify_inclusion
from verifier.note import parse_vkey


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _init_and_fill(data: Path, capsys: pytest.CaptureFixture[str], store_uri: str | None = None) -> Path:
    store = ["--store", store_uri] if store_uri else []
    code, out, _ = run_cli(capsys, "init", "--data", str(data), "--origin", "hr.example/ledger", *store)
    assert code == 0 and "created ledger hr.example/ledger" in out
    asyncio.run(fill_ledger(data, 40))
    return data


@pytest.fixture
def ledger_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """A ledger on the embedded SQLite store (for tests that reach into the file)."""
    yield _init_and_fill(tmp_path / "data", capsys)


@pytest.fixture
def any_ledger_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str], store_uri: str | None) -> Iterator[Path]:
    """A ledger made with ``hrledger init``, once on SQLite and once with ``--store mongodb://...``."""
    yield _init_and_fill(tmp_path / "data", capsys, store_uri)


def test_init_key_file_and_key_show(ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = ledger_dir / "signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, out, _ = run_cli(capsys, "key", "show", "--data", str(ledger_dir))
    vkey = out.strip()
    assert code == 0 and parse_vkey(vkey).name == "hr.example/ledger"


def test_init_refuses_existing_and_foreign_dirs(
    tmp_path: Path, ledger_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "init", "--data", str(ledger_dir))
    assert code == 1 and "already holds a ledger" in err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    assert run_cli(capsys, "init", "--data", str(foreign))[0] == 1
    code, _, err = run_cli(capsys, "fsck", "--data", str(foreign))
    assert code == 1 and "not an hrledger data directory" in err
    code, _, err = run_cli(capsys, "key", "show", "--data", str(tmp_path / "missing"))
    assert code == 1 and "does not exist" in err


def test_key_readable_by_others_is_refused(ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chmod(ledger_dir / "signing.key", 0o644)
    code, _, err = run_cli(capsys, "key", "show", "--data", str(ledger_dir))
    assert code == 1 and "chmod 600" in err


def test_tokens_create_list_revoke(any_ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_dir = any_ledger_dir
    code, out, _ = run_cli(capsys, "token", "create", "--data", str(ledger_dir), "--role", "writer", "--name", "hris")
    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("hrl_")

    async def stored_records() -> str:
        store = load_datadir(ledger_dir).open_store()
        await store.open()
        try:
            return str(await store.list_records("token"))
        finally:
            await store.close()

    records = asyncio.run(stored_records())
    assert "hris" in records and token not in records  # only a hash of the token is stored
    code, out, _ = run_cli(capsys, "token", "list", "--data", str(ledger_dir))
    assert "writer" in out and "active" in out and "hris" in out
    assert run_cli(capsys, "token", "revoke", "--data", str(ledger_dir), "hris")[0] == 0
    assert "revoked" in run_cli(capsys, "token", "list", "--data", str(ledger_dir))[1]
    assert run_cli(capsys, "token", "revoke", "--data", str(ledger_dir), "nobody")[0] == 1


def test_fsck_passes_on_a_sound_ledger(any_ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "fsck", "--data", str(any_ledger_dir))
    assert code == 0, err
    assert "fsck ok: 40 entries" in out


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), 'attendance', 'attendancf') AS BLOB) "
            "WHERE seq = 17",
            "entry seq 17: stored leaf hash is not SHA-256(0x00 || entry)",
        ),
        (
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'face', 'fake') AS BLOB) WHERE seq = 3",
            "entry seq 3: data and salt do not match",
        ),
        (
            "UPDATE nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 3",
            "node (level 2, index 3): stored hash differs",
        ),
        (
            "UPDATE checkpoints SET note = CAST(replace(CAST(note AS TEXT), CAST(size AS TEXT) || char(10), "
            "CAST(size + 1 AS TEXT) || char(10)) AS BLOB) WHERE size = (SELECT max(size) FROM checkpoints)",
            "checkpoint size 40:",
        ),
    ],
    ids=["entry-byte", "data", "node", "checkpoint"],
)
def test_fsck_reports_each_tampering_with_its_location(
    ledger_dir: Path, capsys: pytest.CaptureFixture[str], sql: str, expected: str
) -> None:
    db = sqlite3.connect(ledger_dir / "ledger.sqlite3")
    assert db.execute(sql).rowcount == 1
    db.commit()
    db.close()
    code, _, err = run_cli(capsys, "fsck", "--data", str(ledger_dir))
    assert code == 1
    assert expected in err


def test_erase_keeps_proofs_and_records_itself(any_ledger_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_dir = any_ledger_dir
    code, out, _ = run_cli(capsys, "erase", "--data", str(ledger_dir), "--subject", "E1")
    assert code == 0 and "erased data of 20 entries of E1; recorded as seq 40" in out

    async def check() -> None:
        datadir = load_datadir(ledger_dir)
        store = datadir.open_store()
        await store.open()
        log = Log(store, datadir.signer(), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
        erased = [e for e in await store.scan_entries(subject="E1") if e.type == "attendance.clock_in"]
        assert len(erased) == 20 and all(e.data is None and e.salt is None for e in erased)
        record = await store.get_entry(40)
        assert record is not None and record.type == "ledger.erased" and record.subject == "E1"
        cp = await store.latest_checkpoint()
        assert cp is not None and cp.size == 41
        root = verify_checkpoint(cp.note, datadir.signer().verifier()).root
        for e in erased:
            verify_inclusion(e.leaf_hash, e.seq, cp.size, await log.inclusion_proof(e.seq, cp.size), root)
        await store.close()

    asyncio.run(check())
    assert run_cli(capsys, "fsck", "--data", str(ledger_dir))[0] == 0
    assert "nothing to erase" in run_cli(capsys, "erase", "--data", str(ledger_dir), "--subject", "E1")[1]


def test_bundle_then_verify(any_ledger_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from verifier.cli import run as verify

    ledger_dir = any_ledger_dir
    out = tmp_path / "E1.zip"
    code, printed, err = run_cli(
        capsys,
        "bundle",
        "--data",
        str(ledger_dir),
        "--subject",
        "E1",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert f"wrote {out}" in printed and "hrledger-verify" in printed
    vkey = run_cli(capsys, "key", "show", "--data", str(ledger_dir))[1].strip()
    assert verify([str(out), "--vkey", vkey]) == 0
    assert "ok" in capsys.readouterr().out.lower()
    capsys.readouterr()
    with zipfile.ZipFile(out) as z:
        files = {name: z.read(name) for name in z.namelist()}
    victim = next(n for n in sorted(files) if n.startswith("entries/"))
    files[victim] = files[victim].replace(b"face", b"gps!")
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    assert verify([str(out), "--vkey", vkey]) == 1
    assert victim in capsys.readouterr().out
    code, _, err = run_cli(
        capsys,
        "bundle",
        "--data",
        str(ledger_dir),
        "--subject",
        "E1",
        "--from",
        "2026-02-30",
        "--to",
        "2026-03-01",
        "--out",
        str(out),
    )
    assert code == 1 and "--from" in err


@pytest.mark.parametrize("ttl", ["0", "-1", "soon", "3600"])
def test_serve_refuses_a_bad_lease_ttl_before_starting(ttl: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--data", "unused", "--lease-ttl", ttl])
    assert exit_.value.code == 2
    assert "--lease-ttl" in capsys.readouterr().err


def test_erase_on_mongodb_commits_in_the_sequencers_term(
    tmp_path: Path, mongo_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service has held the sequencer lease (the head's term is above 0): the CLI's erase still commits."""
    from ledger.services.lease import Lease
    from ledger.storage.mongo import MongoStorage
    from tests.support.mongo_server import drop_database, fresh_uri

    uri = fresh_uri(mongo_uri)
    data = _init_and_fill(tmp_path / "data", capsys, uri)

    async def a_service_takes_the_lease() -> int:
        store = MongoStorage(uri)
        await store.open()
        lease = Lease(store, holder="service", ttl=30)
        assert await lease.step()
        await store.tree_size()
        term = store.observed_term
        await store.close()  # it keeps the lease: a live service, as far as the CLI can tell
        return term

    try:
        assert asyncio.run(a_service_takes_the_lease()) == 1
        code, out, err = run_cli(capsys, "erase", "--data", str(data), "--subject", "E1")
        assert code == 0, err
        assert "erased data of 20 entries of E1; recorded as seq 40" in out
        code, out, err = run_cli(capsys, "fsck", "--data", str(data))
        assert code == 0 and out.startswith("fsck ok: 41 entries"), err
    finally:
        drop_database(uri)


# -- hrledger calendar add|show ------------------------------------------------------------------


def calendar_entries(data: Path, type_: str) -> list[tuple[dict[str, object], dict[str, object]]]:
    async def read() -> list[tuple[dict[str, object], dict[str, object]]]:
        datadir = load_datadir(data)
        store = datadir.open_store()
        await store.open()
        try:
            report = await fsck(store, datadir.signer().verifier())
            assert report.ok, report.problems
            rows = await store.scan_entries(type=type_)
            return [(json.loads(e.entry), json.loads(e.data or b"null")) for e in rows]
        finally:
            await store.close()

    return asyncio.run(read())


def test_add_a_year_from_a_list_and_a_file_then_show(
    any_ledger_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(any_ledger_dir)
    days = tmp_path / "holidays-2027.txt"
    days.write_text(
        "# test data, not the official 2027 schedule\n2027-01-01\n2027-02-10, 2027-02-11\n", encoding="utf-8"
    )
    code, out, err = run_cli(
        capsys,
        "calendar",
        "add",
        "--data",
        data,
        "--year",
        "2027",
        "--holidays",
        str(days),
        "--workdays",
        "2027-02-06",
        "--source",
        "test data",
    )
    assert code == 0, err
    assert "recorded: the 2027 working-day calendar" in out and "3 weekdays off, 1 weekend days worked" in out
    # the same again is the same entry (idempotent), not a second one
    code, out, _ = run_cli(
        capsys,
        "calendar",
        "add",
        "--data",
        data,
        "--year",
        "2027",
        "--holidays",
        str(days),
        "--workdays",
        "2027-02-06",
        "--source",
        "test data",
    )
    assert code == 0 and "already recorded" in out
    ((leaf, body),) = calendar_entries(any_ledger_dir, "calendar.adopted")
    assert (leaf["subject"], leaf["source"]) == ("company", "hrledger-cli")
    assert body == {
        "year": 2027,
        "holidays": ["2027-01-01", "2027-02-10", "2027-02-11"],
        "workdays": ["2027-02-06"],
        "source": "test data",
    }
    code, out, _ = run_cli(capsys, "calendar", "show", "--data", data)
    assert code == 0
    assert "2027  in the log" in out and "source: test data" in out
    assert f"bundled national calendar: {NATIONAL_YEARS[0]}–{NATIONAL_YEARS[1]}" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--holidays", "2027-01-02", "--workdays", "none"], "--holidays: 2027-01-02 is a Saturday"),
        (["--holidays", "2027-13-01", "--workdays", "none"], "'2027-13-01' is not a date"),
        (["--holidays", "2028-01-03", "--workdays", "none"], "--holidays: 2028-01-03 is not in 2027"),
        (["--holidays", "2027-01-01", "--workdays", "2027-01-01"], "also listed in holidays"),
        (["--holidays", "2027-01-01,2027-01-01", "--workdays", "none"], "listed twice"),
    ],
)
def test_mistakes_are_named_and_change_nothing(
    any_ledger_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    code, _, err = run_cli(
        capsys, "calendar", "add", "--data", str(any_ledger_dir), "--year", "2027", "--source", "x", *args
    )
    assert code == 1 and words in err and "Traceback" not in err
    assert calendar_entries(any_ledger_dir, "calendar.adopted") == []


def test_operator_mistakes_get_a_message_not_a_traceback(
    ledger_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys,
        "bundle",
        "--data",
        str(ledger_dir),
        "--subject",
        "E1",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--out",
        str(tmp_path / "missing" / "b.zip"),
    )
    assert code == 1 and "--out: the folder" in err and "does not exist" in err and "Traceback" not in err


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 8080)" in out and "(default: 127.0.0.1)" in out and "(default: 60.0)" in out
    assert "(default: None)" not in out and "(default: False)" not in out
