"""Verifiers for RFC 6962 §2.1.1 inclusion and §2.1.2 consistency proofs.

RFC 6962 defines how proofs are built; the verification procedures below are the ones RFC 9162
spells out (§2.1.3.2 and §2.1.4.2), which accept exactly the RFC 6962 proofs. Both return
``None`` and raise :class:`~audit.errors.ProofError` saying what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.errors import ProofError
from audit.merkle import node_hash

__all__ = ["verify_consistency", "verify_inclusion"]

_HASH_SIZE = 32


def _short(h: bytes) -> str:
    return h.hex()[:16] + "…"


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != _HASH_SIZE:
            raise ProofError(f"{what}: element {i} is {len(h)} bytes, expected {_HASH_SIZE}")


def _shift_to_set_bit(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift fn and sn equally until LSB(fn) is set or fn is 0 (RFC 9162 §2.1.3.2 step 5)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _root_from_path(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, steps 2–6: fold the audit path into a root."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof for leaf {index} of {size}: too long ({len(proof)})")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof for leaf {index} of {size}: too short ({len(proof)})")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hashes("inclusion proof", [leaf_hash, root, *proof])
    got = _root_from_path(leaf_hash, index, size, proof)
    if got != root:
        raise ProofError(
            f"inclusion proof for leaf {index} of {size}: computed root {_short(got)}, "
            f"expected {_short(root)}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``."""
    what = f"consistency proof {old_size} → {new_size}"
    if not 0 <= old_size <= new_size:
        raise ProofError(f"{what}: the old size must lie between 0 and the new size")
    _check_hashes(what, [old_root, new_root, *proof])
    if old_size in (0, new_size):  # trivially consistent; RFC 9162 §2.1.4.2 step 1
        if proof:
            raise ProofError(f"{what}: expected an empty proof, found {len(proof)} hashes")
        if old_size == new_size and old_root != new_root:
            found = f"{_short(old_root)} ≠ {_short(new_root)}"
            raise ProofError(f"{what}: equal sizes but different roots {found}")
        return
    if not proof:
        raise ProofError(f"{what}: expected a proof, found none")
    fr, sr = _roots_from_proof(what, old_size, new_size, old_root, proof)
    if fr != old_root or sr != new_root:
        raise ProofError(
            f"{what}: computed roots {_short(fr)}, {_short(sr)}; "
            f"expected {_short(old_root)}, {_short(new_root)}"
        )


def _roots_from_proof(
    what: str, old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2, steps 2–6: rebuild both roots from the proof."""
    if old_size & (old_size - 1) == 0:  # step 2: old tree is a perfect subtree
        proof = [old_root, *proof]
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4: right-shift until LSB(fn) is not set
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError(f"{what}: proof too long ({len(proof)})")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"{what}: proof too short ({len(proof)})")
    return fr, sr
