"""Steps 6 and 7: the declared chains hold the subject's whole record, and data is there wherever it must be.

Step 6. Each v2 leaf names the subject's previous entry (``prev``), so the entries of one subject form a
chain through the log. Each declared chain is followed from ``head`` through ``prev`` to ``first``: every
link must be in the bundle, of that subject, and ``count`` long; ``first`` must be the subject's first
entry (``prev`` null) or recorded strictly more than 5 minutes before the period began, so no entry before
it can have occurred in the period (``occurred_at`` is at most 5 minutes after ``recorded_at``, and
``recorded_at`` never decreases, which is checked over every bundled entry). Every bundled entry must lie
on one of the two chains. A v1 leaf (a log made before v2) has no ``prev``: completeness cannot be shown.

Step 7. Data and salt must be present and match the leaf's digest for every entry that occurred in the
period, every ``ledger.erased`` entry and every company entry; they may be null only where the manifest
lists the seq as withheld, or where a later ``ledger.erased`` of the same chain names it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from verifier import jcs
from verifier.bundle import Bundle, Chain, Manifest, recorded_before
from verifier.leaf import ERASED_TYPE, recorded_time
from verifier.note import NoteError, b64decode
from verifier.result import Result
from verifier.rfc3339 import parse_time
from verifier.text import shown


def _walk(b: Bundle, r: Result, role: str, chain: Chain, on_chain: dict[int, str]) -> bool:
    """Follow one chain from head to first; True when it is whole and reaches far enough back."""
    if chain.count == 0 or chain.head is None or chain.first is None:
        if role == "subject":
            r.fail(
                6,
                f"the chain of {shown(chain.subject)!r} is declared empty: the bundle holds nothing of the "
                "subject's record",
            )
            return False
        r.note(6, "the company chain is declared empty (no company entry in this tree)")
        return True
    where = f"the chain of {shown(chain.subject)!r}"
    cur, visited = chain.head, 0
    while True:
        leaf = b.leaves.get(cur)
        if leaf is None:
            r.fail(
                6,
                f"{where}: entries/{cur}.json is missing or unusable: the chain from head {chain.head} "
                f"breaks at seq {cur} (an entry left out)",
            )
            return False
        if leaf.get("subject") != chain.subject:
            r.fail(6, f"{where}: seq {cur} is an entry of {shown(leaf.get('subject'))!r}, not of this chain")
            return False
        on_chain[cur] = role
        b.facts[cur].chain = role
        visited += 1
        if cur == chain.first:
            break
        if leaf.get("v") != 2:
            why = (
                f"{where}: completeness cannot be shown: seq {cur} is a v1 leaf (made before v2, it has "
                "no prev), so the chain cannot be followed from it to first"
            )
            r.fail(6, why)
            r.unprovable.append(f"step 6: {why}")
            for seq, other in b.leaves.items():  # declared on the chain; their links cannot be checked
                if chain.first <= seq < cur and other.get("subject") == chain.subject:
                    on_chain[seq] = role
                    b.facts[seq].chain = role
            return False
        prev = leaf.get("prev")
        if type(prev) is not int:
            r.fail(
                6,
                f"{where}: seq {cur} has prev null: the subject's record starts there, not at first "
                f"{chain.first} as declared",
            )
            return False
        if prev >= cur:  # a forged leaf (step 5 names it): never follow a link that does not go back
            r.fail(6, f"{where}: seq {cur}'s prev is {prev}, not an earlier entry: the chain cannot be followed")
            return False
        if prev < chain.first:
            r.fail(6, f"{where}: seq {cur}'s prev is {prev}, before first {chain.first}: first is not on the chain")
            return False
        cur = prev
    if visited != chain.count:
        r.fail(
            6,
            f"{where}: count is {chain.count}, but the chain from head {chain.head} to first "
            f"{chain.first} holds {visited} entries",
        )
        return False
    first = b.leaves[chain.first]
    m = b.manifest
    assert m is not None
    if first.get("v") == 2 and first.get("prev") is None:
        r.note(6, f"{where}: {visited} entries from head {chain.head} back to its first entry, seq {chain.first}")
        return True
    if recorded_before(recorded_time(first), m.period_start):
        r.note(
            6,
            f"{where}: {visited} entries from head {chain.head} back to seq {chain.first}, recorded "
            f"{shown(first.get('recorded_at'))}, more than 5 minutes before the period began",
        )
        return True
    why = (
        f"{where}: first, seq {chain.first}, is not far enough back: it is neither the subject's first entry "
        f"nor recorded more than 5 minutes before {m.period_from} began ({shown(first.get('recorded_at'))}); "
        "an earlier entry could have occurred in the period"
    )
    if first.get("v") != 2:
        why = (
            f"{where}: completeness cannot be shown: first, seq {chain.first}, is a v1 leaf (no prev) recorded "
            f"after the period began ({shown(first.get('recorded_at'))})"
        )
        r.unprovable.append(f"step 6: {why}")
    r.fail(6, why)
    return False


def step6_chains(b: Bundle, r: Result) -> None:
    m = b.manifest
    if m is None:
        r.skip(6, "not checked: the manifest is unusable (step 2)")
        return
    on_chain: dict[int, str] = {}
    whole = [_walk(b, r, role, chain, on_chain) for role, chain in m.chains.items()]
    for seq in sorted(b.facts):
        if seq not in on_chain:
            subject = b.leaves.get(seq, {}).get("subject")
            r.fail(
                6,
                f"entries/{seq}.json ({shown(subject)!r}) lies on neither declared chain: no entry but the "
                "subject's and the company's belongs in the bundle",
            )
            b.facts[seq].problems.append("on neither declared chain")
    last: tuple[int, Any] | None = None
    for seq in sorted(b.leaves):
        recorded = recorded_time(b.leaves[seq])
        if recorded is not None and last is not None and recorded < last[1]:
            r.fail(
                6,
                f"entries/{seq}.json: recorded_at {shown(b.leaves[seq]['recorded_at'])} is earlier than "
                f"seq {last[0]}'s: the log's recorded_at never decreases",
            )
        if recorded is not None:
            last = (seq, recorded)
    r.complete = all(whole) and r.steps[6].status == "ok"
    if r.complete:
        r.note(6, "completeness shown: the bundle holds every entry of both chains from head back to first")


def _erasures(b: Bundle, r: Result, m: Manifest) -> dict[int, int]:
    """Named seq -> the later ``ledger.erased`` entry of the same chain that names it."""
    named: dict[int, int] = {}
    for seq, leaf in sorted(b.leaves.items()):
        obj = b.entries.get(seq)
        if leaf.get("type") != ERASED_TYPE or obj is None or not isinstance(obj.get("data"), dict):
            continue
        data = obj["data"]
        seqs, count = data.get("seqs"), data.get("count")
        if sorted(data) != ["count", "seqs"] or not isinstance(seqs, list) or not all(type(s) is int for s in seqs):
            r.fail(7, f'entries/{seq}.json: ledger.erased data is not {{"seqs": [...], "count": n}}')
            continue
        if count != len(seqs):
            r.fail(7, f"entries/{seq}.json: ledger.erased says count {shown(count)} but names {len(seqs)} seqs")
        for target in seqs:
            other = b.leaves.get(target)
            if not 0 <= target < seq:
                r.fail(7, f"entries/{seq}.json: ledger.erased names seq {target}, which is not an earlier entry")
            elif other is not None and other.get("subject") != leaf.get("subject"):
                r.fail(7, f"entries/{seq}.json: ledger.erased names seq {target}, an entry of another subject")
            else:
                named.setdefault(target, seq)
    return named


def _digest_problem(data: Any, salt: Any, leaf: dict[str, Any]) -> str | None:
    if not isinstance(salt, str):
        return "salt is not a base64 string"
    try:
        salt_bytes = b64decode(salt, "salt")
        digest = "sha256:" + hashlib.sha256(salt_bytes + jcs.canonicalize(data)).hexdigest()
    except (NoteError, jcs.CanonicalError) as exc:
        return str(exc)
    if len(salt_bytes) != 32:
        return f"salt is {len(salt_bytes)} bytes, expected 32"
    if digest != leaf.get("data_digest"):
        return f"SHA-256(salt || RFC 8785 data) is {digest}, the leaf says {shown(leaf.get('data_digest'))}"
    return None


def step7_data(b: Bundle, r: Result) -> None:
    m = b.manifest
    if m is None:
        r.skip(7, "not checked: the manifest is unusable (step 2)")
        return
    named = _erasures(b, r, m)
    withheld = set(m.withheld)
    for seq in sorted(withheld - set(b.entries)):
        r.fail(7, f"manifest.json: withheld seq {seq} is not an entry of the bundle")
    for seq, obj in sorted(b.entries.items()):
        leaf, fact, name = b.leaves[seq], b.facts[seq], f"entries/{seq}.json"
        before = len(r.steps[7].failures)
        fact.in_period = m.in_period(parse_time(leaf.get("occurred_at")))
        required = fact.in_period is not False or leaf.get("type") == ERASED_TYPE or fact.chain == "company"
        data, salt = obj["data"], obj["salt"]
        if (data is None) != (salt is None):
            r.fail(7, f"{name}: data and salt must both be present or both be null")
        elif data is not None:
            if problem := _digest_problem(data, salt, leaf):
                r.fail(7, f"{name}: {problem}")
            if seq in withheld:
                r.fail(7, f"{name}: listed as withheld, but its data is in the bundle")
            fact.data = "erasure pending" if seq in named else "present"
            fact.erased_by = named.get(seq)
        elif seq in withheld:
            fact.data = "withheld"
            if required:
                why = "occurred in the period" if fact.in_period else "must be shown"
                r.fail(
                    7,
                    f"{name}: its data is withheld, but it {why}: a {shown(leaf.get('type'))} entry of "
                    f"the {fact.chain} chain may not be withheld",
                )
        elif seq in named and leaf.get("type") == ERASED_TYPE:
            r.fail(7, f"{name}: its data is null, but a ledger.erased entry's own data is never erased")
        elif seq in named:
            fact.data, fact.erased_by = "erased", named[seq]
        else:
            r.fail(
                7,
                f"{name}: data and salt are null, but the seq is neither withheld nor named by a later "
                f"ledger.erased of {shown(leaf.get('subject'))!r} (data removed without an erasure record)",
            )
        fact.problems += r.steps[7].failures[before:]
    erased = [f.seq for f in b.facts.values() if f.data == "erased"]
    pending = [f.seq for f in b.facts.values() if f.data == "erasure pending"]
    # an erasure record keeps its data forever (SPEC section 1): it does not make an erasure partial
    kept = [
        f.seq
        for f in b.facts.values()
        if f.chain == "subject" and f.data == "present" and b.leaves[f.seq].get("type") != ERASED_TYPE
    ]
    if erased:
        partial = " (a partial erasure: other entries of the subject still hold data)" if kept else ""
        r.note(7, f"personal data erased, leaves still proven: seq {', '.join(map(str, erased))}{partial}")
    if pending:
        r.note(7, f"erasure pending (named by ledger.erased, data not yet dropped): seq {', '.join(map(str, pending))}")
    if withheld:
        r.note(7, f"data withheld (outside the period, not cited): seq {', '.join(map(str, sorted(withheld)))}")
