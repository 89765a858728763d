"""RFC 9162 section 2.1 Merkle tree math, free of I/O.

Storage holds the hashes of *perfect* subtrees, addressed by ``NodeId(level, index)``: the node at
``level`` L and ``index`` i covers leaves ``[i * 2**L, (i + 1) * 2**L)``. Every subtree that an RFC 9162
proof or root needs is either such a node or a right edge that splits into O(log n) of them. So the
functions here never read anything themselves: they say which nodes they need, the caller fetches those
(one batch, O(log n) reads), and pure functions assemble the answer. This is tessera's split between
tree math and storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# The hashing and the proof checks are the verifier's (their one implementation); this module builds trees.
from verifier.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NodeId",
    "append_leaves",
    "consistency_ranges",
    "fold_range",
    "hash_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "nodes_for_ranges",
    "range_nodes",
    "root_from_nodes",
    "root_nodes",
]


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# ---------------------------------------------------------------------------------------------
# Ranges and the perfect nodes that cover them


def range_nodes(start: int, end: int) -> list[NodeId]:
    """Perfect nodes covering leaves [start, end), largest first.

    Valid for the ranges RFC 9162 ever hashes: ``start`` aligned to a power of two at least
    ``end - start``. Folding their hashes from the right gives MTH(D[start:end]).
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    nodes: list[NodeId] = []
    pos = start
    remaining = end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining & (1 << level):
            if pos % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned for RFC 9162 hashing")
            nodes.append(NodeId(level, pos >> level))
            pos += 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its ``range_nodes``, in the same order."""
    if not hashes:
        raise ValueError("no hashes to fold")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form the inclusion proof of ``index`` in a tree of ``size``, leaf upward."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form the consistency proof from ``old_size`` to ``new_size`` (RFC 9162 2.1.4)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    ranges: list[tuple[int, int]] = []

    def subproof(m: int, lo: int, hi: int, complete: bool) -> None:
        n = hi - lo
        if m == n:
            if not complete:
                ranges.append((lo, hi))
            return
        k = _split(n)
        if m <= k:
            subproof(m, lo, lo + k, complete)
            ranges.append((lo + k, hi))
        else:
            subproof(m - k, lo + k, hi, False)
            ranges.append((lo, lo + k))

    subproof(old_size, 0, new_size, True)
    return ranges


def nodes_for_ranges(ranges: Iterable[tuple[int, int]]) -> list[NodeId]:
    """Every node needed to hash the given ranges, without repeats, for one batched read."""
    seen: dict[NodeId, None] = {}
    for start, end in ranges:
        for node in range_nodes(start, end):
            seen.setdefault(node)
    return list(seen)


def hash_ranges(ranges: Iterable[tuple[int, int]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return [fold_range([nodes[n] for n in range_nodes(s, e)]) for s, e in ranges]


def root_nodes(size: int) -> list[NodeId]:
    """The nodes whose fold is the root of a tree of ``size`` (also the append frontier)."""
    return range_nodes(0, size) if size else []


def root_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return fold_range([nodes[n] for n in root_nodes(size)])


# ---------------------------------------------------------------------------------------------
# Appending


def append_leaves(
    size: int, frontier: Mapping[NodeId, bytes], leaf_hashes: Sequence[bytes]
) -> tuple[dict[NodeId, bytes], bytes]:
    """Nodes created by appending ``leaf_hashes`` to a tree of ``size``, and the new root.

    ``frontier`` holds the hashes of ``root_nodes(size)``. Each leaf creates its level-0 node plus one
    node per perfect subtree it completes, so a batch of b leaves costs about 2b writes and O(log n)
    reads, whatever the size of the log.
    """
    stack: list[tuple[NodeId, bytes]] = [(n, frontier[n]) for n in root_nodes(size)]
    created: dict[NodeId, bytes] = {}
    for i, lh in enumerate(leaf_hashes):
        node, h = NodeId(0, size + i), lh
        created[node] = h
        while stack and stack[-1][0].level == node.level:
            left, left_hash = stack.pop()
            node, h = NodeId(node.level + 1, left.index >> 1), node_hash(left_hash, h)
            created[node] = h
        stack.append((node, h))
    new_size = size + len(leaf_hashes)
    root = fold_range([h for _, h in stack]) if new_size else EMPTY_ROOT
    return created, root
