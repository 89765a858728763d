"""The tamper suite: a bundle attacked as a hostile party would, each attack refused with a precise message.

Two attackers: a forger without the log's key (who can re-hash the manifest but not re-sign it), and the
producer itself, who holds the key and re-signs the declaration (``rewrite(..., resign=KEY)``) or even
writes a lying log. What the bundle alone cannot refute (a chain cut after its head, a skipped ``prev``)
is refuted by a receipt the other side holds (tests/verifier/test_receipts.py) and by fsck.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.core.bundle import build_bundle
from ledger.core.notes import format_tlog_proof
from ledger.core.statements import sign_bundle_declaration
from tests.support.bundles import (
    SUBJECT,
    MemLog,
    entry_file,
    flip_proof_hash,
    read,
    rewrite,
    sample_log,
    signer,
    zip_files,
)
from verifier.check import verify_bundle
from verifier.result import Result

KEY = signer()


def check(bundle: bytes) -> Result:
    return verify_bundle(bundle, KEY.verifier())


def refused(bundle: bytes, *expected: str) -> list[str]:
    """The bundle fails, and each expected text is in one of its failures."""
    r = check(bundle)
    assert not r.ok
    for text in expected:
        assert any(text in f for f in r.failures), f"{text!r} not in {r.failures}"
    return r.failures


@pytest.fixture(scope="module")
def log() -> MemLog:
    return sample_log()


@pytest.fixture(scope="module")
def genuine(log: MemLog) -> bytes:
    bundle = build_bundle(log.inputs(old_sizes=[8], withheld=[11], case={"cases": []}))
    assert check(bundle).ok
    return bundle


def edit(changes: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], object]:
    return changes


# -- a forger without the key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"entries/7.json": None, "proofs/7.tlog-proof": None},  # an entry dropped with its manifest line
        {"report.html": b"<html><script>alert('ready')</script></html>"},
        {"case.json": b'{"cases": [{"readiness": {"ready": true}}]}'},
        {"VERIFY.md": b"Trust the employer.\n"},
    ],
    ids=["drop-entry", "report-script", "case-claims-ready", "verify-md"],
)
def test_a_forger_cannot_change_anything_the_declaration_covers(
    genuine: bytes, changes: dict[str, bytes | None]
) -> None:
    refused(rewrite(genuine, changes), "step 2: manifest.sig declares another manifest.json")


def test_the_declaration_must_be_there_and_by_the_log_key(genuine: bytes, log: MemLog) -> None:
    refused(rewrite(genuine, {"manifest.sig": None}), "step 2: manifest.sig is missing")
    other = signer(seed=b"\x22" * 32)  # the same name, another key
    refused(rewrite(genuine, resign=other), "step 2: manifest.sig: no signature by a trusted key: line 5: key")
    stranger = signer("elsewhere.example/log", b"\x33" * 32)
    refused(
        rewrite(genuine, resign=stranger), "manifest.sig: no signature by a trusted key: signed only by unknown keys"
    )


# -- the producer, holding the key ---------------------------------------------------------------------


def test_dropping_a_link_breaks_the_chain(genuine: bytes) -> None:
    dropped = rewrite(genuine, {"entries/7.json": None, "proofs/7.tlog-proof": None}, resign=KEY)
    refused(
        dropped,
        "step 6: the chain of 'E1001': entries/7.json is missing or unusable: the chain from head 11 breaks at seq 7",
    )
    recounted = rewrite(
        genuine,
        {"entries/7.json": None, "proofs/7.tlog-proof": None},
        manifest=lambda m: m["chains"][SUBJECT].update(count=7),
        resign=KEY,
    )
    refused(recounted, "breaks at seq 7")


def test_dropping_every_entry_leaves_an_empty_claim(genuine: bytes) -> None:
    mine = (1, 3, 4, 6, 7, 8, 10, 11)
    gone: dict[str, bytes | None] = {}
    for s in mine:
        gone[f"entries/{s}.json"] = gone[f"proofs/{s}.tlog-proof"] = None

    def empty(m: dict[str, Any]) -> None:
        m["chains"][SUBJECT] = {"head": None, "first": None, "count": 0}
        m["withheld"] = []

    refused(
        rewrite(genuine, gone, manifest=empty, resign=KEY),
        "step 6: the chain of 'E1001' is declared empty: the bundle holds nothing of the subject's record",
    )


def test_data_nulled_without_an_erasure_record(genuine: bytes, log: MemLog) -> None:
    nulled = {"entries/6.json": entry_file(6, log.leaves[6], None, None)}
    refused(
        rewrite(genuine, nulled, resign=KEY),
        "step 7: entries/6.json: data and salt are null, but the seq is neither withheld nor named by a later "
        "ledger.erased of 'E1001' (data removed without an erasure record)",
    )
    hidden = rewrite(genuine, nulled, manifest=lambda m: m.update(withheld=[6, 11]), resign=KEY)
    refused(hidden, "step 7: entries/6.json: its data is withheld, but it occurred in the period")
    company = rewrite(
        genuine,
        {"entries/0.json": entry_file(0, log.leaves[0], None, None)},
        manifest=lambda m: m.update(withheld=[0, 11]),
        resign=KEY,
    )
    refused(company, "step 7: entries/0.json: its data is withheld, but it must be shown")


def test_withheld_must_name_entries_without_data(genuine: bytes) -> None:
    refused(
        rewrite(genuine, manifest=lambda m: m.update(withheld=[5, 11]), resign=KEY),
        "step 7: manifest.json: withheld seq 5 is not an entry of the bundle",
    )
    refused(
        rewrite(genuine, manifest=lambda m: m.update(withheld=[4, 11]), resign=KEY),
        "step 7: entries/4.json: listed as withheld, but its data is in the bundle",
    )
    refused(
        rewrite(genuine, manifest=lambda m: m.update(withheld=[11, 4]), resign=KEY),
        "withheld must be strictly increasing",
    )


def test_another_employees_bundle_relabelled(log: MemLog) -> None:
    theirs = build_bundle(log.inputs("E2002"))

    def relabel(m: dict[str, Any]) -> None:
        m["subject"] = SUBJECT
        m["chains"] = {SUBJECT: m["chains"]["E2002"], "company": m["chains"]["company"]}

    refused(rewrite(theirs, manifest=relabel, resign=KEY), "step 6: the chain of 'E1001': seq 9 is an entry of 'E2002'")


def test_widening_the_period_needs_a_chain_that_reaches_back(log: MemLog) -> None:
    bundle = build_bundle(log.inputs(first=7, period=(date(2026, 3, 12), date(2026, 3, 31))))
    assert check(bundle).ok
    widened = rewrite(bundle, manifest=lambda m: m["period"].update({"from": "2026-03-01"}), resign=KEY)
    refused(widened, "step 6: the chain of 'E1001': first, seq 7, is not far enough back")


def test_other_employees_entries_added_as_context(genuine: bytes, log: MemLog) -> None:
    files = read(genuine)
    added = {
        "entries/2.json": entry_file(2, log.leaves[2], json.loads(log.data[2][0]), log.data[2][1]),
        "proofs/2.tlog-proof": format_tlog_proof(2, log.proof(2, 12), files["checkpoint"], extra=log.leaves[2]),
    }
    refused(rewrite(genuine, added, resign=KEY), "step 6: entries/2.json ('E2002') lies on neither declared chain")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            edit(lambda m: m["period"].update(time_zone="Mars/Olympus")),
            "period.time_zone 'Mars/Olympus' is not a time zone",
        ),
        (edit(lambda m: m["period"].update(time_zone="../../etc/passwd")), "is not a time zone known here"),
        (edit(lambda m: m.update(subject_seqs=[3])), "the manifest must have exactly format, origin, vkey"),
        (edit(lambda m: m.pop("built_at")), "missing: ['built_at']"),
        (edit(lambda m: m.update(format="hrledger-bundle/1")), "format is 'hrledger-bundle/1', expected"),
        (edit(lambda m: m.update(subject="company")), "subject 'company' is not an employee id"),
        (edit(lambda m: m.update(vkey="x+00000000+AA==")), "manifest.json names verifier key 'x+00000000+AA=='"),
        (edit(lambda m: m.update(origin="other.example/log")), "origin 'other.example/log' is not the key's name"),
        (edit(lambda m: m.update(tree_size=13)), "step 4: checkpoint: tree size 12 is not the manifest's tree_size 13"),
        (edit(lambda m: m.update(latest="yes")), "latest must be true or false"),
        (edit(lambda m: m.update(built_at="2026-04-05T10:00:00+08:00")), "built_at must be RFC 3339 UTC ending in Z"),
        (edit(lambda m: m.update(late_recorded_hours=0)), "late_recorded_hours must be a positive number"),
        (
            edit(lambda m: m["chains"][SUBJECT].update(count=9)),
            "count is 9, but the chain from head 11 to first 1 holds 8",
        ),
        (edit(lambda m: m["chains"][SUBJECT].update(head=10)), "step 6: entries/11.json ('E1001') lies on neither"),
        (edit(lambda m: m["chains"].pop("company")), "chains must have exactly E1001, company"),
        (edit(lambda m: m["period"].update({"from": "2026-04-01"})), "the period starts 2026-04-01 after it ends"),
    ],
    ids=[
        "unknown-zone",
        "zone-path",
        "extra-key",
        "missing-key",
        "v1-format",
        "company-subject",
        "vkey",
        "origin",
        "tree-size",
        "latest",
        "built-at",
        "late-hours",
        "count",
        "head-cut",
        "company-chain",
        "period-order",
    ],
)
def test_the_manifest_is_read_exactly(genuine: bytes, change: Callable[[dict[str, Any]], object], message: str) -> None:
    refused(rewrite(genuine, manifest=change, resign=KEY), message)


def test_first_moved_later_is_not_far_enough_back(genuine: bytes) -> None:
    later = rewrite(
        genuine,
        {"entries/1.json": None, "proofs/1.tlog-proof": None},
        manifest=lambda m: m["chains"][SUBJECT].update(first=3, count=7),
        resign=KEY,
    )
    refused(later, "step 6: the chain of 'E1001': first, seq 3, is not far enough back: it is neither the subject's")


def test_a_listed_file_that_is_missing(genuine: bytes) -> None:
    phantom = rewrite(
        genuine, manifest=lambda m: m["files"].update({"notes.txt": "00" * 32}), fix_manifest=False, resign=KEY
    )
    refused(phantom, "step 3: notes.txt is listed in manifest.json but missing from the archive")


def test_a_manifest_with_a_key_twice_is_not_json(genuine: bytes) -> None:
    files = read(genuine)
    raw = files["manifest.json"].replace(b'"latest": true', b'"latest": false, "latest": true')
    bundle = zip_files({**files, "manifest.json": raw, "manifest.sig": sign_bundle_declaration(KEY, raw)})
    refused(bundle, "step 2: manifest.json is not strict JSON: the member 'latest' appears twice in one object")


def test_files_beyond_the_list_and_active_presentation(genuine: bytes) -> None:
    refused(rewrite(genuine, {"notes.txt": b"x"}, resign=KEY), "step 3: notes.txt is not a file a bundle holds")
    refused(
        rewrite(genuine, {"notes.txt": b"x"}, fix_manifest=False, resign=KEY),
        "step 3: notes.txt is in the archive but not listed in manifest.json",
    )
    scripted = b'<html><body onload="alert(1)">ready</body></html>'
    refused(rewrite(genuine, {"report.html": scripted}, resign=KEY), "step 3: report.html holds active content")
    refused(rewrite(genuine, {"VERIFY.md": b"x"}, fix_manifest=False), "step 3: VERIFY.md: its SHA-256 is not the one")


def test_proofs_must_be_the_bundles_own(genuine: bytes, log: MemLog) -> None:
    files = read(genuine)
    older = files["proofs/3.tlog-proof"].replace(files["checkpoint"], log.checkpoint(12, signer(seed=b"\x44" * 32)))
    refused(
        rewrite(genuine, {"proofs/3.tlog-proof": older}, resign=KEY), "proofs/3.tlog-proof: its checkpoint is not byte"
    )
    other_leaf = files["proofs/4.tlog-proof"].split(b"\n")[1]
    swapped = files["proofs/3.tlog-proof"].replace(files["proofs/3.tlog-proof"].split(b"\n")[1], other_leaf)
    refused(
        rewrite(genuine, {"proofs/3.tlog-proof": swapped}, resign=KEY), "proofs/3.tlog-proof: its extra line does not"
    )
    flipped = flip_proof_hash(files["proofs/7.tlog-proof"])
    refused(
        rewrite(genuine, {"proofs/7.tlog-proof": flipped}, resign=KEY),
        "step 5: entries/7.json: inclusion: computed root does not match the checkpoint root (tree size 12)",
    )
    refused(
        rewrite(genuine, {"proofs/7.tlog-proof": None}, resign=KEY), "entries/7.json: proofs/7.tlog-proof is missing"
    )


def test_entries_must_be_the_logs_leaves(genuine: bytes, log: MemLog) -> None:
    obj = json.loads(read(genuine)["entries/6.json"])
    refused(
        rewrite(
            genuine,
            {"entries/6.json": json.dumps({**obj, "entry": obj["entry"].replace("ev-6", "ev-7")}).encode()},
            resign=KEY,
        ),
        "step 5: entries/6.json: inclusion: computed root does not match",
    )
    spaced = {**obj, "entry": obj["entry"].replace('{"data_digest"', '{ "data_digest"')}
    refused(
        rewrite(genuine, {"entries/6.json": json.dumps(spaced).encode()}, resign=KEY),
        "entries/6.json: the leaf is not an RFC 8785 canonical JSON object",
    )
    refused(
        rewrite(genuine, {"entries/6.json": json.dumps({**obj, "seq": 7}).encode()}, resign=KEY),
        "entries/6.json: seq is 7, the file name says 6",
    )
    data = {**obj, "data": {**obj["data"], "result": "answered"}}
    refused(
        rewrite(genuine, {"entries/6.json": json.dumps(data).encode()}, resign=KEY),
        "step 7: entries/6.json: SHA-256(salt || RFC 8785 data) is sha256:",
    )
    refused(
        rewrite(genuine, {"entries/6.json": json.dumps({**obj, "salt": "AAAA"}).encode()}, resign=KEY),
        "step 7: entries/6.json: salt is 3 bytes, expected 32",
    )
    refused(
        rewrite(genuine, {"entries/6.json": json.dumps({**obj, "salt": None}).encode()}, resign=KEY),
        "step 7: entries/6.json: data and salt must both be present or both be null",
    )
    deep = b'{"seq": 6, "entry": "x", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b', "salt": null}'
    refused(
        rewrite(genuine, {"entries/6.json": deep}, resign=KEY),
        "step 5: entries/6.json: not strict JSON: nested too deeply",
    )
    nan = json.dumps({**obj, "data": {"n": 1}}).replace('"n": 1', '"n": NaN').encode()
    refused(rewrite(genuine, {"entries/6.json": nan}, resign=KEY), "NaN is not a JSON number")
    huge = json.dumps({**obj, "data": {"n": 1}}).replace('"n": 1', '"n": ' + "9" * 5000).encode()
    refused(rewrite(genuine, {"entries/6.json": huge}, resign=KEY), "step 5: entries/6.json: not strict JSON")


def test_an_inconsistent_earlier_checkpoint(genuine: bytes, log: MemLog) -> None:
    fork = MemLog(key=log.key)
    for seq in range(8):
        leaf = log.leaf(seq)
        fork.append(leaf["subject"], leaf["type"], leaf["occurred_at"], {"forked": seq})
    doc = json.loads(read(genuine)["consistency/8-12.json"])
    doc["old_checkpoint"] = fork.checkpoint(8).decode()
    refused(
        rewrite(genuine, {"consistency/8-12.json": json.dumps(doc).encode()}, resign=KEY),
        "step 8: consistency/8-12.json: the checkpoint of size 8 is not consistent with the bundle's (size 12)",
    )
