"""The witness directory: a 0600 key made once, and the logs named by their verifier keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ledger.core.notes import Signer
from ledger.errors import DataDirError, ValidationError
from ledger.witness.datadir import init_witness_dir, load_witness_dir, read_log_keys


def test_init_makes_a_private_key_once(tmp_path: Path) -> None:
    wdir = init_witness_dir(tmp_path / "w", "w.example/witness", bytes(range(32)))
    assert stat.S_IMODE(wdir.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(wdir.path.stat().st_mode) == 0o700
    assert load_witness_dir(tmp_path / "w").cosigner().vkey == wdir.cosigner().vkey
    with pytest.raises(DataDirError, match="not an empty directory"):
        init_witness_dir(tmp_path / "w", "w.example/witness", bytes(32))
    os.chmod(wdir.key_path, 0o644)
    with pytest.raises(DataDirError, match="chmod 600"):
        wdir.cosigner()


def test_a_bad_name_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="forbidden"):
        init_witness_dir(tmp_path / "w", "bad name", bytes(32))
    assert not (tmp_path / "w").exists()
    with pytest.raises(DataDirError, match="hrledger witness init"):
        load_witness_dir(tmp_path / "w")


def test_logs_from_keys_and_files(tmp_path: Path) -> None:
    a, b, a2 = (
        Signer("a.example/log", bytes(32)),
        Signer("b.example/log", bytes(32)),
        Signer("a.example/log", b"x" * 32),
    )
    file = tmp_path / "logs.txt"
    file.write_text(f"# the logs we witness\n{b.vkey}   # the union's\n\n{a2.vkey}\n{a.vkey}\n", encoding="utf-8")
    logs = read_log_keys([a.vkey], [file])
    assert {o: [k.text for k in ks] for o, ks in logs.items()} == {
        "a.example/log": [a.vkey, a2.vkey],  # a rotation: both keys are trusted for the origin
        "b.example/log": [b.vkey],
    }
    with pytest.raises(ValidationError, match=r"logs\.txt:2"):
        file.write_text("# fine\nnot-a-key\n", encoding="utf-8")
        read_log_keys([], [file])
    with pytest.raises(ValidationError, match="at least one log"):
        read_log_keys([], [])
    with pytest.raises(DataDirError, match="cannot read"):
        read_log_keys([], [tmp_path / "missing"])
