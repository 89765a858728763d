"""Step 4: the bundle's checkpoint, the signed tree every proof in the bundle refers to.

The log's key must have signed it, its origin must be the key's name and its size the manifest's. The note
may carry more signature lines: witness cosignatures (SPEC section 7), checked here against the witness
keys the reader names; lines by keys nobody named are shown and ignored, as signed-note requires.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier import cosignature
from verifier.bundle import Bundle
from verifier.note import NoteError, Verifier, log_signed_note, open_checkpoint
from verifier.result import Result


def step4_checkpoint(
    b: Bundle, r: Result, vkey: Verifier, witnesses: Sequence[cosignature.WitnessKey] = (), threshold: int = 0
) -> None:
    raw = b.files.get("checkpoint")
    if raw is None:
        r.fail(4, "checkpoint is missing")
        return
    try:
        cp = open_checkpoint(raw, vkey)
    except NoteError as exc:
        r.fail(4, str(exc))
        return
    b.checkpoint = cp
    b.logged_notes[cp.size] = log_signed_note(cp.note, vkey)
    r.origin, r.root = cp.origin, cp.note.text.split("\n")[2]
    if b.manifest is not None and cp.size != b.manifest.tree_size:
        r.fail(4, f"checkpoint: tree size {cp.size} is not the manifest's tree_size {b.manifest.tree_size}")
    r.note(4, f"signed by {vkey.name}+{vkey.key_id.hex()}: tree size {cp.size}, root {r.root}")
    cosignature.report(r, 4, cp.note, vkey, witnesses, threshold)  # who cosigned, and when; fails below threshold
