"""RFC 9162 tree building (`ledger.core.merkle`): reference vectors, properties, pymerkle as an oracle.

The proofs it builds are checked with the verifier's own code; the refusals of bad proofs are the
verifier's tests (tests/verifier/test_merkle.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.merkle import (
    EMPTY_ROOT,
    NodeId,
    append_leaves,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_for_ranges,
    range_nodes,
    root_from_nodes,
    root_nodes,
)
from tests.support.memtree import consistency_proof, inclusion_proof, memory_nodes, root_of_leaf_hashes
from tests.support.merkle_vectors import (
    BIG,
    BIG_HASHES,
    BIG_LEAVES,
    BIG_NODES,
    CONSISTENCY,
    CONSISTENCY_IDS,
    INCLUSION,
    INCLUSION_IDS,
    LEAF_HASHES,
    LEAVES,
    NODES,
    ROOTS,
    refused,
    root,
)
from verifier.merkle import verify_consistency, verify_inclusion

# ---------------------------------------------------------------------------------------------
# Hashing primitives and node arithmetic


def test_hashing_is_rfc6962_domain_separated() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"\x11" * 32, b"\x22" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_of_leaf_hashes([]) == EMPTY_ROOT
    assert root_from_nodes(0, {}) == EMPTY_ROOT
    assert append_leaves(0, {}, []) == ({}, EMPTY_ROOT)


def test_node_id_covers_its_leaves() -> None:
    n = NodeId(3, 2)
    assert (n.start, n.end) == (16, 24)
    assert (NodeId(0, 7).start, NodeId(0, 7).end) == (7, 8)


def test_range_nodes_largest_first_and_aligned() -> None:
    assert range_nodes(0, 13) == [NodeId(3, 0), NodeId(2, 2), NodeId(0, 12)]
    assert range_nodes(8, 16) == [NodeId(3, 1)]
    assert range_nodes(16, 19) == [NodeId(1, 8), NodeId(0, 18)]
    assert root_nodes(0) == []
    assert root_nodes(6) == [NodeId(2, 0), NodeId(1, 2)]
    with pytest.raises(ValueError, match="empty or negative"):
        range_nodes(5, 5)
    with pytest.raises(ValueError, match="empty or negative"):
        range_nodes(-1, 3)
    with pytest.raises(ValueError, match="not aligned"):
        range_nodes(1, 3)


def test_proof_ranges_refuse_impossible_arguments() -> None:
    for index, size in [(0, 0), (3, 3), (-1, 4)]:
        with pytest.raises(ValueError, match="outside a tree"):
            inclusion_ranges(index, size)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(5, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_ranges(-1, 4)
    assert consistency_ranges(0, 7) == []
    assert consistency_ranges(7, 7) == []


def test_proofs_read_only_logarithmically_many_nodes() -> None:
    n = 1 << 20
    for index in (0, 1, n // 2, n - 1):
        assert len(nodes_for_ranges(inclusion_ranges(index, n + 12345))) <= 2 * 21
    assert len(nodes_for_ranges(consistency_ranges(777_777, n + 12345))) <= 2 * 21 * 2


def test_memory_nodes_holds_every_perfect_subtree() -> None:
    for n in range(0, 40):
        nodes = memory_nodes(LEAF_HASHES[:n] + BIG_HASHES[: max(0, n - 33)])
        assert len(nodes) == 2 * n - bin(n).count("1")
        for node in nodes:
            assert node.end <= n


# ---------------------------------------------------------------------------------------------
# Reference vectors: every root and proof produced exactly, and verified


def test_vectors_cover_every_case() -> None:
    assert len(LEAVES) == len(ROOTS) == 33
    assert {(i, n) for i, n, _ in INCLUSION} == {(i, n) for n in range(1, 34) for i in range(n)}
    assert {(m, n) for m, n, _ in CONSISTENCY} == {(m, n) for n in range(1, 34) for m in range(1, n + 1)}


@pytest.mark.parametrize("size", range(1, 34), ids=lambda s: f"n{s}")
def test_root_vector(size: int) -> None:
    expected = root(size)
    prefix = LEAF_HASHES[:size]
    assert root_of_leaf_hashes(prefix) == expected
    assert root_from_nodes(size, NODES) == expected
    assert root_from_nodes(size, memory_nodes(prefix)) == expected
    assert append_leaves(0, {}, prefix)[1] == expected


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION, ids=INCLUSION_IDS)
def test_inclusion_vector(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, size, NODES.__getitem__) == proof
    assert inclusion_proof(index, size, memory_nodes(LEAF_HASHES[:size]).__getitem__) == proof
    verify_inclusion(LEAF_HASHES[index], index, size, proof, root(size))


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY, ids=CONSISTENCY_IDS)
def test_consistency_vector(old: int, size: int, proof: list[bytes]) -> None:
    assert consistency_proof(old, size, NODES.__getitem__) == proof
    assert consistency_proof(old, size, memory_nodes(LEAF_HASHES[:size]).__getitem__) == proof
    verify_consistency(old, size, root(old), root(size), proof)


# ---------------------------------------------------------------------------------------------
# Properties

PROPS = settings(max_examples=60, deadline=None)


@PROPS
@given(
    n=st.integers(min_value=0, max_value=BIG),
    cuts=st.lists(st.integers(min_value=0, max_value=BIG), max_size=12),
)
def test_root_does_not_depend_on_batching(n: int, cuts: list[int]) -> None:
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    stored: dict[NodeId, bytes] = {}
    for lo, hi in pairwise(bounds):
        frontier = {node: stored[node] for node in root_nodes(lo)}
        created, new_root = append_leaves(lo, frontier, BIG_HASHES[lo:hi])
        assert not set(created) & set(stored), "append rewrote an existing node"
        assert len(created) == (2 * hi - bin(hi).count("1")) - (2 * lo - bin(lo).count("1"))
        stored.update(created)
        assert new_root == root_of_leaf_hashes(BIG_HASHES[:hi]) == root_from_nodes(hi, stored)
    assert stored == {k: v for k, v in BIG_NODES.items() if k.end <= n}
    # An empty batch changes nothing.
    created, same = append_leaves(n, {node: stored[node] for node in root_nodes(n)}, [])
    assert created == {}
    assert same == root_from_nodes(n, BIG_NODES)


def test_every_older_root_is_consistent_with_every_newer_one_small() -> None:
    roots = [root_from_nodes(n, BIG_NODES) for n in range(65)]
    for n in range(1, 65):
        for m in range(0, n + 1):
            verify_consistency(m, n, roots[m], roots[n], consistency_proof(m, n, BIG_NODES.__getitem__))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_older_root_is_consistent_with_every_newer_one(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=BIG), label="n")
    m = data.draw(st.integers(min_value=0, max_value=n), label="m")
    proof = consistency_proof(m, n, BIG_NODES.__getitem__)
    assert len(proof) == len(consistency_ranges(m, n))
    verify_consistency(m, n, root_from_nodes(m, BIG_NODES), root_from_nodes(n, BIG_NODES), proof)
    # The proof binds the roots: the old one of another size does not pass.
    if 0 < m < n - 1:
        with refused("consistency"):
            verify_consistency(m, n, root_from_nodes(m + 1, BIG_NODES), root_from_nodes(n, BIG_NODES), proof)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_verify(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=BIG), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(index, size, BIG_NODES.__getitem__)
    assert len(proof) == len(inclusion_ranges(index, size)) <= size.bit_length()
    r = root_from_nodes(size, BIG_NODES)
    verify_inclusion(BIG_HASHES[index], index, size, proof, r)
    if size > 1:
        with refused("inclusion"):
            verify_inclusion(BIG_HASHES[(index + 1) % size], index, size, proof, r)


# ---------------------------------------------------------------------------------------------
# pymerkle as an independent oracle


def _pymerkle_tree(entries: Sequence[bytes]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    assert tree.security, "RFC 6962 domain separation must be on"
    assert (tree.leaf_prefix, tree.node_prefix) == (b"\x00", b"\x01")
    tree.append_entries(entries)
    return tree


PM_TREE = _pymerkle_tree(BIG_LEAVES)


def test_pymerkle_hashes_leaves_and_nodes_like_rfc6962() -> None:
    assert PM_TREE.hash_buff(b"abc") == leaf_hash(b"abc")
    assert PM_TREE.hash_pair(b"a" * 32, b"b" * 32) == node_hash(b"a" * 32, b"b" * 32)
    assert PM_TREE.get_leaf(1) == BIG_HASHES[0]
    assert PM_TREE.get_root(0) == EMPTY_ROOT


def test_pymerkle_agrees_with_the_vectors() -> None:
    tree = _pymerkle_tree(LEAVES)
    assert [tree.get_root(n) for n in range(1, 34)] == ROOTS


@settings(max_examples=40, deadline=None)
@given(entries=st.lists(st.binary(max_size=40), max_size=80))
def test_roots_equal_pymerkle_for_any_entries(entries: list[bytes]) -> None:
    tree = _pymerkle_tree(entries)
    hashes = [leaf_hash(e) for e in entries]
    nodes = memory_nodes(hashes)
    for n in range(len(entries) + 1):
        assert root_from_nodes(n, nodes) == tree.get_root(n)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_inclusion_paths_equal_pymerkle(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=BIG), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    ours = inclusion_proof(index, size, BIG_NODES.__getitem__)
    theirs = PM_TREE.prove_inclusion(index + 1, size)  # pymerkle counts leaves from one
    # pymerkle's path starts with the leaf hash itself, then the RFC 9162 path from the leaf upward.
    assert theirs.path == [BIG_HASHES[index], *ours]
    r = root_from_nodes(size, BIG_NODES)
    pymerkle.verify_inclusion(BIG_HASHES[index], r, theirs, index=index + 1, size=size)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_consistency_agrees_with_pymerkle(data: st.DataObject) -> None:
    # pymerkle's consistency path is laid out differently from RFC 9162's (it always descends to a
    # leaf), so the paths are not compared hash for hash: each side verifies against the other's roots.
    n = data.draw(st.integers(min_value=1, max_value=BIG), label="n")
    m = data.draw(st.integers(min_value=1, max_value=n), label="m")
    old_root, new_root = PM_TREE.get_root(m), PM_TREE.get_root(n)
    assert (old_root, new_root) == (root_from_nodes(m, BIG_NODES), root_from_nodes(n, BIG_NODES))
    verify_consistency(m, n, old_root, new_root, consistency_proof(m, n, BIG_NODES.__getitem__))
    theirs = PM_TREE.prove_consistency(m, n)
    pymerkle.verify_consistency(
        root_from_nodes(m, BIG_NODES), root_from_nodes(n, BIG_NODES), theirs, prior_size=m, later_size=n
    )
