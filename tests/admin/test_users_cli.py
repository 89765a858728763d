"""``hrledger user create|list|disable`` on a real data directory; the password comes from standard input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ledger.admin.cli import main
from ledger.admin.datadir import init_datadir


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_disable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "d")
    init_datadir(Path(data), origin="hr.example/ledger")
    code, out, _ = run(
        capsys,
        monkeypatch,
        "user",
        "create",
        "--data",
        data,
        "--role",
        "hr",
        "--name",
        "wang.li",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert code == 0 and "source workbench/wang.li" in out
    code, out, _ = run(capsys, monkeypatch, "user", "list", "--data", data)
    assert code == 0 and out.split()[:3] == ["wang.li", "hr", "active"]
    code, out, err = run(
        capsys,
        monkeypatch,
        "user",
        "create",
        "--data",
        data,
        "--role",
        "hr",
        "--name",
        "wang.li",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert code == 1 and "exists already" in err
    code, out, _ = run(capsys, monkeypatch, "user", "disable", "--data", data, "--name", "wang.li")
    assert code == 0 and "disabled wang.li" in out
    code, out, _ = run(capsys, monkeypatch, "user", "list", "--data", data)
    assert out.split()[:3] == ["wang.li", "hr", "disabled"]


def test_a_short_password_or_empty_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "d")
    init_datadir(Path(data), origin="hr.example/ledger")
    base = ("user", "create", "--data", data, "--role", "legal", "--name", "li", "--password-stdin")
    code, _, err = run(capsys, monkeypatch, *base, stdin="short\n")
    assert code == 1 and "password" in err
    code, _, err = run(capsys, monkeypatch, *base, stdin="")
    assert code == 1 and "standard input is empty" in err
    code, out, _ = run(capsys, monkeypatch, "user", "list", "--data", data)
    assert out == ""
