"""The verifier runs alone, from the bundle itself: a fresh virtual environment holding only PyNaCl (and its
cffi backend) runs the bundle's own ``verifier.pyz`` on the bundle; ``ledger``, ``api`` and every other
project dependency are absent."""

from __future__ import annotations

import dataclasses
import hashlib
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
from ledger.core.verify_md import verify_md
from ledger.services.verifier_app import verifier_pyz, verifier_pyz_sha256
from tests.support.bundles import SUBJECT, read, rewrite, sample_log, signer


def _site_packages(env: Path) -> Path:
    return env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def test_the_bundles_own_verifier_runs_in_a_bare_environment(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=True).create(env)
    site = _site_packages(env)
    # PyNaCl as pip would install it, taken from this machine instead of the network.
    shutil.copytree(Path(nacl.__file__).parent, site / "nacl")
    shutil.copytree(Path(cffi.__file__).parent, site / "cffi")
    shutil.copy2(_cffi_backend.__file__, site)
    log = sample_log()
    receipt_seq = log.append(SUBJECT, "attendance.clock_in", "2026-04-03T08:55:00+08:00", {"method": "face"})
    later = log.inputs()  # the employee's receipt of a clock-in after the bundle's tree
    inputs = dataclasses.replace(
        log.inputs(size=receipt_seq, old_sizes=[4]),
        verify_md=verify_md(verifier_pyz_sha256()),
        verifier_pyz=verifier_pyz(),
    )
    bundle = build_bundle(inputs)
    files = read(bundle)
    expert = tmp_path / "expert"
    expert.mkdir()
    (expert / "bundle.zip").write_bytes(bundle)
    (expert / "verifier.pyz").write_bytes(files["verifier.pyz"])  # taken out of the bundle, as VERIFY.md says
    assert hashlib.sha256(files["verifier.pyz"]).hexdigest() in files["VERIFY.md"].decode()
    (expert / "tampered.zip").write_bytes(rewrite(bundle, {"entries/7.json": None, "proofs/7.tlog-proof": None}))
    from ledger.core.notes import format_tlog_proof

    receipt = format_tlog_proof(
        receipt_seq, log.proof(receipt_seq, later.tree_size), later.checkpoint, extra=log.leaves[receipt_seq]
    )
    (expert / "clock-in.tlog-proof").write_bytes(receipt)
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
        "import importlib.util as u; print([m for m in ('ledger', 'api', 'verifier', 'rfc8785', "
        "'rfc3161_client', 'aiohttp', 'nacl') if u.find_spec(m)])",
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "['nacl']"
    vkey = signer().vkey
    ok = run("verifier.pyz", "bundle.zip", "--vkey", vkey, "--json", "--receipt", "clock-in.tlog-proof")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    result = json.loads(ok.stdout)
    assert result["ok"] is True and result["complete"] is True
    assert result["receipts"][0]["outcome"] == "after this bundle"
    bad = run("verifier.pyz", "tampered.zip", "--vkey", vkey)
    assert bad.returncode == 1
    assert "step 2: manifest.sig declares another manifest.json" in bad.stdout
    usage = run("verifier.pyz", "bundle.zip", "--vkey", vkey, "--tsa-root", "root.pem")
    assert usage.returncode == 2 and "rfc3161-client" in usage.stderr
