"""The verifier runs alone: a fresh virtual environment holding only PyNaCl (and its cffi backend), a copy
of ``verifier/`` and a bundle; ``ledger``, ``api`` and every other project dependency are absent."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import _cffi_backend  # type: ignore[import-untyped,import-not-found,unused-ignore]
import cffi  # type: ignore[import-untyped,unused-ignore]
import nacl

from ledger.core.bundle import build_bundle
from tests.support.bundles import rewrite, sample_log, signer

ROOT = Path(__file__).parents[2]


def _site_packages(env: Path) -> Path:
    return env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def test_verifier_runs_in_a_bare_environment(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=True).create(env)
    site = _site_packages(env)
    # PyNaCl as pip would install it, taken from this machine instead of the network.
    shutil.copytree(Path(nacl.__file__).parent, site / "nacl")
    shutil.copytree(Path(cffi.__file__).parent, site / "cffi")
    shutil.copy2(_cffi_backend.__file__, site)
    expert = tmp_path / "expert"
    shutil.copytree(ROOT / "verifier", expert / "verifier", ignore=shutil.ignore_patterns("__pycache__"))
    bundle = build_bundle(sample_log().inputs(old_sizes=[4]))
    (expert / "bundle.zip").write_bytes(bundle)
    (expert / "tampered.zip").write_bytes(rewrite(bundle, {"entries/7.json": None, "proofs/7.tlog-proof": None}))
    python = str(env / "bin" / "python")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, *args],
            cwd=expert,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )

    probe = run(
        "-c",
        "import importlib.util as u; print([m for m in ('ledger', 'api', 'rfc8785', "
        "'rfc3161_client', 'aiohttp', 'nacl') if u.find_spec(m)])",
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "['nacl']"
    ok = run("-m", "verifier", "bundle.zip", "--vkey", signer().vkey, "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    bad = run("-m", "verifier", "tampered.zip", "--vkey", signer().vkey)
    assert bad.returncode == 1
    assert "step 6: entries/7.json is missing: the manifest lists seq 7 as a subject entry" in bad.stdout
    usage = run("-m", "verifier", "bundle.zip", "--vkey", signer().vkey, "--tsa-root", "root.pem")
    assert usage.returncode == 2 and "rfc3161-client" in usage.stderr
