"""The bundle's report.html (the court exhibit) printed by headless Chromium to A4 PDF: page size, pages, text.

`make test` installs Debian's chromium, poppler-utils and a CJK font when they are missing; on a machine
without them this test is skipped, saying which tool is absent.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from ledger.core.bundle import build_bundle
from tests.support.bundles import SUBJECT, sample_log

TOOLS = ("chromium", "pdfinfo", "pdftotext")
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)} (make test installs them)")


def print_to_pdf(html: Path, pdf: Path, profile: Path) -> None:
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_report_prints_on_a4_in_chinese_and_english(tmp_path: Path) -> None:
    bundle = build_bundle(sample_log().inputs())
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        html = z.read("report.html")
    (tmp_path / "report.html").write_bytes(html)
    pdf = tmp_path / "report.pdf"
    print_to_pdf(tmp_path / "report.html", pdf, tmp_path / "profile")

    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert size is not None
    assert abs(float(size.group(1)) - 595.3) < 1.5 and abs(float(size.group(2)) - 841.9) < 1.5, info  # A4
    # A dozen facts with their proofs: a short report, never an empty or runaway one.
    assert 1 <= pages <= 4, info

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    flat = re.sub(r"\s+", "", text)
    for phrase in (
        "证据材料",
        "Evidenceexhibit",
        "证据目录",
        "Evidencecatalogue",
        "请假申请",
        "案件经过",
        "Whathappened",
        "文书及送达",
        "Noticesandtheirservice",
        "催告函",
        "解除条件清单",
        "如何核验",
        SUBJECT,
    ):
        assert phrase in flat, f"{phrase!r} missing from the printed report"
    assert pages == text.count("\f") or pages == text.count("\f") + 1
