"""Whole trees in memory, for tests: the log keeps its nodes in storage and never needs these."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.core.merkle import (
    EMPTY_ROOT,
    NodeId,
    append_leaves,
    consistency_ranges,
    hash_ranges,
    inclusion_ranges,
    node_hash,
    nodes_for_ranges,
)


def root_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, computed independently of ``append_leaves`` (O(n) memory)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    # Pairing left to right and carrying an odd last node up unchanged is exactly RFC 9162's split.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def memory_nodes(leaf_hashes: Sequence[bytes]) -> dict[NodeId, bytes]:
    """Every perfect node of the tree of these leaves."""
    nodes, _ = append_leaves(0, {}, leaf_hashes)
    return nodes


def inclusion_proof(index: int, size: int, get: Callable[[NodeId], bytes]) -> list[bytes]:
    ranges = inclusion_ranges(index, size)
    return hash_ranges(ranges, {n: get(n) for n in nodes_for_ranges(ranges)})


def consistency_proof(old_size: int, new_size: int, get: Callable[[NodeId], bytes]) -> list[bytes]:
    ranges = consistency_ranges(old_size, new_size)
    return hash_ranges(ranges, {n: get(n) for n in nodes_for_ranges(ranges)})
