"""The reference Merkle vectors decoded once for the tree tests (``tests/core/test_merkle.py``) and the proof
check tests (``tests/verifier/test_merkle.py``), with a larger synthetic tree and small helpers both use."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest

from ledger.core.merkle import inclusion_ranges
from tests.support.memtree import memory_nodes
from tests.support.vectors import load_vectors
from verifier.merkle import ProofError, leaf_hash

VECTORS = load_vectors()


def _b64(items: Sequence[str]) -> list[bytes]:
    return [base64.b64decode(x, validate=True) for x in items]


LEAVES = _b64(VECTORS["leaves"])
LEAF_HASHES = [leaf_hash(e) for e in LEAVES]
ROOTS = _b64(VECTORS["roots"])  # ROOTS[k] is the root of the tree of size k + 1
NODES = memory_nodes(LEAF_HASHES)
INCLUSION = [(c["index"], c["size"], _b64(c["proof"])) for c in VECTORS["inclusion"]]
CONSISTENCY = [(c["old_size"], c["size"], _b64(c["proof"])) for c in VECTORS["consistency"]]

INCLUSION_IDS = [f"i{i}-n{n}" for i, n, _ in INCLUSION]
CONSISTENCY_IDS = [f"m{m}-n{n}" for m, n, _ in CONSISTENCY]

# A larger synthetic tree for properties (prefixes of it are trees of every smaller size).
BIG = 300
BIG_LEAVES = [f"leaf {i}".encode() for i in range(BIG)]
BIG_HASHES = [leaf_hash(e) for e in BIG_LEAVES]
BIG_NODES = memory_nodes(BIG_HASHES)


def root(size: int) -> bytes:
    """The reference root of the tree of ``size`` leaves."""
    return ROOTS[size - 1]


def flip(h: bytes, bit: int) -> bytes:
    """``h`` with one bit flipped."""
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def directions(index: int, size: int) -> list[bool]:
    """For each inclusion proof hash, leaf upward: is the sibling on the left?"""
    return [start < index for start, _ in inclusion_ranges(index, size)]


def refused(match: str) -> Any:  # pytest.raises(...): its context type is not public API
    """The ProofError a bad proof must raise, its message matching ``match``."""
    return pytest.raises(ProofError, match=match)
