"""RFC 9162 section 2.1 Merkle tree math, free of I/O.

Storage holds the hashes of *perfect* subtrees, addressed by ``NodeId(level, index)``: the node at
``level`` L and ``index`` i covers leaves ``[i * 2**L, (i + 1) * 2**L)``. Every subtree that an RFC 9162
proof or root needs is either such a node or a right edge that splits into O(log n) of them. So the
functions here never read anything themselves: they say which nodes they need, the caller fetches those
(one batch, O(log n) reads), and pure functions assemble the answer. This is tessera's split between
tree math and storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.errors import VerificationError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


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


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes; for tests and small trees (O(n) memory)."""
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


# ---------------------------------------------------------------------------------------------
# Verification (RFC 9162 2.1.3.2 and 2.1.4.2)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise VerificationError unless ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root``."""
    if not 0 <= index < size:
        raise VerificationError(f"inclusion: index {index} is outside a tree of size {size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerificationError("inclusion: a proof hash is not 32 bytes")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion: proof has more hashes than the tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion: proof has fewer hashes than the tree needs")
    if r != root:
        raise VerificationError("inclusion: computed root does not match the checkpoint root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise VerificationError unless ``proof`` shows the tree ``old_root`` is a prefix of ``new_root``."""
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"consistency: size {old_size} is larger than size {new_size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerificationError("consistency: a proof hash is not 32 bytes")
    if old_size == new_size:
        if proof:
            raise VerificationError("consistency: proof must be empty for equal sizes")
        if old_root != new_root:
            raise VerificationError("consistency: equal sizes with different roots")
        return
    if old_size == 0:
        if proof:
            raise VerificationError("consistency: proof must be empty from the empty tree")
        if old_root != EMPTY_ROOT:
            raise VerificationError("consistency: the root of the empty tree must be SHA-256 of nothing")
        return
    if not proof:
        raise VerificationError("consistency: empty proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency: proof has more hashes than the trees need")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency: proof has fewer hashes than the trees need")
    if fr != old_root:
        raise VerificationError("consistency: proof does not rebuild the old root")
    if sr != new_root:
        raise VerificationError("consistency: proof does not rebuild the new root")


# ---------------------------------------------------------------------------------------------
# In-memory convenience, for tests, the verifier side and small tools


def memory_nodes(leaf_hashes: Sequence[bytes]) -> dict[NodeId, bytes]:
    nodes, _ = append_leaves(0, {}, leaf_hashes)
    return nodes


def inclusion_proof(index: int, size: int, get: Callable[[NodeId], bytes]) -> list[bytes]:
    ranges = inclusion_ranges(index, size)
    return hash_ranges(ranges, {n: get(n) for n in nodes_for_ranges(ranges)})


def consistency_proof(old_size: int, new_size: int, get: Callable[[NodeId], bytes]) -> list[bytes]:
    ranges = consistency_ranges(old_size, new_size)
    return hash_ranges(ranges, {n: get(n) for n in nodes_for_ranges(ranges)})
