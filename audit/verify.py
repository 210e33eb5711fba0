"""Whole-log verification: recompute the tree from every entry and check all that is stored.

:func:`verify_log` follows these steps, and raises at the first thing that is wrong:

1. open every stored checkpoint: a trusted signature, the expected origin, the size it is
   stored under, and a size within the integrated tree (:class:`CheckpointError`);
2. stream the integrated entries in chunks, rehash them (RFC 6962 §2.1) and compare every
   recomputed perfect-subtree hash with the stored one (:class:`TamperedEntry`, naming the
   first bad leaf, or the first leaf under a bad node);
3. compare each checkpoint's root with the root recomputed at its size (:class:`CheckpointError`);
4. check a consistency proof (§2.1.2) between each pair of successive checkpoints.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import AuditError, CheckpointError, ProofError, TamperedEntry
from audit.merkle import CompactRange, NodeId, leaf_hash
from audit.note import NoteVerifier
from audit.proof import verify_consistency
from audit.storage import LogStorage

__all__ = ["verify_log"]


async def verify_log(
    store: LogStorage,
    verifier: NoteVerifier | Sequence[NoteVerifier],
    *,
    origin: str | None = None,
    chunk: int = 10_000,
) -> None:
    """Check every entry, stored hash and checkpoint (signed by a ``verifier``) in ``store``."""
    integrated = await store.integrated_size()
    checkpoints = await _open_checkpoints(store, verifier, origin, integrated)  # step 1
    roots = {c.size: c.root_hash for c in checkpoints}
    tree = CompactRange()
    _check_root(tree.size, tree.root(), roots)
    for start in range(0, integrated, chunk):  # step 2
        entries = await store.entries(start, min(start + chunk, integrated))
        done: list[tuple[NodeId, bytes]] = []
        heads: list[tuple[int, bytes]] = []
        for entry in entries:
            done.extend(tree.append(leaf_hash(entry)))
            if tree.size in roots:
                heads.append((tree.size, tree.root()))
        await _compare_nodes(store, done)  # first, so a bad leaf is named by its index
        for size, root in heads:
            _check_root(size, root, roots)  # step 3
    for old, new in itertools.pairwise(checkpoints):  # step 4
        await _check_consistency(store, old, new)


async def _open_checkpoints(
    store: LogStorage,
    verifier: NoteVerifier | Sequence[NoteVerifier],
    origin: str | None,
    integrated: int,
) -> list[Checkpoint]:
    opened = []
    for stored in await store.checkpoints():
        try:
            checkpoint = open_checkpoint(stored.note, verifier, origin=origin)
        except AuditError as exc:
            what = f"checkpoint at size {stored.size}: {exc}"
            raise CheckpointError(what, size=stored.size) from exc
        if checkpoint.size != stored.size:
            raise CheckpointError(
                f"checkpoint stored at size {stored.size} says size {checkpoint.size}",
                size=stored.size,
            )
        if checkpoint.size > integrated:
            raise CheckpointError(
                f"checkpoint at size {stored.size} is beyond the integrated size {integrated}",
                size=stored.size,
            )
        opened.append(checkpoint)
    return opened


def _check_root(size: int, root: bytes, roots: dict[int, bytes]) -> None:
    expected = roots.get(size)
    if expected is not None and root != expected:
        raise CheckpointError(
            f"checkpoint at size {size} signs root {expected.hex()}, the entries give {root.hex()}",
            size=size,
        )


async def _compare_nodes(store: LogStorage, done: Sequence[tuple[NodeId, bytes]]) -> None:
    """Compare recomputed nodes with stored ones, in the order they were completed."""
    spans: dict[int, tuple[int, int]] = {}
    for (level, idx), _ in done:
        lo, hi = spans.get(level, (idx, idx))
        spans[level] = (min(lo, idx), max(hi, idx + 1))
    stored: dict[NodeId, bytes] = {}
    for level, (lo, hi) in spans.items():
        hashes = await store.node_range(level, lo, hi)
        if len(hashes) != hi - lo:
            _raise_missing(level, lo, hi, hashes)
        stored.update(((level, lo + i), h) for i, h in enumerate(hashes))
    for (level, idx), recomputed in done:
        if stored[(level, idx)] != recomputed:
            _raise_tampered(level, idx, stored[(level, idx)], recomputed)


def _raise_missing(level: int, lo: int, hi: int, found: Sequence[bytes]) -> None:
    raise TamperedEntry(
        f"nodes ({level}, {lo}…{hi - 1}): {hi - lo} expected, {len(found)} stored",
        index=lo << level,
        level=level,
    )


def _raise_tampered(level: int, idx: int, stored: bytes, recomputed: bytes) -> None:
    first = idx << level
    what = f"leaf {idx}" if level == 0 else f"node ({level}, {idx}) over leaves from {first}"
    raise TamperedEntry(
        f"{what}: stored hash {stored.hex()}, the entries give {recomputed.hex()}",
        index=first,
        level=level,
    )


async def _check_consistency(store: LogStorage, old: Checkpoint, new: Checkpoint) -> None:
    proof = await store.consistency_proof(old.size, new.size)
    try:
        verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    except ProofError as exc:
        raise CheckpointError(
            f"checkpoints at sizes {old.size} and {new.size} are inconsistent: {exc}",
            size=new.size,
        ) from exc
