"""The standalone verifier on real bundles: accepts the genuine one, refuses each tampering precisely."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ledger.core.bundle import ConsistencyItem, build_bundle
from ledger.core.notes import CheckpointBody, sign_checkpoint, sign_note
from ledger.errors import IntegrityError
from tests.support.bundles import (
    ORIGIN,
    MemLog,
    flip_proof_hash,
    read,
    rewrite,
    sample_log,
    signer,
)
from verifier.cli import run

VKEY = signer().vkey


@pytest.fixture(scope="module")
def log() -> MemLog:
    return sample_log()


@pytest.fixture(scope="module")
def genuine(log: MemLog) -> bytes:
    return build_bundle(log.inputs(old_sizes=[3, 8], extra={"case.json": {"case_id": "C-E1001-L1"}}))


def verify(tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    code = run([str(path), "--vkey", VKEY, *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def failures(tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out = verify(tmp_path, bundle, capsys, "--json")
    result = json.loads(out)
    assert code == 1 and result["ok"] is False
    return list(result["failures"])


def test_genuine_bundle_verifies(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(tmp_path, genuine, capsys)
    assert code == 0, out
    assert "RESULT: every check holds" in out
    assert "size 3 is a prefix of size 12" in out and "size 8 is a prefix of size 12" in out
    assert "late-recorded" in out and "stage reminder" in out


def test_json_result_lists_the_timeline(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(tmp_path, genuine, capsys, "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["failures"] == []
    assert [s["status"] for s in result["steps"]] == ["ok"] * 6 + ["not checked", "ok"]
    seqs = [f["seq"] for f in result["timeline"]]
    assert seqs == [0, 1, 3, 4, 6, 7, 8, 10, 11]  # occurred_at order; E2002's entries are not in the bundle
    by_seq = {f["seq"]: f for f in result["timeline"]}
    assert by_seq[8]["late"] and not by_seq[6]["late"]
    assert by_seq[7]["stage"] == "reminder"
    assert by_seq[0]["role"] == "context" and by_seq[11]["role"] == "context" and by_seq[3]["role"] == "subject"
    assert all(f["status"] == "proven" for f in result["timeline"])
    assert result["case"] == {"case_id": "C-E1001-L1"}


def test_html_report_is_bilingual_and_self_contained(
    tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    html_path = tmp_path / "report.html"
    code, _ = verify(tmp_path, genuine, capsys, "--html", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert code == 0
    assert "证据包核验报告" in html and "Evidence bundle verification report" in html
    assert "size: A4" in html and "return_demand" in html and "E1001" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    stored = read(genuine)["report.html"].decode()
    assert "全部核验通过" in stored and "C-E1001-L1" in stored


def test_building_is_deterministic(log: MemLog, genuine: bytes) -> None:
    again = build_bundle(log.inputs(old_sizes=[3, 8], extra={"case.json": {"case_id": "C-E1001-L1"}}))
    assert again == genuine
    assert build_bundle(log.inputs(old_sizes=[3])) != genuine
    names = list(read(genuine))
    assert names == sorted(names)
    manifest = json.loads(read(genuine)["manifest.json"])
    assert manifest["format"] == "hrledger-bundle/1" and manifest["tree_size"] == 12
    assert manifest["subject_seqs"] == [3, 4, 6, 7, 8, 10] and manifest["context_seqs"] == [0, 1, 11]
    assert set(manifest["files"]) == set(names) - {"manifest.json"}


def test_changed_byte_in_an_entry(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    entry = read(genuine)["entries/6.json"]
    tampered = entry.replace(b"ev-6", b"ev-7")
    assert tampered != entry
    # Manifest left alone: the hash mismatch and the broken proof are both reported.
    got = failures(tmp_path, rewrite(genuine, {"entries/6.json": tampered}, fix_manifest=False), capsys)
    assert any(f.startswith("step 1: entries/6.json: SHA-256 is ") for f in got)
    assert "step 4: entries/6.json: inclusion proof does not rebuild the checkpoint root (size 12)" in got
    # Manifest re-hashed by the forger: the Merkle proof still catches it.
    got = failures(tmp_path, rewrite(genuine, {"entries/6.json": tampered}), capsys)
    assert got == ["step 4: entries/6.json: inclusion proof does not rebuild the checkpoint root (size 12)"]


def test_non_canonical_leaf(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    obj = json.loads(read(genuine)["entries/3.json"])
    obj["entry"] = obj["entry"].replace('{"data_digest"', '{ "data_digest"')
    got = failures(tmp_path, rewrite(genuine, {"entries/3.json": json.dumps(obj).encode()}), capsys)
    assert "step 3: entries/3.json: entry is not RFC 8785 canonical JSON (the leaf bytes were altered)" in got


def test_data_not_matching_the_digest(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    obj = json.loads(read(genuine)["entries/6.json"])
    obj["data"]["result"] = "answered"
    got = failures(tmp_path, rewrite(genuine, {"entries/6.json": json.dumps(obj).encode()}), capsys)
    assert len(got) == 1
    assert got[0].startswith("step 3: entries/6.json: SHA-256(salt || RFC 8785 data) is sha256:")
    assert ", the entry says sha256:" in got[0]


def test_salt_not_matching_the_digest(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    obj = json.loads(read(genuine)["entries/10.json"])
    obj["salt"] = "A" + obj["salt"][1:] if obj["salt"][0] != "A" else "B" + obj["salt"][1:]
    got = failures(tmp_path, rewrite(genuine, {"entries/10.json": json.dumps(obj).encode()}), capsys)
    assert len(got) == 1 and got[0].startswith("step 3: entries/10.json: SHA-256(salt || RFC 8785 data) is")


def test_flipped_proof_hash(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    proof = flip_proof_hash(read(genuine)["proofs/7.tlog-proof"])
    got = failures(tmp_path, rewrite(genuine, {"proofs/7.tlog-proof": proof}), capsys)
    assert got == ["step 4: entries/7.json: inclusion proof does not rebuild the checkpoint root (size 12)"]


def test_checkpoint_signed_by_another_key(tmp_path: Path, log: MemLog, capsys: pytest.CaptureFixture[str]) -> None:
    other = signer(seed=b"\x22" * 32)  # same name, other key
    got = failures(tmp_path, build_bundle(log.inputs(key=other)), capsys)
    assert f"step 2: manifest.json names verifier key {other.vkey!r}, not the key given ({VKEY})" in got
    expected = f"step 2: checkpoint: no signature by a trusted key: line 5: key '{ORIGIN}' has key id"
    assert any(f.startswith(expected) for f in got), got


def test_checkpoint_of_another_origin(tmp_path: Path, log: MemLog, capsys: pytest.CaptureFixture[str]) -> None:
    other = signer("other.example/log")
    got = failures(tmp_path, build_bundle(log.inputs(key=other)), capsys)
    assert "step 2: checkpoint: origin 'other.example/log' is not the key name 'hr.example.com/ledger'" in got
    # Our own key signing a checkpoint body that names another origin (and the manifest left as it was).
    files = read(build_bundle(log.inputs()))
    body = log.checkpoint(12).split(b"\n\n")[0].replace(ORIGIN.encode(), b"evil.example/log", 1) + b"\n"
    forged = sign_note(body, [log.key])
    changes: dict[str, bytes | None] = {"checkpoint": forged}
    for name, data in files.items():
        if name.startswith("proofs/"):
            changes[name] = data.replace(files["checkpoint"], forged)
    got = failures(tmp_path, rewrite(build_bundle(log.inputs()), changes), capsys)
    assert "step 2: checkpoint: origin 'evil.example/log' is not the key name 'hr.example.com/ledger'" in got
    assert "step 2: checkpoint: origin 'evil.example/log' is not the manifest origin 'hr.example.com/ledger'" in got


def test_earlier_checkpoint_inconsistent(tmp_path: Path, log: MemLog, capsys: pytest.CaptureFixture[str]) -> None:
    fork = MemLog(key=log.key, leaves=list(log.leaves[:5]), data=dict(log.data))
    fork.leaves[2] = fork.leaves[2].replace(b"ev-2", b"ev-X")  # the log showed another history at size 5
    good = log.inputs()
    forked = ConsistencyItem(fork.checkpoint(5), log.inputs(old_sizes=[5]).consistency[0].proof)
    bad = dataclasses.replace(good, consistency=[forked])
    with pytest.raises(IntegrityError, match=r"consistency/5-12\.json"):
        build_bundle(bad)  # the writer refuses to export a bundle that would not verify
    name = "consistency/5-12.json"
    doc = {
        "old_checkpoint": forked.old_checkpoint.decode(),
        "proof": json.loads(read(build_bundle(log.inputs(old_sizes=[5])))[name])["proof"],
    }
    got = failures(tmp_path, rewrite(build_bundle(good), {name: json.dumps(doc).encode()}), capsys)
    assert got == [
        f"step 5: {name}: checkpoint of size 5 is not consistent with the bundle checkpoint (size 12): "
        "consistency: proof does not rebuild the old root"
    ]


def test_old_checkpoint_signed_by_another_key(
    tmp_path: Path, log: MemLog, genuine: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "consistency/3-12.json"
    doc = json.loads(read(genuine)[name])
    doc["old_checkpoint"] = log.checkpoint(3, key=signer(seed=b"\x33" * 32)).decode()
    got = failures(tmp_path, rewrite(genuine, {name: json.dumps(doc).encode()}), capsys)
    expected = f"step 5: {name}: old checkpoint: no signature by a trusted key: line 5: key '{ORIGIN}'"
    assert len(got) == 1 and got[0].startswith(expected), got


def test_entry_removed_from_the_middle(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    removed = rewrite(genuine, {"entries/7.json": None, "proofs/7.tlog-proof": None})
    got = failures(tmp_path, removed, capsys)
    assert got == ["step 6: entries/7.json is missing: the manifest lists seq 7 as a subject entry"]
    # Also dropped from the manifest's declaration but still in the bundle: it cannot be hidden as context.
    hidden = rewrite(genuine, manifest=lambda m: m["subject_seqs"].remove(7))
    got = failures(tmp_path, hidden, capsys)
    assert got == [
        "step 6: entries/7.json is in neither subject_seqs nor context_seqs",
        "step 6: entries/7.json: an entry of 'E1001' in the period must be listed in subject_seqs",
    ]
    moved = rewrite(genuine, manifest=lambda m: (m["subject_seqs"].remove(7), m["context_seqs"].append(7)))
    got = failures(tmp_path, moved, capsys)
    assert got == ["step 6: entries/7.json: an entry of 'E1001' in the period must be listed in subject_seqs"]


def test_manifest_hash_mismatch(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = rewrite(genuine, {"VERIFY.md": b"trust us\n", "notes.txt": b"extra"}, fix_manifest=False)
    got = failures(tmp_path, bundle, capsys)
    assert any(f.startswith("step 1: VERIFY.md: SHA-256 is ") and ", manifest.json says " in f for f in got)
    assert "step 1: notes.txt is in the bundle but not listed in manifest.json" in got
    got = failures(tmp_path, rewrite(genuine, {"report.html": None}, fix_manifest=False), capsys)
    assert got == ["step 1: report.html is listed in manifest.json but missing from the bundle"]


def test_every_failure_is_listed(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    files = read(genuine)
    bundle = rewrite(
        genuine,
        {
            "proofs/3.tlog-proof": flip_proof_hash(files["proofs/3.tlog-proof"]),
            "proofs/10.tlog-proof": flip_proof_hash(files["proofs/10.tlog-proof"]),
            "entries/4.json": None,
        },
    )
    got = failures(tmp_path, bundle, capsys)
    assert got == [
        "step 4: proofs/4.tlog-proof: there is no entries/4.json for this proof",
        "step 4: entries/3.json: inclusion proof does not rebuild the checkpoint root (size 12)",
        "step 4: entries/10.json: inclusion proof does not rebuild the checkpoint root (size 12)",
        "step 6: entries/4.json is missing: the manifest lists seq 4 as a subject entry",
    ]


def test_erased_entries_are_accepted_as_erased(tmp_path: Path, log: MemLog, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = build_bundle(log.inputs(erased=[6, 8]))
    assert json.loads(read(bundle)["entries/6.json"])["data"] is None
    code, out = verify(tmp_path, bundle, capsys, "--json")
    result = json.loads(out)
    assert code == 0, result["failures"]
    status = {f["seq"]: f["status"] for f in result["timeline"]}
    assert status[6] == status[8] == "proven (erased)" and status[7] == "proven"
    half = json.loads(read(bundle)["entries/6.json"])
    half["salt"] = "AAAA"
    got = failures(tmp_path, rewrite(bundle, {"entries/6.json": json.dumps(half).encode()}), capsys)
    assert got == ["step 3: entries/6.json: data and salt must both be present or both be null (erased)"]


def test_usage_errors_exit_2(tmp_path: Path, genuine: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([str(tmp_path / "missing.zip"), "--vkey", VKEY]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert run([str(tmp_path / "junk.zip"), "--vkey", VKEY]) == 2
    assert "not a readable zip archive" in capsys.readouterr().err
    (tmp_path / "b.zip").write_bytes(genuine)
    assert run([str(tmp_path / "b.zip"), "--vkey", "nonsense"]) == 2
    assert "bad --vkey" in capsys.readouterr().err
    wrong_id = VKEY.replace(VKEY.split("+")[1], "00000000")
    assert run([str(tmp_path / "b.zip"), "--vkey", wrong_id]) == 2
    assert "key id 00000000 does not match the key" in capsys.readouterr().err
    assert run([str(tmp_path / "b.zip"), "--vkey", VKEY, "--tsa-root", str(tmp_path / "none.pem")]) == 2
    with pytest.raises(SystemExit) as exc:
        run([str(tmp_path / "b.zip")])
    assert exc.value.code == 2


def test_builder_refuses_inconsistent_inputs(log: MemLog) -> None:
    good = log.inputs()
    wrong_root = sign_checkpoint(CheckpointBody(ORIGIN, 12, b"\x01" * 32), log.key)
    with pytest.raises(IntegrityError, match=r"step 4: entries/3.json: inclusion proof does not rebuild"):
        build_bundle(dataclasses.replace(good, checkpoint=wrong_root))
