"""fsck: recompute every leaf hash and tree node from the stored entries, check every checkpoint, and follow
every subject's chain (``prev``, the ``recorded_at`` order, the 5-minute bound, erasure records).

Reads the log page by page, so memory stays O(page + log n + subjects) whatever the size of the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.admin.chain_audit import ChainAudit
from ledger.core import merkle
from ledger.core.entries import data_digest, parse_leaf
from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.core.wire import Verifier, verify_checkpoint
from ledger.errors import LedgerError
from ledger.storage.base import Storage

MAX_PROBLEMS = 200
_COLUMNS = ("event_id", "type", "subject", "occurred_at", "recorded_at")


@dataclass
class FsckReport:
    entries: int = 0
    nodes: int = 0
    checkpoints: int = 0
    v1_entries: int = 0  # leaves of a log made before v2: no chain to follow
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def check_entry(entry: StoredEntry, expected_seq: int, report: FsckReport, chains: ChainAudit) -> None:
    where = f"entry seq {entry.seq}"
    if entry.seq != expected_seq:
        report.add(f"{where}: expected seq {expected_seq} here (a gap or a duplicate)")
    if merkle.leaf_hash(entry.entry) != entry.leaf_hash:
        report.add(f"{where}: stored leaf hash is not SHA-256(0x00 || entry)")
    try:
        leaf = parse_leaf(entry.entry)
    except LedgerError as exc:
        report.add(f"{where}: {exc}")
        return
    chains.see(entry, leaf, report.add)
    for column in _COLUMNS:
        if leaf.get(column) != getattr(entry, column):
            report.add(f"{where}: column {column} differs from the leaf")
    if (entry.data is None) != (entry.salt is None):
        report.add(f"{where}: data and salt must be erased together")
    elif (
        entry.data is not None
        and entry.salt is not None
        and data_digest(entry.salt, entry.data) != leaf.get("data_digest")
    ):
        report.add(f"{where}: data and salt do not match the leaf's data_digest")


async def fsck(store: Storage, verifier: Verifier, *, page: int = 2000) -> FsckReport:
    report = FsckReport()
    size = await store.tree_size()
    checkpoints = await store.list_checkpoints()
    pending = {cp.size: cp for cp in checkpoints}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    frontier: dict[NodeId, bytes] = {}
    chains = ChainAudit()
    done = 0
    while done < size:
        batch = await store.scan_entries(from_seq=done, limit=page)
        if not batch:
            report.add(f"entries end at seq {done - 1} but the tree size is {size}")
            break
        # Split the page at checkpoint sizes so each checkpoint's root is recomputed exactly.
        cuts = sorted({s - done for s in pending if done < s < done + len(batch)} | {len(batch)})
        start = 0
        for cut in cuts:
            part = batch[start:cut]
            for offset, entry in enumerate(part):
                check_entry(entry, done + offset, report, chains)
            created, root = merkle.append_leaves(done, frontier, [merkle.leaf_hash(e.entry) for e in part])
            stored = await store.get_nodes(list(created))
            for node, expected in created.items():
                got = stored.get(node)
                if got is None:
                    report.add(f"node (level {node.level}, index {node.index}): missing")
                elif got != expected:
                    report.add(
                        f"node (level {node.level}, index {node.index}): stored hash differs from the "
                        "hash recomputed from the entries"
                    )
            report.nodes += len(created)
            done += len(part)
            frontier = {n: created.get(n) or frontier[n] for n in merkle.root_nodes(done)}
            roots[done] = root
            start = cut
        report.entries = done
    chains.finish(report.add)
    for erasure_seq, seq, subject in chains.to_confirm:
        named = await store.get_entry(seq)
        if named is not None:
            chains.confirm(named, erasure_seq, subject, report.add)
    report.v1_entries = chains.v1_entries
    for cp in checkpoints:
        check_checkpoint(cp, verifier, roots.get(cp.size), size, report)
        report.checkpoints += 1
    return report


def check_checkpoint(
    cp: StoredCheckpoint, verifier: Verifier, recomputed: bytes | None, size: int, report: FsckReport
) -> None:
    where = f"checkpoint size {cp.size}"
    try:
        body = verify_checkpoint(cp.note, verifier, origin=verifier.name)
    except LedgerError as exc:
        report.add(f"{where}: {exc}")
        return
    if body.size != cp.size or body.root != cp.root:
        report.add(f"{where}: the signed note says size {body.size} with another root than stored")
    if cp.size > size:
        report.add(f"{where}: beyond the stored tree of size {size}")
    elif recomputed is not None and recomputed != body.root:
        report.add(
            f"{where}: signed root differs from the root recomputed from the entries "
            "(the log was changed after it was signed, or the checkpoints are inconsistent)"
        )
