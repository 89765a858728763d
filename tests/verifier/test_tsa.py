"""RFC 3161 tokens over checkpoint notes, issued by a real local TSA made with ``openssl ts``."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import build_bundle
from tests.support.bundles import MemLog, read, rewrite, sample_log, signer
from verifier.cli import run

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed for the local TSA")

TS_CNF = """[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class Tsa:
    def __init__(self, root: Path) -> None:
        self.dir = root
        (root / "ts.cnf").write_text(TS_CNF)
        (root / "serial").write_text("01\n")
        (root / "ext.cnf").write_text(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=critical,timeStamping\n"
        )
        for name in ("root", "other"):
            self._ssl(
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                f"{name}.key",
                "-out",
                f"{name}.pem",
                "-days",
                "3650",
                "-subj",
                f"/CN=Test {name}",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            )
        self._ssl(
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            "/CN=Test TSA",
        )
        self._ssl(
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "tsa.pem",
            "-days",
            "3650",
            "-extfile",
            "ext.cnf",
        )

    def _ssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], cwd=self.dir, check=True, capture_output=True, timeout=60)

    def stamp(self, data: bytes) -> bytes:
        """A TimeStampResp over ``data`` (SHA-256), embedding only the signer certificate."""
        (self.dir / "data").write_bytes(data)
        self._ssl("ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "q.tsq")
        self._ssl(
            "ts",
            "-reply",
            "-queryfile",
            "q.tsq",
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-config",
            "ts.cnf",
            "-out",
            "r.tsr",
        )
        return (self.dir / "r.tsr").read_bytes()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Tsa:
    return Tsa(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def log() -> MemLog:
    return sample_log()


def _verify(tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    (tmp_path / "b.zip").write_bytes(bundle)
    code = run([str(tmp_path / "b.zip"), "--vkey", signer().vkey, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_timestamps_verified_against_the_tsa_root(
    tmp_path: Path, tsa: Tsa, log: MemLog, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = log.inputs(old_sizes=[8])
    stamps = {12: tsa.stamp(log.checkpoint(12)), 8: tsa.stamp(log.checkpoint(8))}
    bundle = build_bundle(dataclasses.replace(inputs, timestamps=stamps))
    assert read(bundle)["timestamps/12.tsr"] == stamps[12]
    code, result = _verify(tmp_path, bundle, capsys, "--tsa-root", str(tsa.dir / "root.pem"))
    assert code == 0, result["failures"]
    assert result["steps"][8]["status"] == "ok"
    assert result["timestamped"] == [f"size 8 existed by {result['timestamped'][0][-20:]}", result["timestamped"][1]]
    times = {f["seq"]: f["tsa_time"] for f in result["timeline"]}
    assert all(t and t.endswith("Z") for t in times.values())
    # Without a trusted root the tokens are reported, not checked, and the bundle still verifies.
    code, result = _verify(tmp_path, bundle, capsys)
    assert code == 0 and result["steps"][8]["status"] == "not checked"
    assert (
        "tokens present but not checked: give --tsa-root with the TSA's root certificate" in result["steps"][8]["notes"]
    )
    assert all(f["tsa_time"] is None for f in result["timeline"])

    # A token over other bytes (the size-8 checkpoint) stored as the size-12 token.
    # (The forger here holds the log's key and re-signs the declaration, so only the timestamp check can refuse.)
    swapped = rewrite(bundle, {"timestamps/12.tsr": stamps[8]}, resign=signer())
    code, result = _verify(tmp_path, swapped, capsys, "--tsa-root", str(tsa.dir / "root.pem"))
    assert code == 1
    assert result["failures"] == [
        "step 9: timestamps/12.tsr: not a valid timestamp over the checkpoint of size 12: Mismatch between messages"
    ]
    # A token from a TSA the expert does not trust.
    code, result = _verify(tmp_path, bundle, capsys, "--tsa-root", str(tsa.dir / "other.pem"))
    assert code == 1 and len(result["failures"]) == 2
    assert all(f.startswith("step 9: timestamps/") for f in result["failures"])
    # A token for a checkpoint the bundle does not hold.
    orphan = rewrite(bundle, {"timestamps/5.tsr": tsa.stamp(log.checkpoint(5))}, resign=signer())
    code, result = _verify(tmp_path, orphan, capsys)
    assert result["failures"] == [
        "step 9: timestamps/5.tsr: the bundle holds no verified checkpoint of size 5 for it to cover"
    ]
