"""A real browser for the workbench tests: Debian's headless Chromium driven by Playwright (no browser
download: ``executable_path`` is the system's), and ``hrledger serve`` as its own process (no tests here).

Screenshots go to ``SCREENS`` (``HRLEDGER_SCREENS``, default /tmp/hrledger-screens) so they outlive the
test's tmp dir; each path is printed."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("HRLEDGER_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENS = Path(os.environ.get("HRLEDGER_SCREENS", "/tmp/hrledger-screens"))
ROOT = Path(__file__).resolve().parents[2]


def missing_tools() -> list[str]:
    missing = [] if Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    return missing + [t for t in ("pdftoppm", "pdfinfo") if shutil.which(t) is None]


def cli(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ledger.admin.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def serve(data: Path, *extra: str) -> Iterator[str]:
    """``hrledger serve`` on a free port; yields its base URL and stops it (SIGTERM) after."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger.admin.cli", "serve", "--data", str(data), "--port", "0", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    base = ""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while not base:
            assert sel.select(timeout=60), "hrledger serve did not start listening within 60 s"
            line = proc.stdout.readline()
            assert line, "hrledger serve exited before listening"
            if line.startswith("hrledger serving on http://"):
                base = line.split()[-1]
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stdout.close()


def post_json(url: str, token: str, body: Any) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def screenshot_path(name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / name
    print(f"screenshot: {path}")
    return path
