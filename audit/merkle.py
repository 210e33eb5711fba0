"""RFC 6962 §2.1 Merkle tree hashing and proof construction: pure code, no I/O.

A *node* ``(level, index)`` is the perfect subtree over leaves ``[index·2^level,
(index+1)·2^level)``. Every subtree the RFC's MTH, PATH and PROOF mention is either such a node
or a right-border subtree ``[start, size)``, whose hash folds the perfect nodes it decomposes
into. So proof construction has two halves: *plan* the spans a proof needs
(:func:`inclusion_spans`, :func:`consistency_spans`) and the nodes they need (:func:`nodes_for`),
then *assemble* the proof from those node hashes (:func:`assemble`). A storage backend fetches
the O(log n) stored nodes in one query and never rehashes leaves.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "NodeId",
    "Span",
    "assemble",
    "consistency_proof",
    "consistency_spans",
    "fold",
    "inclusion_proof",
    "inclusion_spans",
    "leaf_hash",
    "node_hash",
    "nodes_for",
    "perfect_nodes",
    "root",
]

NodeId = tuple[int, int]
"""``(level, index)`` of a perfect subtree; level 0 nodes are leaf hashes."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""§2.1: the hash of an empty list is the hash of an empty string, MTH({}) = SHA-256()."""


def leaf_hash(entry: bytes) -> bytes:
    """§2.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """§2.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """§2.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """The subtree over leaves ``[start, end)``; ``start`` is aligned to a power ≥ its width."""

    start: int
    end: int


def perfect_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect nodes the RFC subtree ``[start, end)`` splits into, largest (leftmost) first."""
    out: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a subtree from its perfect nodes: §2.1 splits off the largest one first."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def inclusion_spans(index: int, size: int) -> list[Span]:
    """§2.1.1 PATH(m, D[n]): the subtrees whose hashes form the audit path, bottom first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _path(index, 0, size)


def _path(m: int, lo: int, hi: int) -> list[Span]:
    if hi - lo == 1:  # PATH(0, {d(0)}) = {}
        return []
    k = _split(hi - lo)
    if m < lo + k:  # m < k: PATH(m, D[0:k]) : MTH(D[k:n])
        return [*_path(m, lo, lo + k), Span(lo + k, hi)]
    return [*_path(m, lo + k, hi), Span(lo, lo + k)]  # PATH(m - k, D[k:n]) : MTH(D[0:k])


def consistency_spans(old: int, new: int) -> list[Span]:
    """§2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty when m is 0 or m = n."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    return _subproof(old, 0, new, True)


def _subproof(m: int, lo: int, hi: int, whole: bool) -> list[Span]:
    if m == hi - lo:  # SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
        return [] if whole else [Span(lo, hi)]
    k = _split(hi - lo)
    if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
        return [*_subproof(m, lo, lo + k, whole), Span(lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False), Span(lo, lo + k)]


def nodes_for(spans: Iterable[Span]) -> list[NodeId]:
    """Every stored node needed to assemble the given spans, without duplicates."""
    return list(dict.fromkeys(n for s in spans for n in perfect_nodes(s.start, s.end)))


def assemble(spans: Iterable[Span], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The hash of each span, from the node hashes :func:`nodes_for` asked for."""
    return [fold([nodes[n] for n in perfect_nodes(s.start, s.end)]) for s in spans]


class CompactRange:
    """The right border of a tree ``[0, size)``: one perfect node per set bit of ``size``.

    Appending a leaf hash returns every perfect node it completes, so a log is integrated (and
    re-verified) one leaf at a time with O(log n) memory.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        ids = perfect_nodes(0, size)
        if len(ids) != len(hashes):
            raise ValueError(f"size {size} has {len(ids)} border nodes, not {len(hashes)}")
        self.size = size
        self._stack = [(level, h) for (level, _), h in zip(ids, hashes, strict=True)]

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return the completed nodes, the leaf itself first, as (id, hash)."""
        index, level, acc = self.size, 0, leaf
        done: list[tuple[NodeId, bytes]] = [((0, index), leaf)]
        while self._stack and self._stack[-1][0] == level:
            acc = node_hash(self._stack.pop()[1], acc)
            level += 1
            done.append(((level, index >> level), acc))
        self._stack.append((level, acc))
        self.size += 1
        return done

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        return fold([h for _, h in self._stack])


def extend(
    size: int, border: Sequence[bytes], entries: Iterable[bytes]
) -> tuple[list[tuple[NodeId, bytes]], int]:
    """Append ``entries`` to the tree of ``size`` leaves whose :func:`perfect_nodes` hashes are
    ``border``: every node they complete (leaves included), and the new size."""
    tree = CompactRange(size, border)
    done = [node for entry in entries for node in tree.append(leaf_hash(entry))]
    return done, tree.size


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (for lists held in memory)."""
    cr = CompactRange()
    for h in leaf_hashes:
        cr.append(h)
    return cr.root()


def _span_hash(leaf_hashes: Sequence[bytes], span: Span) -> bytes:
    return root(leaf_hashes[span.start : span.end])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """§2.1.1 audit path for leaf ``index`` in the tree of all ``leaf_hashes``."""
    return [_span_hash(leaf_hashes, s) for s in inclusion_spans(index, len(leaf_hashes))]


def consistency_proof(old: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """§2.1.2 consistency proof from the first ``old`` leaves to all of ``leaf_hashes``."""
    return [_span_hash(leaf_hashes, s) for s in consistency_spans(old, len(leaf_hashes))]
