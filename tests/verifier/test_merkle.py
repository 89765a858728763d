"""RFC 9162 proof checks (`verifier.merkle`): every way a wrong inclusion or consistency proof is refused.

The reference vectors' proofs verify in tests/core/test_merkle.py, where the ledger builds them."""

from __future__ import annotations

import re

import pytest

from ledger.core.merkle import consistency_ranges, inclusion_ranges
from tests.support.memtree import consistency_proof, inclusion_proof
from tests.support.merkle_vectors import (
    CONSISTENCY,
    INCLUSION,
    LEAF_HASHES,
    NODES,
    directions,
    flip,
    refused,
    root,
)
from verifier.merkle import EMPTY_ROOT, HASH_SIZE, ProofError, verify_consistency, verify_inclusion

# ---------------------------------------------------------------------------------------------
# Inclusion refusals

# A sample of the vector cases with a non-empty proof: every leaf of a few telling sizes.
SAMPLE_SIZES = {2, 3, 5, 7, 8, 9, 16, 17, 31, 32, 33}
INCLUSION_SAMPLE = [c for c in INCLUSION if c[1] in SAMPLE_SIZES]
INCLUSION_SAMPLE_IDS = [f"i{i}-n{n}" for i, n, _ in INCLUSION_SAMPLE]
CONSISTENCY_SAMPLE = [c for c in CONSISTENCY if c[1] in SAMPLE_SIZES and c[0] < c[1]]
CONSISTENCY_SAMPLE_IDS = [f"m{m}-n{n}" for m, n, _ in CONSISTENCY_SAMPLE]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SAMPLE, ids=INCLUSION_SAMPLE_IDS)
def test_inclusion_refuses_a_flipped_bit_in_any_hash(index: int, size: int, proof: list[bytes]) -> None:
    assert proof
    for j in range(len(proof)):
        for bit in (0, 7, (31 * j + index) % 256, 255):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            with refused("computed root does not match the checkpoint root"):
                verify_inclusion(LEAF_HASHES[index], index, size, bad, root(size))


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SAMPLE, ids=INCLUSION_SAMPLE_IDS)
def test_inclusion_refuses_wrong_leaf_and_wrong_root(index: int, size: int, proof: list[bytes]) -> None:
    with refused("computed root does not match"):
        verify_inclusion(flip(LEAF_HASHES[index], 100), index, size, proof, root(size))
    with refused("computed root does not match"):
        verify_inclusion(LEAF_HASHES[index], index, size, proof, flip(root(size), 3))
    other = (index + 1) % size
    with refused("computed root does not match"):
        verify_inclusion(LEAF_HASHES[other], index, size, proof, root(size))


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SAMPLE, ids=INCLUSION_SAMPLE_IDS)
def test_inclusion_refuses_missing_extra_and_short_hashes(index: int, size: int, proof: list[bytes]) -> None:
    leaf, r = LEAF_HASHES[index], root(size)
    for j in range(len(proof)):
        with refused("fewer hashes than the tree needs"):
            verify_inclusion(leaf, index, size, proof[:j] + proof[j + 1 :], r)
        with refused("a proof hash is not 32 bytes"):
            verify_inclusion(leaf, index, size, [*proof[:j], proof[j][:31], *proof[j + 1 :]], r)
    for extra in (proof[0], b"\x00" * HASH_SIZE, r):
        with refused("more hashes than the tree needs"):
            verify_inclusion(leaf, index, size, [*proof, extra], r)
        with refused("more hashes than the tree needs"):
            verify_inclusion(leaf, index, size, [extra, *proof], r)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SAMPLE, ids=INCLUSION_SAMPLE_IDS)
def test_inclusion_refuses_wrong_index(index: int, size: int, proof: list[bytes]) -> None:
    leaf, r = LEAF_HASHES[index], root(size)
    for wrong in (index - 1, index + 1, index ^ 1, size - 1 - index):
        if wrong == index:
            continue
        if not 0 <= wrong < size:
            with refused(f"index {wrong} is outside a tree of size {size}"):
                verify_inclusion(leaf, wrong, size, proof, r)
            continue
        need = len(inclusion_ranges(wrong, size))
        msg = {
            need < len(proof): "more hashes than the tree needs",
            need > len(proof): "fewer hashes than the tree needs",
            need == len(proof): "computed root does not match",
        }[True]
        # In one tree every leaf has its own left/right pattern: a wrong index is always caught.
        assert directions(wrong, size) != directions(index, size)
        with refused(msg):
            verify_inclusion(leaf, wrong, size, proof, r)
    with refused(f"index {size} is outside a tree of size {size}"):
        verify_inclusion(leaf, size, size, proof, r)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_SAMPLE, ids=INCLUSION_SAMPLE_IDS)
def test_inclusion_refuses_wrong_size(index: int, size: int, proof: list[bytes]) -> None:
    leaf, r = LEAF_HASHES[index], root(size)
    for wrong in (size - 1, size + 1, 2 * size):
        if wrong <= index:
            with refused(f"index {index} is outside a tree of size {wrong}"):
                verify_inclusion(leaf, index, wrong, proof, r)
            continue
        need = len(inclusion_ranges(index, wrong))
        if need < len(proof):
            with refused("more hashes than the tree needs"):
                verify_inclusion(leaf, index, wrong, proof, r)
        elif need > len(proof):
            with refused("fewer hashes than the tree needs"):
                verify_inclusion(leaf, index, wrong, proof, r)
        elif directions(index, wrong) != directions(index, size):
            with refused("computed root does not match"):
                verify_inclusion(leaf, index, wrong, proof, r)
        else:
            # Same shape for both sizes (e.g. leaf 0 of 5 and of 6): the math alone cannot tell them
            # apart, which is why a checkpoint signs the size together with the root.
            verify_inclusion(leaf, index, wrong, proof, r)


def test_inclusion_size_ambiguity_is_inherent_not_accepted_elsewhere() -> None:
    proof = inclusion_proof(0, 5, NODES.__getitem__)
    verify_inclusion(LEAF_HASHES[0], 0, 6, proof, root(5))  # same shape: indistinguishable by design
    with refused("computed root does not match"):
        verify_inclusion(LEAF_HASHES[0], 0, 6, proof, root(6))


def test_inclusion_refuses_empty_and_degenerate_trees() -> None:
    with refused("index 0 is outside a tree of size 0"):
        verify_inclusion(EMPTY_ROOT, 0, 0, [], EMPTY_ROOT)
    with refused("index -1 is outside"):
        verify_inclusion(LEAF_HASHES[0], -1, 1, [], root(1))
    verify_inclusion(LEAF_HASHES[0], 0, 1, [], root(1))
    with refused("more hashes than the tree needs"):
        verify_inclusion(LEAF_HASHES[0], 0, 1, [root(1)], root(1))
    with refused("computed root does not match"):
        verify_inclusion(LEAF_HASHES[1], 0, 1, [], root(1))


# ---------------------------------------------------------------------------------------------
# Consistency refusals

ROOT_MISMATCH = "proof does not rebuild the (old|new) root"


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY_SAMPLE, ids=CONSISTENCY_SAMPLE_IDS)
def test_consistency_refuses_a_flipped_bit_in_any_hash(old: int, size: int, proof: list[bytes]) -> None:
    assert proof
    for j in range(len(proof)):
        for bit in (0, 7, (29 * j + old) % 256, 255):
            bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
            with refused(ROOT_MISMATCH):
                verify_consistency(old, size, root(old), root(size), bad)


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY_SAMPLE, ids=CONSISTENCY_SAMPLE_IDS)
def test_consistency_refuses_wrong_roots(old: int, size: int, proof: list[bytes]) -> None:
    # A power-of-two old tree is itself the first path hash, so a wrong old root shows in the new root.
    which = "new" if old & (old - 1) == 0 else "old"
    with refused(f"proof does not rebuild the {which} root"):
        verify_consistency(old, size, flip(root(old), 9), root(size), proof)
    with refused("proof does not rebuild the new root"):
        verify_consistency(old, size, root(old), flip(root(size), 9), proof)
    with refused(ROOT_MISMATCH):
        verify_consistency(old, size, root(size), root(old), proof)


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY_SAMPLE, ids=CONSISTENCY_SAMPLE_IDS)
def test_consistency_refuses_missing_extra_and_short_hashes(old: int, size: int, proof: list[bytes]) -> None:
    ro, rn = root(old), root(size)
    for j in range(len(proof)):
        rest = proof[:j] + proof[j + 1 :]
        with refused("fewer hashes than the trees need" if rest else "consistency: empty proof"):
            verify_consistency(old, size, ro, rn, rest)
        with refused("a proof hash is not 32 bytes"):
            verify_consistency(old, size, ro, rn, [*proof[:j], proof[j] + b"\x00", *proof[j + 1 :]])
    for extra in (proof[0], b"\x00" * HASH_SIZE, rn):
        with refused("more hashes than the trees need"):
            verify_consistency(old, size, ro, rn, [*proof, extra])
        with refused("more hashes than the trees need"):
            verify_consistency(old, size, ro, rn, [extra, *proof])


@pytest.mark.parametrize(("old", "size", "proof"), CONSISTENCY_SAMPLE, ids=CONSISTENCY_SAMPLE_IDS)
def test_consistency_refuses_swapped_and_shifted_sizes(old: int, size: int, proof: list[bytes]) -> None:
    ro, rn = root(old), root(size)
    with refused(f"size {size} is larger than size {old}"):
        verify_consistency(size, old, rn, ro, proof)
    with refused(f"size {size} is larger than size {old}"):
        verify_consistency(size, old, ro, rn, proof)
    for m, n in ((old - 1, size), (old + 1, size), (old, size - 1), (old, size + 1)):
        if m > n:
            with refused("is larger than size"):
                verify_consistency(m, n, ro, rn, proof)
        elif m == n:
            with refused("proof must be empty for equal sizes"):
                verify_consistency(m, n, ro, rn, proof)
        elif m == 0:
            with refused("proof must be empty from the empty tree"):
                verify_consistency(m, n, ro, rn, proof)
        else:
            need = len(consistency_ranges(m, n))
            try:
                verify_consistency(m, n, ro, rn, proof)
            except ProofError as exc:
                if need == len(proof):
                    assert re.search(ROOT_MISMATCH, str(exc)), str(exc)
                else:
                    assert re.search("(more|fewer) hashes than the trees need", str(exc)), str(exc)
            else:
                # Only possible when the shifted sizes hash the very same way (e.g. 4->6 vs 4->5).
                assert need == len(proof), (m, n)


def test_consistency_edge_cases() -> None:
    r5 = root(5)
    verify_consistency(5, 5, r5, r5, [])
    with refused("equal sizes with different roots"):
        verify_consistency(5, 5, r5, root(6), [])
    with refused("proof must be empty for equal sizes"):
        verify_consistency(5, 5, r5, r5, [r5])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    with refused("proof must be empty from the empty tree"):
        verify_consistency(0, 5, EMPTY_ROOT, r5, [r5])
    with refused("consistency: empty proof"):
        verify_consistency(3, 5, root(3), r5, [])
    with refused("consistency: empty proof"):
        verify_consistency(4, 5, root(4), r5, [])
    with refused("size 6 is larger than size 5"):
        verify_consistency(6, 5, root(6), r5, [])
    with refused("is larger than size"):
        verify_consistency(-1, 5, EMPTY_ROOT, r5, [])
    # The shifted-size ambiguity, spelled out: the proof 4 -> 6 is a well-formed proof 4 -> 5.
    proof = consistency_proof(4, 6, NODES.__getitem__)
    verify_consistency(4, 5, root(4), root(6), proof)


def test_consistency_from_empty_tree_checks_the_old_root() -> None:
    # A checkpoint of size 0 can only have the empty root; anything else is not a tree of size 0.
    with refused("consistency"):
        verify_consistency(0, 5, b"\xee" * 32, root(5), [])
