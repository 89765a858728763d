"""verifier.pyz (``ledger.services.verifier_app``): the same bytes every time, runnable, and its SHA-256 published
in the README's release notes, so a court expert can compare the copy inside a bundle."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from ledger.services.verifier_app import verifier_pyz, verifier_pyz_sha256

ROOT = Path(__file__).resolve().parents[2]


def test_the_zipapp_holds_the_verifier_and_nothing_else() -> None:
    pyz = verifier_pyz()
    assert pyz.startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(io.BytesIO(pyz)) as zf:
        names = zf.namelist()
        assert all(
            i.compress_type == zipfile.ZIP_STORED and i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist()
        )
    expected = sorted(f"verifier/{p.name}" for p in (ROOT / "verifier").glob("*.py"))
    assert names == ["__main__.py", *expected]


def test_the_zipapp_runs(tmp_path: Path) -> None:
    (tmp_path / "verifier.pyz").write_bytes(verifier_pyz())
    out = subprocess.run(
        [sys.executable, "verifier.pyz", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and "hrledger-verify" in out.stdout and "--receipt" in out.stdout


def test_the_readme_publishes_this_versions_sha256() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    published = re.findall(r"verifier\.pyz SHA-256: `([0-9a-f]{64})`", readme)
    assert published == [verifier_pyz_sha256()], (
        "verifier/ changed: put its new SHA-256 in the README's Verifier section "
        "(python -m ledger.services.verifier_app prints it)"
    )
