"""Receipts held by the other side (``verifier.receipts``, step 10): each outcome of SPEC section 5, and the
attacks only a receipt can refute (a chain cut after its head, a ``prev`` that skips an entry, a fork, a
stale tree)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from ledger.core.bundle import build_bundle, bundle_files
from ledger.core.notes import format_tlog_proof
from ledger.services.timestamping import request_timestamp
from tests.support.bundles import SUBJECT, MemLog, rewrite, sample_log, signed_manifest, signer, zip_files
from tests.support.tsa import TSA
from verifier.check import verify_bundle
from verifier.cli import run
from verifier.receipts import ReceiptFile
from verifier.result import Result

KEY = signer()


def receipt(log: MemLog, seq: int, size: int | None = None) -> bytes:
    """What POST /v1/events?wait=checkpoint returned for ``seq``: its tlog-proof in a tree of ``size``."""
    size = len(log.leaves) if size is None else size
    return format_tlog_proof(seq, log.proof(seq, size), log.checkpoint(size), extra=log.leaves[seq])


def check(bundle: bytes, *receipts: bytes | ReceiptFile) -> Result:
    files = [r if isinstance(r, ReceiptFile) else ReceiptFile(f"r{i}.tlog-proof", r) for i, r in enumerate(receipts)]
    return verify_bundle(bundle, KEY.verifier(), receipts=files)


def outcome(result: Result) -> list[str]:
    return [x.outcome for x in result.receipts]


@pytest.fixture(scope="module")
def log() -> MemLog:
    return sample_log()


@pytest.fixture(scope="module")
def genuine(log: MemLog) -> bytes:
    return build_bundle(log.inputs(size=11))  # the tree of size 11: seq 11 came after it


def test_in_the_bundle_after_it_and_not_relevant(genuine: bytes, log: MemLog) -> None:
    result = check(genuine, receipt(log, 6, 8), receipt(log, 11, 12), receipt(log, 2, 12))
    assert result.ok, result.failures
    assert outcome(result) == ["in the bundle", "after this bundle", "not relevant"]
    assert result.receipts[0].seq == 6 and result.receipts[0].subject == SUBJECT and result.receipts[0].tree_size == 8
    assert "Receipts: 3 compared, 1 of entries after this bundle's tree." in result.limits


def test_a_receipt_refutes_a_chain_cut_after_its_head(log: MemLog) -> None:
    """The producer leaves out the latest entry and declares the one before as the head: the bundle alone
    verifies (it cannot prove there is nothing later), the employee's receipt shows the omission."""
    full = build_bundle(log.inputs())
    cut = rewrite(
        full,
        {"entries/11.json": None, "proofs/11.tlog-proof": None},
        manifest=lambda m: m["chains"][SUBJECT].update(head=10, count=7),
        resign=KEY,
    )
    assert check(cut).ok  # what cryptography alone cannot refute
    result = check(cut, receipt(log, 11, 12))
    assert outcome(result) == ["proven omission"]
    assert result.failures == [
        "step 10: receipt r0.tlog-proof: proven omission: seq 11, an entry of 'E1001' in the log's tree, is after "
        "the chain's first and below the bundle's tree size 12, yet the bundle lacks it"
    ]


def test_a_receipt_refutes_a_prev_that_skips_an_entry() -> None:
    """A lying log: seq 7's prev skips the contact attempt at seq 6, so a bundle without it chains fine."""
    log = MemLog()
    log.append("company", "policy.adopted", "2025-12-01T10:00:00+08:00", {"policy_id": "p"})
    for i, when in enumerate(("2026-03-02T09:00:00+08:00", "2026-03-03T09:00:00+08:00")):
        log.append(SUBJECT, "leave.requested", when, {"n": i})
    skipped = log.append(SUBJECT, "contact.attempted", "2026-03-10T10:00:00+08:00", {"channel": "phone"})
    log.append(SUBJECT, "notice.issued", "2026-03-13T15:00:00+08:00", {"notice_id": "N1"}, prev=skipped - 1)
    inputs = log.inputs()
    manifest, files = bundle_files(dataclasses.replace(inputs, entries=[e for e in inputs.entries if e.seq != skipped]))
    lying = zip_files({**files, **signed_manifest(manifest, files, KEY)})
    assert check(lying).ok
    result = check(lying, receipt(log, skipped))
    assert outcome(result) == ["proven omission"] and not result.ok


def test_a_receipt_from_another_tree_proves_a_fork(log: MemLog, genuine: bytes) -> None:
    fork = MemLog(key=log.key)
    for seq in range(11):
        leaf = log.leaf(seq)
        data = {"rewritten": True} if seq == 6 else {"seq": seq}
        fork.append(leaf["subject"], leaf["type"], leaf["occurred_at"], data)
    result = check(genuine, receipt(fork, 6))
    assert outcome(result) == ["proven fork"]
    assert result.failures == [
        "step 10: receipt r0.tlog-proof: proven fork: seq 6 is another leaf in the receipt's tree (size 11) than in "
        "the bundle's (size 11); both are signed by the log's key"
    ]


def test_a_receipt_must_verify_on_its_own(log: MemLog, genuine: bytes) -> None:
    good = receipt(log, 6)
    stranger = MemLog(key=signer("elsewhere.example/log", b"\x55" * 32), leaves=log.leaves, data=log.data)
    cases = [
        (format_tlog_proof(6, log.proof(6, 12), log.checkpoint(12)), "it has no extra line"),
        (good.replace(good.split(b"\n")[1], b"extra " + base64.b64encode(log.leaves[7])), "seq is 7, expected 6"),
        (receipt(stranger, 6), "checkpoint: no signature by a trusted key"),
        (b"not a receipt", "line 1: first line must be c2sp.org/tlog-proof@v1"),
    ]
    for data, why in cases:
        result = check(genuine, data)
        assert outcome(result) == ["invalid"]
        assert len(result.failures) == 1 and why in result.failures[0], result.failures
        assert result.failures[0].endswith("it does not verify against its own checkpoint, so it proves nothing")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_a_timestamped_later_tree_shows_the_bundle_is_not_current(
    tmp_path: Path, tsa: TSA, session: aiohttp.ClientSession, log: MemLog, capsys: pytest.CaptureFixture[str]
) -> None:
    """The log had signed a larger tree before the bundle says it was built: the bundle was not current."""
    stale = build_bundle(dataclasses.replace(log.inputs(size=11), built_at="2099-01-01T00:00:00Z"))
    later = receipt(log, 11, 12)
    token = await request_timestamp(session, tsa.url, log.checkpoint(12))
    (tmp_path / "b.zip").write_bytes(stale)
    (tmp_path / "clock-in.tlog-proof").write_bytes(later)
    (tmp_path / "clock-in.tlog-proof.tsr").write_bytes(token)  # the token lies beside the receipt
    (tmp_path / "root.pem").write_bytes(tsa.root_pem)
    args = [str(tmp_path / "b.zip"), "--vkey", KEY.vkey, "--receipt", str(tmp_path / "clock-in.tlog-proof")]
    assert run([*args, "--tsa-root", str(tmp_path / "root.pem")]) == 1
    out = capsys.readouterr().out
    assert "step 10: receipt clock-in.tlog-proof: not current: the log had signed a tree of size 12 by" in out
    assert "before the bundle was built from size 11 at 2099-01-01T00:00:00Z" in out
    assert run(args) == 0  # without a trusted TSA root the token proves nothing: only "after this bundle"
    assert "clock-in.tlog-proof: after this bundle" in capsys.readouterr().out
