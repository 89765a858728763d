"""A log written by whoever controls the store, leaf by leaf: any ``prev``, any times, any version.

The producer the evidence must hold against writes exactly this way: real leaves, real tree nodes, real
signed checkpoints, with whatever it likes inside. Also how a log made before v2 (v1 leaves) is built for
the compatibility tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.core import merkle
from ledger.core.entries import canonical_json, data_digest
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.storage.base import Storage
from verifier.jcs import canonicalize


@dataclass
class Leaf:
    """One entry to write: the leaf fields (``seq`` and ``data_digest`` are filled in) and its data."""

    subject: str
    type: str = "attendance.clock_in"
    occurred_at: str = "2026-03-02T09:00:00+08:00"
    recorded_at: str = "2026-03-02T01:00:00.000000Z"
    data: dict[str, Any] | None = field(default_factory=lambda: {"method": "face"})
    prev: int | str | None = "auto"  # "auto": the subject's previous seq, as an honest sequencer writes it
    v: int = 2
    event_id: str | None = None
    source: str = "hris"
    keep_data: bool = True  # False: data and salt are dropped from the store (the leaf keeps its digest)


def salt_for(seq: int) -> bytes:
    return hashlib.sha256(b"forged salt %d" % seq).digest()


def make_entries(leaves: Sequence[Leaf], *, start: int = 0, heads: dict[str, int] | None = None) -> list[StoredEntry]:
    """Stored entries for ``leaves`` from seq ``start``; ``heads`` carries the subjects' chains across calls."""
    heads = {} if heads is None else heads
    out: list[StoredEntry] = []
    for offset, spec in enumerate(leaves):
        seq = start + offset
        salt = salt_for(seq)
        data = canonical_json(spec.data if spec.data is not None else {})
        leaf: dict[str, Any] = {
            "v": spec.v,
            "seq": seq,
            "event_id": spec.event_id or f"forged-{seq}",
            "type": spec.type,
            "subject": spec.subject,
            "occurred_at": spec.occurred_at,
            "recorded_at": spec.recorded_at,
            "source": spec.source,
            "data_digest": data_digest(salt, data),
        }
        if spec.v == 2:
            leaf["prev"] = heads.get(spec.subject) if spec.prev == "auto" else spec.prev
        heads[spec.subject] = seq
        entry = canonicalize(leaf)
        out.append(
            StoredEntry(
                seq=seq,
                event_id=leaf["event_id"],
                type=spec.type,
                subject=spec.subject,
                occurred_at=spec.occurred_at,
                recorded_at=spec.recorded_at,
                entry=entry,
                leaf_hash=merkle.leaf_hash(entry),
                data=data if spec.keep_data else None,
                salt=salt if spec.keep_data else None,
            )
        )
    return out


async def write(store: Storage, signer: Signer, leaves: Sequence[Leaf], *, heads: dict[str, int] | None = None) -> int:
    """Append ``leaves`` through the real tree math and publish a signed checkpoint of the new size."""
    size = await store.tree_size()
    entries = make_entries(leaves, start=size, heads=heads)
    frontier = await store.get_nodes(merkle.root_nodes(size))
    nodes, root = merkle.append_leaves(size, frontier, [e.leaf_hash for e in entries])
    await store.append(entries, nodes, expected_size=size)
    new_size = size + len(entries)
    note = sign_checkpoint(CheckpointBody(signer.name, new_size, root), signer)
    await store.add_checkpoint(StoredCheckpoint(new_size, root, note, entries[-1].recorded_at))
    return new_size
