"""The verification steps of docs/verifying.md, in order, over one evidence bundle.

Every step keeps going after a failure, so one run lists everything that is wrong; a step whose input is
unusable says so. Nothing here raises for a bad bundle: every fault is a failure with a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from verifier.archive import SPEC_LIMITS, ArchiveError, Limits, read_zip
from verifier.bundle import Bundle, step2_declaration, step3_files
from verifier.chains import step6_chains, step7_data
from verifier.checkpoint import step4_checkpoint
from verifier.cosignature import WitnessKey
from verifier.entries import step5_entries
from verifier.history import step8_consistency, step9_timestamps
from verifier.note import Verifier
from verifier.receipts import ReceiptFile, step10_receipts
from verifier.result import Result
from verifier.timeline import step11_timeline


def verify_bundle(
    source: bytes | Path,
    vkey: Verifier,
    *,
    tsa_roots: list[Any] | None = None,
    receipts: Sequence[ReceiptFile] = (),
    name: str = "bundle",
    limits: Limits = SPEC_LIMITS,
    witnesses: Sequence[WitnessKey] = (),
    witness_threshold: int | None = None,
) -> Result:
    """Run steps 1 to 11 over a bundle (its bytes or its path). ``witness_threshold`` is how many of
    ``witnesses`` must have cosigned the checkpoint (default: all of them)."""
    threshold = len(witnesses) if witness_threshold is None else witness_threshold
    r = Result(bundle=name, vkey=vkey.text, tsa_checked=tsa_roots is not None, origin=vkey.name)
    try:
        files, problems = read_zip(source, limits)
    except ArchiveError as exc:
        files, problems = {}, [str(exc)]
    for problem in problems:
        r.fail(1, problem)
    if problems:  # a damaged or hostile archive: nothing in it is taken as evidence
        for step in range(2, 12):
            r.skip(step, "not checked: the archive is refused (step 1)")
        return r
    r.note(1, f"{len(files)} members read")
    b = Bundle(files)
    step2_declaration(b, r, vkey)
    step3_files(b, r)
    step4_checkpoint(b, r, vkey, witnesses, threshold)
    step5_entries(b, r)
    step6_chains(b, r)
    step7_data(b, r)
    step8_consistency(b, r, vkey)
    tsa_times = step9_timestamps(b, r, tsa_roots)
    step10_receipts(b, r, vkey, receipts, tsa_roots, witnesses)
    step11_timeline(b, r, tsa_times)
    return r
