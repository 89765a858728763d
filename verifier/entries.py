"""Step 5: every bundled entry is a canonical leaf of the log, included in the bundle's checkpoint.

``entries/<seq>.json`` is ``{"seq", "entry", "data", "salt"}`` with ``entry`` the exact leaf text;
``proofs/<seq>.tlog-proof`` is its C2SP tlog-proof (the leaf in its ``extra`` line) against the bundle's
checkpoint, byte for byte. The leaf hash ``SHA-256(0x00 || leaf)`` with the proof must rebuild the
checkpoint's root (RFC 9162 2.1.3.2).
"""

from __future__ import annotations

import re
from typing import Any

from verifier import jcs, merkle
from verifier.bundle import Bundle
from verifier.leaf import LeafError, leaf_problems, parse_leaf
from verifier.note import NoteError, parse_tlog_proof
from verifier.result import Fact, Result
from verifier.text import shown

_ENTRY = re.compile(r"entries/(0|[1-9][0-9]*)\.json")
_PROOF = re.compile(r"proofs/(0|[1-9][0-9]*)\.tlog-proof")
ENTRY_KEYS = ["data", "entry", "salt", "seq"]


def _describe(fact: Fact, leaf: dict[str, Any]) -> None:
    for key in ("subject", "type", "occurred_at", "recorded_at", "source"):
        value = leaf.get(key)
        setattr(fact, key, value if isinstance(value, str) else None)


def _entry(b: Bundle, r: Result, seq: int) -> None:
    name = f"entries/{seq}.json"
    try:
        obj = jcs.load_json(b.files[name])
    except jcs.JSONError as exc:
        r.fail(5, f"{name}: not strict JSON: {exc}")
        return
    if not isinstance(obj, dict) or sorted(obj) != ENTRY_KEYS:
        r.fail(5, f"{name}: must be an object with exactly seq, entry, data, salt")
        return
    if obj["seq"] != seq or type(obj["seq"]) is not int:
        r.fail(5, f"{name}: seq is {shown(repr(obj['seq']))}, the file name says {seq}")
    tree_size = b.manifest.tree_size if b.manifest is not None else None
    if tree_size is not None and seq >= tree_size:
        r.fail(5, f"{name}: seq {seq} is not in a tree of size {tree_size}")
    text = obj["entry"]
    if not isinstance(text, str):
        r.fail(5, f"{name}: entry is not a string holding the leaf text")
        return
    try:
        raw = text.encode("utf-8")
        leaf = parse_leaf(raw)
    except (LeafError, UnicodeEncodeError) as exc:
        r.fail(5, f"{name}: the leaf {exc}")
        return
    for problem in leaf_problems(leaf, seq):
        r.fail(5, f"{name}: the leaf's {shown(problem)}")
    b.entries[seq], b.leaves[seq], b.leaf_bytes[seq] = obj, leaf, raw
    _describe(b.facts[seq], leaf)


def _proof(b: Bundle, r: Result, seq: int) -> None:
    name, pname = f"entries/{seq}.json", f"proofs/{seq}.tlog-proof"
    raw, cp = b.files.get(pname), b.checkpoint
    if raw is None:
        r.fail(5, f"{name}: {pname} is missing")
        return
    if cp is None:
        r.fail(5, f"{name}: the proof is not checked, the bundle's checkpoint is unusable (step 4)")
        return
    try:
        proof = parse_tlog_proof(raw, pname)
    except NoteError as exc:
        r.fail(5, str(exc))
        return
    if proof.index != seq:
        r.fail(5, f"{pname}: index is {proof.index}, the entry's seq is {seq}")
    if proof.checkpoint != cp.raw:
        r.fail(5, f"{pname}: its checkpoint is not byte for byte the bundle's checkpoint")
    leaf = b.leaf_bytes.get(seq)
    if leaf is None:
        return
    if proof.extra != leaf:
        r.fail(5, f"{pname}: its extra line does not hold the entry's leaf")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(leaf), seq, cp.size, proof.hashes, cp.root)
    except merkle.ProofError as exc:
        r.fail(5, f"{name}: {exc} (tree size {cp.size})")


def step5_entries(b: Bundle, r: Result) -> None:
    seqs: list[int] = []
    for name in sorted(b.files):
        if m := _ENTRY.fullmatch(name):
            seqs.append(int(m.group(1)))
        elif (m := _PROOF.fullmatch(name)) and f"entries/{m.group(1)}.json" not in b.files:
            r.fail(5, f"{name}: there is no entries/{m.group(1)}.json for this proof")
    for seq in sorted(seqs):
        fact = b.facts[seq] = Fact(seq)
        before = len(r.steps[5].failures)
        _entry(b, r, seq)
        _proof(b, r, seq)
        fact.problems += r.steps[5].failures[before:]
    proven = sum(1 for f in b.facts.values() if not f.problems)
    r.note(5, f"{len(seqs)} entries, {proven} of them canonical leaves proven in the checkpoint's tree")
