"""The standalone verifier on real v2 bundles: the genuine one verifies in eleven steps, with its chains, data
states and timeline; erasures, withheld data and a log made before v2 are shown for what they are."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core.bundle import build_bundle
from ledger.core.notes import CheckpointBody, sign_checkpoint
from ledger.errors import IntegrityError
from tests.support.bundles import ORIGIN, SUBJECT, MemLog, read, sample_log, signer
from verifier.bundle import MANIFEST_KEYS
from verifier.cli import run

VKEY = signer().vkey
CASE = {"cases": [{"case_id": "C-CLAIMED-BY-SERVER", "status": "open", "readiness": {"ready": True, "items": []}}]}


@pytest.fixture(scope="module")
def log() -> MemLog:
    return sample_log()


@pytest.fixture(scope="module")
def genuine(log: MemLog) -> bytes:
    return build_bundle(log.inputs(old_sizes=[3, 8], withheld=[11], case=CASE))


def verify(tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    code = run([str(path), "--vkey", VKEY, *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def result_of(tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out = verify(tmp_path, bundle, capsys, "--json")
    return code, json.loads(out)


def test_genuine_bundle_verifies(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(tmp_path, genuine, capsys)
    assert code == 0, out
    assert "RESULT: every check holds; completeness shown" in out
    assert "the chain of 'E1001': 8 entries from head 11 back to its first entry, seq 1" in out
    assert "size 3 is a prefix of size 12" in out and "size 8 is a prefix of size 12" in out
    assert "late-recorded" in out and "stage reminder" in out
    assert "What it cannot prove on its own: that the key holder did not pick an older tree" in out
    # every fact shows whose it is
    assert "seq 0      company" in out and "seq 3      E1001" in out


def test_json_result_names_steps_chains_and_data(
    tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = result_of(tmp_path, genuine, capsys)
    assert code == 0 and result["ok"] and result["complete"] and result["failures"] == []
    assert [s["step"] for s in result["steps"]] == list(range(1, 12))
    assert all(s["status"] == "ok" for s in result["steps"])
    assert [f["seq"] for f in result["timeline"]] == [0, 1, 3, 4, 6, 7, 8, 10, 11]  # E2002's are not in the bundle
    by_seq = {f["seq"]: f for f in result["timeline"]}
    assert by_seq[8]["late"] and not by_seq[6]["late"]
    assert by_seq[7]["stage"] == "reminder"
    assert by_seq[0]["chain"] == "company" and by_seq[3]["chain"] == "subject"
    assert by_seq[11]["data"] == "withheld" and by_seq[3]["data"] == "present"
    assert by_seq[3]["subject"] == SUBJECT and by_seq[0]["subject"] == "company"
    assert result["built_at"] == "2026-04-05T02:00:00Z" and result["latest"] is True
    assert result["late_recorded_hours"] == 24
    assert set(result["presentation"]) == {"report.html", "case.json", "VERIFY.md", "verifier.pyz"}


def test_own_html_report_shows_verified_facts_only(
    tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    html_path = tmp_path / "report.html"
    code, _ = verify(tmp_path, genuine, capsys, "--html", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert code == 0
    assert "证据包核验报告" in html and "Evidence bundle verification report" in html
    assert "size: A4" in html and "return_demand" in html and "当事人 Subject" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "C-CLAIMED-BY-SERVER" not in html  # case.json is the producer's claim: not in the verifier's report
    exhibit = read(genuine)["report.html"].decode()
    assert "证据目录" in exhibit and "Evidence catalogue" in exhibit and "C-CLAIMED-BY-SERVER" in exhibit
    assert "computed by the server from the log; not checked by the verifier" in exhibit  # the claim, as such


def test_building_is_deterministic_and_the_manifest_exact(log: MemLog, genuine: bytes) -> None:
    again = build_bundle(log.inputs(old_sizes=[3, 8], withheld=[11], case=CASE))
    assert again == genuine
    assert build_bundle(log.inputs(old_sizes=[3])) != genuine
    files = read(genuine)
    assert list(files) == sorted(files)
    manifest = json.loads(files["manifest.json"])
    assert sorted(manifest) == sorted(MANIFEST_KEYS)
    assert manifest["format"] == "hrledger-bundle/2" and manifest["tree_size"] == 12
    assert manifest["chains"] == {
        SUBJECT: {"head": 11, "first": 1, "count": 8},
        "company": {"head": 0, "first": 0, "count": 1},
    }
    assert manifest["withheld"] == [11] and manifest["period"]["time_zone"] == "Asia/Shanghai"
    assert set(manifest["files"]) == set(files) - {"manifest.json", "manifest.sig"}
    assert files["manifest.sig"].startswith(b"hrledger.dev/bundle/v2\n" + ORIGIN.encode() + b"\n")
    proof = files["proofs/3.tlog-proof"].split(b"\n")
    assert proof[0] == b"c2sp.org/tlog-proof@v1" and proof[1].startswith(b"extra ") and proof[2] == b"index 3"


def test_erasures_and_withheld_data_are_shown_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = sample_log()
    erasure = log.append(SUBJECT, "ledger.erased", "2026-04-03T10:00:00+08:00", {"seqs": [6, 8, 10], "count": 3})
    bundle = build_bundle(log.inputs(erased=[6, 8], withheld=[11]))  # 10 named but not dropped yet
    code, result = result_of(tmp_path, bundle, capsys)
    assert code == 0, result["failures"]
    by_seq = {f["seq"]: f for f in result["timeline"]}
    assert by_seq[6]["data"] == by_seq[8]["data"] == "erased" and by_seq[6]["erased_by"] == erasure
    assert by_seq[10]["data"] == "erasure pending" and by_seq[7]["data"] == "present"
    assert by_seq[11]["data"] == "withheld"
    notes = next(s for s in result["steps"] if s["step"] == 7)["notes"]
    assert any("partial erasure" in n for n in notes)


def test_a_whole_erasure_is_not_called_partial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The erasure record's own data is never erased (SPEC section 1): it must not make a whole erasure "partial".
    log = sample_log()
    own = [s for s in range(len(log.leaves)) if log.leaf(s)["subject"] == SUBJECT]
    log.append(SUBJECT, "ledger.erased", "2026-04-03T10:00:00+08:00", {"seqs": own, "count": len(own)})
    code, result = result_of(tmp_path, build_bundle(log.inputs(erased=own)), capsys)
    assert code == 0, result["failures"]
    notes = next(s for s in result["steps"] if s["step"] == 7)["notes"]
    erased_note = next(n for n in notes if n.startswith("personal data erased"))
    assert "partial" not in erased_note


def test_usage_errors_exit_2_and_a_bad_archive_exits_1(
    tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([str(tmp_path / "missing.zip"), "--vkey", VKEY]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert run([str(tmp_path / "junk.zip"), "--vkey", VKEY]) == 1
    assert "step 1: not a readable zip archive" in capsys.readouterr().out
    (tmp_path / "b.zip").write_bytes(genuine)
    assert run([str(tmp_path / "b.zip"), "--vkey", "nonsense"]) == 2
    assert "bad --vkey" in capsys.readouterr().err
    wrong_id = VKEY.replace(VKEY.split("+")[1], "00000000")
    assert run([str(tmp_path / "b.zip"), "--vkey", wrong_id]) == 2
    assert "key id 00000000 does not match the key" in capsys.readouterr().err
    assert run([str(tmp_path / "b.zip"), "--vkey", VKEY, "--tsa-root", str(tmp_path / "none.pem")]) == 2
    assert run([str(tmp_path / "b.zip"), "--vkey", VKEY, "--receipt", str(tmp_path / "none")]) == 2
    assert "cannot read --receipt" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run([str(tmp_path / "b.zip")])
    assert exc.value.code == 2


def test_the_builder_refuses_what_would_not_verify(log: MemLog) -> None:
    good = log.inputs()
    wrong_root = sign_checkpoint(CheckpointBody(ORIGIN, 12, b"\x01" * 32), log.key)
    with pytest.raises(IntegrityError, match=r"step 5: entries/1.json: inclusion: computed root does not match"):
        build_bundle(dataclasses.replace(good, checkpoint=wrong_root))
    broken = dataclasses.replace(good, entries=[e for e in good.entries if e.seq != 6])  # a link left out
    with pytest.raises(IntegrityError, match=r"step 6: the chain of 'E1001': seq 7 has prev 6|breaks at seq 6"):
        build_bundle(broken)


def test_a_log_made_before_v2_verifies_but_cannot_show_completeness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = MemLog()
    log.append("company", "calendar.adopted", "2025-12-01T10:00:00+08:00", {"year": 2026}, v=1)
    log.append(SUBJECT, "leave.requested", "2026-03-02T09:00:00+08:00", {"leave_id": "L1"}, v=1)
    log.append(SUBJECT, "leave.approved", "2026-03-02T11:00:00+08:00", {"leave_id": "L1"}, v=1)
    log.append(SUBJECT, "contact.attempted", "2026-03-10T10:00:00+08:00", {"channel": "phone"})  # upgraded: v2
    bundle = build_bundle(log.inputs())  # the producer can still export it
    code, result = result_of(tmp_path, bundle, capsys)
    assert code == 1 and not result["complete"]
    assert result["failures"] == [
        "step 6: the chain of 'E1001': completeness cannot be shown: seq 2 is a v1 leaf (made before v2, it has no "
        "prev), so the chain cannot be followed from it to first"
    ]
    assert all(f["status"] == "proven" for f in result["timeline"])  # every fact is still proven in the tree
