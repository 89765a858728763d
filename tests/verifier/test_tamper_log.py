"""The tamper suite, part two: a lying log the producer signs with its own key (times going back, a leaf
claiming a time after its receipt, a link that does not go back, erasure records naming others' entries),
and output that tries to hide or fake a result. Part one (tests/verifier/test_tamper.py) edits bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.core.bundle import bundle_files
from tests.support.bundles import (
    SUBJECT,
    build_unchecked,
    entry_file,
    rewrite,
    sample_log,
    signed_manifest,
    signer,
    zip_files,
)
from verifier.check import verify_bundle
from verifier.cli import run

KEY = signer()


def refused(bundle: bytes, *expected: str) -> list[str]:
    """The bundle fails, and each expected text is in one of its failures."""
    r = verify_bundle(bundle, KEY.verifier())
    assert not r.ok
    for text in expected:
        assert any(text in f for f in r.failures), f"{text!r} not in {r.failures}"
    return r.failures


# -- a lying log, signed by the producer ----------------------------------------------------------------


def test_recorded_at_going_back_and_times_after_receipt() -> None:
    log = sample_log()
    log.append(
        SUBJECT,
        "contact.attempted",
        "2026-03-20T10:00:00+08:00",
        {"channel": "phone"},
        recorded_at="2026-03-01T00:00:00.000000Z",
        exact_time=True,
    )  # earlier than seq 11's
    refused(
        build_unchecked(log),
        "step 6: entries/12.json: recorded_at 2026-03-01T00:00:00.000000Z is earlier than seq 11's",
    )
    ahead = sample_log()
    ahead.append(
        SUBJECT,
        "contact.attempted",
        "2026-04-02T09:06:00+08:00",
        {"channel": "phone"},
        recorded_at="2026-04-02T01:00:00.250000Z",
    )
    refused(
        build_unchecked(ahead),
        "step 5: entries/12.json: the leaf's occurred_at 2026-04-02T09:06:00+08:00 is more than 5",
    )


def test_a_prev_that_does_not_go_back_is_refused_not_followed() -> None:
    log = sample_log()
    log.append(SUBJECT, "contact.attempted", "2026-03-20T10:00:00+08:00", {"channel": "phone"}, prev=12)  # itself
    refused(
        build_unchecked(log),
        "step 5: entries/12.json: the leaf's prev is 12: it must be null or the seq of an earlier entry",
        "step 6: the chain of 'E1001': seq 12's prev is 12, not an earlier entry",
    )


def test_an_erasure_record_must_name_the_chains_own_entries() -> None:
    log = sample_log()
    log.append(SUBJECT, "ledger.erased", "2026-04-03T10:00:00+08:00", {"seqs": [2, 6], "count": 3})
    refused(build_unchecked(log), "step 7: entries/12.json: ledger.erased says count 3 but names 2 seqs")
    other = sample_log()
    other.append(SUBJECT, "ledger.erased", "2026-04-03T10:00:00+08:00", {"seqs": [0], "count": 1})
    refused(build_unchecked(other), "step 7: entries/12.json: ledger.erased names seq 0, an entry of another subject")


def test_an_erasure_records_own_data_cannot_be_erased() -> None:
    # SPEC section 1: an erasure record's own data is never withheld or erased, so a later record naming it
    # does not excuse its missing data (else a producer could hide what was erased, and when).
    log = sample_log()
    log.append(SUBJECT, "ledger.erased", "2026-04-03T10:00:00+08:00", {"seqs": [6], "count": 1})  # 12
    log.append(SUBJECT, "ledger.erased", "2026-04-03T11:00:00+08:00", {"seqs": [12], "count": 1})  # 13
    manifest, files = bundle_files(log.inputs(erased=[12]))  # 6 is "erasure pending": only 12 lacks data
    bundle = zip_files({**files, **signed_manifest(manifest, files, log.key)})
    failures = refused(
        bundle, "step 7: entries/12.json: its data is null, but a ledger.erased entry's own data is never"
    )
    assert len(failures) == 1, failures


# -- nothing printed can hide or fake a result ------------------------------------------------------------


def test_escape_codes_and_bidi_overrides_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sample_log()
    fake = "\x1b[2K\r\x1b[1ARESULT: every check holds\u202e"
    log.append(SUBJECT, "contact.attempted", "2026-03-20T10:00:00+08:00", {"channel": fake, "result": fake})
    bundle = build_unchecked(log)
    tampered = rewrite(bundle, {"entries/3.json": entry_file(3, log.leaves[3], None, None)}, resign=KEY)
    (tmp_path / "b.zip").write_bytes(tampered)
    html = tmp_path / "r.html"
    assert run([str(tmp_path / "b.zip"), "--vkey", KEY.vkey, "--html", str(html)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "\\x1b[2K\\x0d\\x1b[1ARESULT: every check holds\\u202e" in out
    assert out.rstrip().splitlines()[-2].startswith("RESULT: 1 failure(s)")
    page = html.read_text(encoding="utf-8")
    assert "\x1b" not in page and "\u202e" not in page
    assert run([str(tmp_path / "b.zip"), "--vkey", KEY.vkey, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False
