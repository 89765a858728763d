"""RFC 9162 (Certificate Transparency v2) Merkle tree proof verification, SHA-256.

Only what a verifier needs: the leaf and node hashes of section 2.1.1, the inclusion proof check of
section 2.1.3.2 and the consistency proof check of section 2.1.4.2, written out step by step so they
can be compared with the RFC text line by line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root that ``proof`` rebuilds for ``leaf`` at ``index`` in a tree of ``size``.

    Raises ValueError when the proof cannot be right for any root (index, length or hash size).
    The caller compares the result with the signed root.
    """
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ValueError("a proof hash is not 32 bytes")
    fn, sn, r = index, size - 1, leaf  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:  # 4.1
            raise ValueError("the proof has more hashes than a tree of this size needs")
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
        raise ValueError("the proof has fewer hashes than a tree of this size needs")
    return r


def check_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> str | None:
    """RFC 9162 2.1.4.2: None when ``proof`` shows tree ``old_root`` is a prefix of ``new_root``, else why not."""
    if not 0 < old_size <= new_size:
        return f"old size {old_size} must be between 1 and the new size {new_size}"
    if any(len(p) != HASH_SIZE for p in proof):
        return "a proof hash is not 32 bytes"
    if old_size == new_size:
        if proof:
            return "the proof must be empty between trees of equal size"
        return None if old_root == new_root else "equal sizes but different roots"
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 1: old tree is a complete subtree, its root starts the path
        path.insert(0, old_root)
    if not path:
        return "empty proof"
    fn, sn = old_size - 1, new_size - 1  # step 2
    while fn & 1:  # step 3
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 4
    for c in path[1:]:  # step 5
        if sn == 0:  # 5.1
            return "the proof has more hashes than these tree sizes need"
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
        return "the proof has fewer hashes than these tree sizes need"
    if fr != old_root:
        return "the proof does not rebuild the old root"
    if sr != new_root:
        return "the proof does not rebuild the new root"
    return None
