"""RFC 9162 (Certificate Transparency v2) Merkle tree proof verification, SHA-256.

Only what a verifier needs: the leaf and node hashes of section 2.1.1, the inclusion proof check of
section 2.1.3.2 and the consistency proof check of section 2.1.4.2, written out step by step so they
can be compared with the RFC text line by line. This is the one implementation: the ledger uses it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 9162 2.1.1)


class ProofError(ValueError):
    """A Merkle proof that cannot be right, or that does not rebuild the expected root."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root that ``proof`` rebuilds for leaf hash ``leaf`` at ``index`` in a tree of ``size``.

    Raises ProofError when the proof cannot be right for any root (index, length or hash size).
    """
    if not 0 <= index < size:
        raise ProofError(f"inclusion: index {index} is outside a tree of size {size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("inclusion: a proof hash is not 32 bytes")
    fn, sn, r = index, size - 1, leaf  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:  # 4.1
            raise ProofError("inclusion: proof has more hashes than the tree needs")
        if fn & 1 or fn == sn:  # 4.2
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:  # 4.3
            r = node_hash(r, p)
        fn >>= 1  # 4.4
        sn >>= 1
    if sn != 0:  # step 5
        raise ProofError("inclusion: proof has fewer hashes than the tree needs")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree ``root`` of ``size``."""
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError("inclusion: computed root does not match the checkpoint root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2: raise ProofError unless ``proof`` shows the tree ``old_root`` is a prefix of ``new_root``.

    The empty tree (size 0, root SHA-256 of nothing) is a prefix of every tree, with an empty proof.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"consistency: size {old_size} is larger than size {new_size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("consistency: a proof hash is not 32 bytes")
    if old_size == new_size:
        if proof:
            raise ProofError("consistency: proof must be empty for equal sizes")
        if old_root != new_root:
            raise ProofError("consistency: equal sizes with different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("consistency: proof must be empty from the empty tree")
        if old_root != EMPTY_ROOT:
            raise ProofError("consistency: the root of the empty tree must be SHA-256 of nothing")
        return
    if not proof:
        raise ProofError("consistency: empty proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 1: old tree is a complete subtree, its root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 2
    while fn & 1:  # step 3
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 4
    for c in path[1:]:  # step 5
        if sn == 0:  # 5.1
            raise ProofError("consistency: proof has more hashes than the trees need")
        if fn & 1 or fn == sn:  # 5.2
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:  # 5.3
            sr = node_hash(sr, c)
        fn >>= 1  # 5.4
        sn >>= 1
    if sn != 0:  # step 6
        raise ProofError("consistency: proof has fewer hashes than the trees need")
    if fr != old_root:
        raise ProofError("consistency: proof does not rebuild the old root")
    if sr != new_root:
        raise ProofError("consistency: proof does not rebuild the new root")
