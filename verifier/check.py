"""The verification steps of docs/verifying.md, run over an evidence bundle held in memory.

Every step keeps going after a failure, so one run lists everything that is wrong. Step 1 (manifest) lives
in ``verifier.archive``; step 7 (RFC 3161) and the timeline (step 8) in ``verifier.timeline``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from verifier import cosignature, jcs, merkle, timeline
from verifier.archive import Bundle, int_list, load_json, read_zip, step1_manifest
from verifier.note import (
    NoteError,
    Verifier,
    b64decode,
    parse_checkpoint,
    parse_tlog_proof,
    verify_note,
)
from verifier.result import Fact, Result

LEAF_FIELDS = ("v", "seq", "event_id", "type", "subject", "occurred_at", "recorded_at", "source", "data_digest")
_ENTRY = re.compile(r"^entries/(0|[1-9][0-9]*)\.json$")
_PROOF = re.compile(r"^proofs/(0|[1-9][0-9]*)\.tlog-proof$")
_CONSISTENCY = re.compile(r"^consistency/(0|[1-9][0-9]*)-(0|[1-9][0-9]*)\.json$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def step2_checkpoint(
    b: Bundle, r: Result, vkey: Verifier, witnesses: Sequence[cosignature.WitnessKey] = (), threshold: int = 0
) -> None:
    m = b.manifest
    if m.get("vkey") is not None and m.get("vkey") != vkey.text:
        r.fail(2, f"manifest.json names verifier key {m.get('vkey')!r}, not the key given ({vkey.text})")
    raw = b.files.get("checkpoint")
    if raw is None:
        r.fail(2, "checkpoint is missing")
        return
    try:
        cp = parse_checkpoint(raw)
    except NoteError as exc:
        r.fail(2, f"checkpoint: {exc}")
        return
    b.checkpoint = cp
    r.tree_size, r.root = cp.size, cp.note.text.split("\n")[2]
    try:
        verify_note(cp.note, vkey)
        b.checkpoints[cp.size] = cosignature.log_signed_note(cp.note, vkey)  # what RFC 3161 tokens cover
    except NoteError as exc:
        r.fail(2, f"checkpoint: {exc}")
    cosignature.report(r, 2, cp.note, vkey, witnesses, threshold)
    if cp.origin != vkey.name:
        r.fail(2, f"checkpoint: origin {cp.origin!r} is not the key name {vkey.name!r}")
    if "origin" in m and cp.origin != m["origin"]:
        r.fail(2, f"checkpoint: origin {cp.origin!r} is not the manifest origin {m['origin']!r}")
    if type(m.get("tree_size")) is int and cp.size != m["tree_size"]:
        r.fail(2, f"checkpoint: tree size {cp.size} is not the manifest tree_size {m['tree_size']}")
    r.note(2, f"origin {cp.origin}, tree size {cp.size}, root {r.root}")


def _check_leaf(name: str, seq: int, text: Any, r: Result) -> dict[str, Any] | None:
    if not isinstance(text, str):
        r.fail(3, f"{name}: entry is not a string holding the leaf text")
        return None
    try:
        leaf = load_json(text.encode("utf-8"))
        canonical = jcs.canonicalize(leaf) == text.encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        r.fail(3, f"{name}: entry is not valid JSON: {exc}")
        return None
    if not isinstance(leaf, dict):
        r.fail(3, f"{name}: entry is not a JSON object")
        return None
    if not canonical:
        r.fail(3, f"{name}: entry is not RFC 8785 canonical JSON (the leaf bytes were altered)")
    if sorted(leaf) != sorted(LEAF_FIELDS):
        r.fail(3, f"{name}: entry fields are {sorted(leaf)}, expected {sorted(LEAF_FIELDS)}")
    if leaf.get("v") != 1:
        r.fail(3, f"{name}: entry version v is {leaf.get('v')!r}, expected 1")
    if leaf.get("seq") != seq:
        r.fail(3, f"{name}: entry seq is {leaf.get('seq')!r}, the file name says {seq}")
    for key in LEAF_FIELDS[2:]:
        if key in leaf and not isinstance(leaf[key], str):
            r.fail(3, f"{name}: entry {key} is not a string")
    if not _DIGEST.match(str(leaf.get("data_digest"))):
        r.fail(3, f"{name}: entry data_digest is not sha256:<64 hex>")
    return leaf


def _check_data(name: str, obj: dict[str, Any], leaf: dict[str, Any], r: Result) -> bool:
    """Step 3 data digest; returns whether the entry is erased."""
    data, salt = obj.get("data"), obj.get("salt")
    if data is None and salt is None:
        return True
    if data is None or salt is None:
        r.fail(3, f"{name}: data and salt must both be present or both be null (erased)")
        return False
    if not isinstance(salt, str):
        r.fail(3, f"{name}: salt is not a base64 string")
        return False
    try:
        salt_bytes = b64decode(salt, "salt")
        digest = "sha256:" + hashlib.sha256(salt_bytes + jcs.canonicalize(data)).hexdigest()
    except ValueError as exc:
        r.fail(3, f"{name}: {exc}")
        return False
    if len(salt_bytes) != 32:
        r.fail(3, f"{name}: salt is {len(salt_bytes)} bytes, expected 32")
    if digest != leaf.get("data_digest"):
        r.fail(3, f"{name}: SHA-256(salt || RFC 8785 data) is {digest}, the entry says {leaf.get('data_digest')}")
    return False


def step3_entries(b: Bundle, r: Result) -> None:
    for name in sorted(b.files):
        if not name.startswith("entries/"):
            continue
        m = _ENTRY.match(name)
        if not m:
            r.fail(3, f"{name}: not an entries/<seq>.json file name")
            continue
        seq = int(m.group(1))
        fact = b.facts[seq] = Fact(seq=seq, role="subject")
        before = len(r.steps[3].failures)
        try:
            obj = load_json(b.files[name])
        except ValueError as exc:
            r.fail(3, f"{name}: not valid JSON: {exc}")
            obj = None
        if not isinstance(obj, dict) or sorted(obj) != ["data", "entry", "salt", "seq"]:
            if obj is not None:
                r.fail(3, f"{name}: must be an object with exactly seq, entry, data, salt")
            fact.problems.extend(r.steps[3].failures[before:])
            continue
        if obj["seq"] != seq:
            r.fail(3, f"{name}: seq is {obj['seq']!r}, the file name says {seq}")
        leaf = _check_leaf(name, seq, obj["entry"], r)
        if leaf is not None:
            b.leaves[seq] = leaf
            b.leaf_hashes[seq] = merkle.leaf_hash(obj["entry"].encode("utf-8"))
            fact.erased = _check_data(name, obj, leaf, r)
            timeline.describe(fact, leaf, None if fact.erased else obj["data"])
        fact.problems.extend(r.steps[3].failures[before:])
    r.note(3, f"{len(b.facts)} entries, {sum(f.erased for f in b.facts.values())} erased")


def step4_inclusion(b: Bundle, r: Result) -> None:
    cp = b.checkpoint
    for name in sorted(n for n in b.files if n.startswith("proofs/")):
        m = _PROOF.match(name)
        if not m:
            r.fail(4, f"{name}: not a proofs/<seq>.tlog-proof file name")
        elif int(m.group(1)) not in b.facts:
            r.fail(4, f"{name}: there is no entries/{m.group(1)}.json for this proof")
    for seq, fact in sorted(b.facts.items()):
        name, pname = f"entries/{seq}.json", f"proofs/{seq}.tlog-proof"
        before = len(r.steps[4].failures)
        raw = b.files.get(pname)
        if raw is None:
            r.fail(4, f"{name}: {pname} is missing")
        elif cp is None:
            r.fail(4, f"{name}: not checked, the bundle checkpoint is unusable (step 2)")
        else:
            try:
                proof = parse_tlog_proof(raw)
            except NoteError as exc:
                proof = None
                r.fail(4, f"{pname}: {exc}")
            if proof is not None:
                if proof.index != seq:
                    r.fail(4, f"{pname}: index is {proof.index}, the entry seq is {seq}")
                if proof.checkpoint != cp.raw:
                    r.fail(4, f"{pname}: its checkpoint is not byte-identical to the bundle checkpoint")
                if seq in b.leaf_hashes:
                    try:
                        root = merkle.root_from_inclusion(b.leaf_hashes[seq], seq, cp.size, proof.hashes)
                        if root != cp.root:
                            r.fail(4, f"{name}: inclusion proof does not rebuild the checkpoint root (size {cp.size})")
                    except ValueError as exc:
                        r.fail(4, f"{name}: inclusion proof: {exc} (size {cp.size})")
        fact.problems.extend(r.steps[4].failures[before:])
    r.note(4, f"{len(b.facts)} entries checked against the checkpoint")


def step5_consistency(b: Bundle, r: Result, vkey: Verifier) -> None:
    cp = b.checkpoint
    names = sorted((n for n in b.files if n.startswith("consistency/")), key=lambda n: (len(n), n))
    if not names:
        r.note(5, "no earlier checkpoints in the bundle")
    for name in names:
        m = _CONSISTENCY.match(name)
        if not m:
            r.fail(5, f"{name}: not a consistency/<old>-<new>.json file name")
            continue
        old_size, new_size = int(m.group(1)), int(m.group(2))
        try:
            obj = load_json(b.files[name])
            old = parse_checkpoint(obj["old_checkpoint"].encode("utf-8"))
            proof = [b64decode(h, "a proof hash") for h in obj["proof"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            r.fail(5, f'{name}: not {{"old_checkpoint": signed note, "proof": [base64]}}: {exc}')
            continue
        bad = len(r.steps[5].failures)
        try:
            verify_note(old.note, vkey)
        except NoteError as exc:
            r.fail(5, f"{name}: old checkpoint: {exc}")
        if old.origin != vkey.name:
            r.fail(5, f"{name}: old checkpoint origin {old.origin!r} is not the key name {vkey.name!r}")
        if old.size != old_size:
            r.fail(5, f"{name}: old checkpoint has size {old.size}, the file name says {old_size}")
        if cp is None:
            r.fail(5, f"{name}: not checked, the bundle checkpoint is unusable (step 2)")
            continue
        if new_size != cp.size:
            r.fail(5, f"{name}: leads to size {new_size}, the bundle checkpoint has size {cp.size}")
        why = merkle.check_consistency(old.size, cp.size, old.root, cp.root, proof)
        if why:
            r.fail(
                5,
                f"{name}: checkpoint of size {old.size} is not consistent with the bundle checkpoint "
                f"(size {cp.size}): {why}",
            )
        if len(r.steps[5].failures) == bad:
            b.checkpoints[old.size] = cosignature.log_signed_note(old.note, vkey)
            r.note(5, f"size {old.size} is a prefix of size {cp.size}")


def _period(m: dict[str, Any]) -> dict[str, Any]:
    period = m.get("period")
    return period if isinstance(period, dict) else {}


def _seqs(m: dict[str, Any], key: str) -> list[int]:
    return int_list(m.get(key)) or []


def step6_coverage(b: Bundle, r: Result) -> None:
    m = b.manifest
    subject, tree_size = m.get("subject"), m.get("tree_size")
    subject_seqs, context_seqs = _seqs(m, "subject_seqs"), _seqs(m, "context_seqs")
    subject_set, listed = set(subject_seqs), set(subject_seqs) | set(context_seqs)
    if subject_seqs != sorted(set(subject_seqs)):
        r.fail(6, "manifest.json: subject_seqs is not strictly increasing")
    for seq in sorted(subject_set & set(context_seqs)):
        r.fail(6, f"manifest.json: seq {seq} is listed both in subject_seqs and context_seqs")
    period = _period(m)
    start = end = None
    tz = None
    try:
        start, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    except (KeyError, TypeError, ValueError) as exc:
        r.fail(6, f"manifest.json: period dates cannot be read ({exc}); period membership not checked")
    try:
        tz = timeline.zone(period["time_zone"])
    except (KeyError, TypeError, ValueError):
        r.note(6, f"time zone {period.get('time_zone')!r} is unknown here: period membership not checked")
    for seq in sorted(listed):
        role = "subject" if seq in subject_set else "context"
        if type(tree_size) is int and seq >= tree_size:
            r.fail(6, f"manifest.json: {role} seq {seq} is not below tree_size {tree_size}")
        if seq not in b.facts:
            r.fail(6, f"entries/{seq}.json is missing: the manifest lists seq {seq} as a {role} entry")
    for seq, fact in sorted(b.facts.items()):
        name = f"entries/{seq}.json"
        before = len(r.steps[6].failures)
        if seq not in listed:
            r.fail(6, f"{name} is in neither subject_seqs nor context_seqs")
        fact.role = "subject" if seq in subject_set else "context"
        leaf = b.leaves.get(seq)
        if leaf is not None:
            in_period = timeline.in_period(leaf.get("occurred_at"), start, end, tz)
            if fact.role == "subject":
                if leaf.get("subject") != subject:
                    r.fail(6, f"{name}: subject is {leaf.get('subject')!r}, the bundle is about {subject!r}")
                if in_period is False:
                    r.fail(6, f"{name}: occurred_at {leaf.get('occurred_at')} is outside the period {start} to {end}")
            elif leaf.get("subject") == subject and in_period:
                r.fail(6, f"{name}: an entry of {subject!r} in the period must be listed in subject_seqs")
        fact.problems.extend(r.steps[6].failures[before:])
    r.note(
        6,
        f"{len(subject_seqs)} entries of {subject!r} declared for the period, "
        f"{len(context_seqs)} context entries, tree size {tree_size}",
    )
    r.note(6, "completeness rests on the manifest's declaration: the log's leaves do not chain per subject")


def verify_bundle(
    data: bytes,
    vkey: Verifier,
    *,
    tsa_roots: list[Any] | None = None,
    name: str = "bundle",
    witnesses: Sequence[cosignature.WitnessKey] = (),
    witness_threshold: int | None = None,
) -> Result:
    """Run steps 1 to 8 over the bytes of a bundle; raises UsageError only when it is not a zip at all.
    ``witness_threshold`` is how many of ``witnesses`` must have cosigned the checkpoint (default: all)."""
    files, zip_problems = read_zip(data)
    b = Bundle(files)
    r = Result(bundle=name, vkey=vkey.text, tsa_checked=tsa_roots is not None)
    step1_manifest(b, r, zip_problems)
    m = b.manifest
    period = _period(m)
    r.origin, r.subject = m.get("origin"), m.get("subject")
    r.period_from, r.period_to, r.time_zone = period.get("from"), period.get("to"), period.get("time_zone")
    threshold = len(witnesses) if witness_threshold is None else witness_threshold
    step2_checkpoint(b, r, vkey, witnesses, threshold)
    step3_entries(b, r)
    step4_inclusion(b, r)
    step5_consistency(b, r, vkey)
    step6_coverage(b, r)
    tsa_times = timeline.step7_timestamps(b, r, tsa_roots)
    timeline.step8_timeline(b, r, tsa_times)
    if "case.json" in files:
        try:
            r.case = load_json(files["case.json"])
        except ValueError:
            r.note(8, "case.json is not valid JSON and is not shown")
    return r
