"""Step 10: receipts held by the other side (SPEC section 5).

A receipt is a C2SP tlog-proof carrying the entry's leaf in its ``extra`` line, as ``POST /v1/events?
wait=checkpoint`` returns it: whoever holds one can show that entry, its subject and its place in a tree
the log's key signed. It must first verify against its own checkpoint under the same key. Then it is

- "in the bundle": the bundle holds its seq with the same leaf;
- "proven fork": the bundle holds its seq with another leaf (two signed trees disagree on one entry);
- "proven omission": an entry of a declared chain's subject, after ``first`` and below the bundle's tree
  size, that the bundle lacks (left out, or the chain cut before it);
- "after this bundle": its seq is at or beyond the bundle's tree size; the bundle is "not current" when the
  receipt's checkpoint was timestamped (a ``<receipt>.tsr`` beside it, checked with ``--tsa-root``) or
  cosigned before the bundle's ``built_at``;
- "not relevant": another subject's entry the bundle does not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import cosignature, merkle
from verifier.bundle import Bundle
from verifier.cosignature import WitnessKey
from verifier.leaf import LeafError, leaf_problems, parse_leaf
from verifier.note import NoteError, Verifier, log_signed_note, open_checkpoint, parse_tlog_proof
from verifier.result import Receipt, Result
from verifier.text import shown


@dataclass(frozen=True)
class ReceiptFile:
    name: str
    data: bytes
    token: bytes | None = None  # an RFC 3161 response over the receipt's checkpoint, if one lies beside it


def _token_time(token: bytes, note: bytes, roots: list[Any] | None) -> datetime | None:
    if roots is None:
        return None
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    response = decode_timestamp_response(token)
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    builder.build().verify_message(response, note)
    when: datetime = response.tst_info.gen_time
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _one(
    b: Bundle, r: Result, vkey: Verifier, item: ReceiptFile, roots: list[Any] | None, witnesses: Sequence[WitnessKey]
) -> Receipt:
    what = f"receipt {shown(item.name)}"
    try:
        proof = parse_tlog_proof(item.data, what)
        if proof.extra is None:
            raise NoteError(f"{what}: it has no extra line: without the entry's leaf it is no receipt")
        cp = open_checkpoint(proof.checkpoint, vkey)
        leaf = parse_leaf(proof.extra)
        if problems := leaf_problems(leaf, proof.index):
            raise NoteError(f"{what}: the leaf's {problems[0]}")
        merkle.verify_inclusion(merkle.leaf_hash(proof.extra), proof.index, cp.size, proof.hashes, cp.root)
    except (NoteError, LeafError, merkle.ProofError) as exc:
        message = str(exc) if str(exc).startswith(what) else f"{what}: {exc}"
        r.fail(10, f"{message}: it does not verify against its own checkpoint, so it proves nothing")
        return Receipt(item.name, "invalid", detail=message)
    seq, subject = proof.index, leaf["subject"]
    out = Receipt(item.name, "not relevant", seq, subject, cp.size)
    m = b.manifest
    if m is None:
        out.detail = "the bundle's manifest is unusable"
        return out
    chains = {c.subject: c for c in m.chains.values()}
    if seq < m.tree_size and seq in b.leaf_bytes:
        if b.leaf_bytes[seq] == proof.extra:
            out.outcome = "in the bundle"
        else:
            out.outcome = "proven fork"
            r.fail(
                10,
                f"{what}: proven fork: seq {seq} is another leaf in the receipt's tree (size {cp.size}) "
                f"than in the bundle's (size {m.tree_size}); both are signed by the log's key",
            )
    elif seq >= m.tree_size:
        out.outcome = "after this bundle"
        # when the receipt's tree existed, by a third party's word: named witnesses' cosignatures, a timestamp
        times = [datetime.fromtimestamp(c.timestamp, UTC) for c in cosignature.check(cp.note, witnesses, vkey).valid]
        if item.token is not None:
            try:
                if (when := _token_time(item.token, log_signed_note(cp.note, vkey), roots)) is not None:
                    times.append(when)
            except Exception as exc:  # the library raises several types for bad tokens; each is a failure here
                r.fail(10, f"{what}: its timestamp is not a valid RFC 3161 token over its checkpoint: {exc}")
        if times and m.built_at is not None and min(times) < m.built_at:
            out.outcome = "not current"
            r.fail(
                10,
                f"{what}: not current: the log had signed a tree of size {cp.size} by "
                f"{min(times):%Y-%m-%dT%H:%M:%SZ} (a cosignature or timestamp), before the bundle was built from size "
                f"{m.tree_size} at {m.built_at:%Y-%m-%dT%H:%M:%SZ}",
            )
        elif subject in chains:
            out.detail = "an entry of this record made after the bundle's tree; nothing shows when"
    elif subject in chains and ((first := chains[subject].first) is None or seq > first):
        out.outcome = "proven omission"
        r.fail(
            10,
            f"{what}: proven omission: seq {seq}, an entry of {shown(subject)!r} in the log's tree, is "
            f"after the chain's first and below the bundle's tree size {m.tree_size}, yet the bundle lacks it",
        )
    elif subject in chains:
        out.detail = "an entry before the chain's first: older than what the bundle covers"
    r.note(10, f"{what}: seq {seq} of {shown(subject)!r} in a tree of size {cp.size}: {out.outcome}")
    return out


def step10_receipts(
    b: Bundle,
    r: Result,
    vkey: Verifier,
    receipts: Sequence[ReceiptFile],
    roots: list[Any] | None,
    witnesses: Sequence[WitnessKey] = (),
) -> None:
    if not receipts:
        r.note(10, "no receipts given (--receipt): nothing held by another party was compared")
    for item in receipts:
        r.receipts.append(_one(b, r, vkey, item, roots, witnesses))
