"""The verifier's cosignature checks against real-world and generated C2SP vectors, and the checkpoint step's
report: who witnessed and when, unknown keys shown and ignored, a threshold that fails below K."""

from __future__ import annotations

import base64

import pytest

from tests.support.witness import vector_cosigner, vectors
from verifier.cosignature import (
    MAX_TIMESTAMP,
    check,
    log_signed_note,
    parse_witness_vkey,
    report,
    signed_message,
    utc,
    verify,
)
from verifier.note import NoteError, parse_note, parse_vkey
from verifier.result import FAILED, OK, Result

REAL = vectors()["real_world"]
G = vectors()["generated"]


def test_the_real_world_note_carries_two_valid_cosignatures() -> None:
    note = parse_note(REAL["note"].encode())
    keys = [parse_witness_vkey(v) for v in REAL["witness_vkeys"]]
    found = check(note, keys, parse_vkey(REAL["log_vkey"]))
    assert [(c.witness.vkey, c.timestamp) for c in found.valid] == [
        (v, REAL["timestamp"]) for v in REAL["witness_vkeys"]
    ]
    assert found.invalid == [] and found.unknown == REAL["unknown_lines"]
    assert utc(REAL["timestamp"]) == "2026-05-23T21:50:24Z"


def test_changing_the_size_breaks_every_cosignature() -> None:
    note = parse_note(REAL["note"].encode().replace(b"\n1432088532\n", b"\n1432088533\n"))
    found = check(note, [parse_witness_vkey(v) for v in REAL["witness_vkeys"]])
    assert found.valid == [] and len(found.invalid) == 2 and "does not verify" in found.invalid[0]


def test_log_signed_note_drops_the_cosignatures() -> None:
    note = parse_note((G["checkpoints"]["7"] + G["flow_b_response"]).encode())
    assert log_signed_note(note, parse_vkey(G["log_vkey"])) == G["checkpoints"]["7"].encode()


def test_the_blob_layout_is_checked() -> None:
    key = vector_cosigner().key
    body = signed_message(b"x\n", 0)[len(b"cosignature/v1\ntime 0\n") :]
    blob = base64.b64decode(G["flow_b_response"].split(" ")[2])
    with pytest.raises(NoteError, match="has 75 bytes"):
        verify(key, body, blob[4:-1])
    with pytest.raises(NoteError, match="beyond 2\\*\\*63-1"):
        verify(key, body, (MAX_TIMESTAMP + 1).to_bytes(8, "big") + blob[12:])
    with pytest.raises(ValueError, match="outside"):
        signed_message(b"x\n", -1)


def result_for(note_text: str, witnesses: list[str], threshold: int) -> Result:
    r = Result(bundle="b", vkey=G["log_vkey"])
    report(
        r,
        2,
        parse_note(note_text.encode()),
        parse_vkey(G["log_vkey"]),
        [parse_witness_vkey(w) for w in witnesses],
        threshold,
    )
    return r


def test_the_report_names_who_witnessed_and_when() -> None:
    r = result_for(G["checkpoints"]["7"] + G["flow_b_response"], [G["witness_vkey"]], 1)
    assert r.steps[2].status == OK
    assert r.witnessed == [
        {
            "name": "witness.example/w1",
            "vkey": G["witness_vkey"],
            "time": "2023-11-14T22:13:20Z",
            "timestamp": 1700000000,
        }
    ]
    assert any("cosigned by witness.example/w1+e9cc1d40 at 2023-11-14T22:13:20Z" in n for n in r.steps[2].notes)


def test_below_the_threshold_fails_and_unknown_lines_are_shown() -> None:
    stranger = vector_cosigner().key  # named, but its line is absent from the size-3 note
    other = "other.example/w+00000000+" + base64.b64encode(b"\x04" + bytes(32)).decode()
    with pytest.raises(NoteError):
        parse_witness_vkey(other)  # the id does not match: keys are checked before use
    r = result_for(G["checkpoints"]["3"], [stranger.vkey], 1)
    assert r.steps[2].status == FAILED and "0 of the 1 named witnesses cosigned it (none); 1 required" in r.failures[0]
    r = result_for(G["checkpoints"]["7"] + G["flow_b_response"], [], 0)
    assert r.steps[2].status == OK
    assert any(
        "witness.example/w1+e9cc1d40 (no --witness named it) is shown and ignored" in n for n in r.steps[2].notes
    )
    r = result_for(G["checkpoints"]["7"], [], 0)
    assert "the checkpoint carries no witness cosignature: not witnessed" in r.steps[2].notes


def test_a_named_witness_line_that_does_not_verify_fails() -> None:
    forged = G["flow_b_response"].replace("6cwdQAAAAABlU/EA", "6cwdQAAAAABlU/EB")
    r = result_for(G["checkpoints"]["7"] + forged, [G["witness_vkey"]], 0)
    assert r.steps[2].status == FAILED and "does not verify" in r.failures[0]
