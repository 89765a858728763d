"""Steps 8 and 9: the bundle's tree against the log's earlier signed states, and RFC 3161 timestamps.

Step 8. ``consistency/<old>-<new>.json`` is ``{"old_checkpoint", "proof"}``: an earlier checkpoint signed
by the same key and an RFC 9162 consistency proof that its tree is a prefix of the bundle's. A log that
rewrote its history after publishing the old checkpoint cannot produce one.

Step 9. ``timestamps/<size>.tsr`` is an RFC 3161 response over the exact bytes of a checkpoint of that size
as the log signed it (without witness lines): a third party's proof that the tree existed by that time.
Tokens are checked only with ``--tsa-root`` (rfc3161-client, imported only then).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from verifier import jcs, merkle
from verifier.bundle import Bundle
from verifier.note import NoteError, Verifier, b64decode, log_signed_note, open_checkpoint
from verifier.result import Result

_CONSISTENCY = re.compile(r"consistency/(0|[1-9][0-9]*)-(0|[1-9][0-9]*)\.json")
_TSR = re.compile(r"timestamps/(0|[1-9][0-9]*)\.tsr")


def _sized(prefix: str, b: Bundle) -> list[str]:
    return sorted((n for n in b.files if n.startswith(prefix)), key=lambda n: (len(n), n))


def step8_consistency(b: Bundle, r: Result, vkey: Verifier) -> None:
    cp = b.checkpoint
    names = _sized("consistency/", b)
    if not names:
        r.note(8, "no earlier checkpoints in the bundle")
    for name in names:
        m = _CONSISTENCY.fullmatch(name)
        if not m:
            r.fail(8, f"{name}: not a consistency/<old>-<new>.json file name")
            continue
        old_size, new_size = int(m.group(1)), int(m.group(2))
        try:
            obj = jcs.load_json(b.files[name])
            if not isinstance(obj, dict) or sorted(obj) != ["old_checkpoint", "proof"]:
                raise ValueError("not an object with exactly old_checkpoint and proof")
            if not isinstance(obj["old_checkpoint"], str) or not isinstance(obj["proof"], list):
                raise ValueError("old_checkpoint must be the signed note's text, proof a list")
            proof = [b64decode(h, "a proof hash") if isinstance(h, str) else b"" for h in obj["proof"]]
            old = open_checkpoint(obj["old_checkpoint"].encode("utf-8"), vkey)
        except (ValueError, NoteError) as exc:
            r.fail(8, f"{name}: {exc}")
            continue
        if old.size != old_size:
            r.fail(8, f"{name}: the old checkpoint has size {old.size}, the file name says {old_size}")
            continue
        if cp is None:
            r.fail(8, f"{name}: not checked, the bundle's checkpoint is unusable (step 4)")
            continue
        if new_size != cp.size or old_size >= cp.size:
            r.fail(8, f"{name}: must lead from an earlier size to the bundle's tree size {cp.size}")
            continue
        try:
            merkle.verify_consistency(old.size, cp.size, old.root, cp.root, proof)
        except merkle.ProofError as exc:
            r.fail(
                8,
                f"{name}: the checkpoint of size {old.size} is not consistent with the bundle's "
                f"(size {cp.size}): {exc}",
            )
            continue
        b.logged_notes[old.size] = log_signed_note(old.note, vkey)
        r.note(8, f"size {old.size} is a prefix of size {cp.size}")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def step9_timestamps(b: Bundle, r: Result, roots: list[Any] | None) -> dict[int, str]:
    """Verified TSA time per checkpoint size; tokens are checked only when trusted roots are given."""
    times: dict[int, str] = {}
    names = _sized("timestamps/", b)
    if not names:
        r.note(9, "no timestamps in the bundle")
    if roots is None and names:
        r.skip(9, "tokens present but not checked: give --tsa-root with the TSA's root certificate")
    for name in names:
        m = _TSR.fullmatch(name)
        if not m:
            r.fail(9, f"{name}: not a timestamps/<tree size>.tsr file name")
            continue
        size = int(m.group(1))
        note = b.logged_notes.get(size)
        if note is None:
            r.fail(9, f"{name}: the bundle holds no verified checkpoint of size {size} for it to cover")
            continue
        if roots is None:
            continue
        from rfc3161_client import VerifierBuilder, decode_timestamp_response

        try:
            response = decode_timestamp_response(b.files[name])
            builder = VerifierBuilder()
            for root in roots:
                builder = builder.add_root_certificate(root)
            builder.build().verify_message(response, note)
            times[size] = _iso(response.tst_info.gen_time)
        except Exception as exc:  # the library raises several types for bad tokens; each is a failure here
            r.fail(9, f"{name}: not a valid timestamp over the checkpoint of size {size}: {exc}")
            continue
        r.timestamped.append(f"size {size} existed by {times[size]}")
        r.note(9, f"{name}: the checkpoint of size {size} existed by {times[size]} (TSA)")
    return times
