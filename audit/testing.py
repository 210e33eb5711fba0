"""The storage conformance suite every log backend must pass, shipped for backend authors.

Subclass :class:`LogStorageConformance` in a test module and give it a ``store`` fixture that
yields a fresh, empty store::

    class TestMyBackend(LogStorageConformance):
        @pytest_asyncio.fixture
        async def store(self) -> AsyncIterator[LogStorage]:
            yield MyBackend(...)

Results are checked against :mod:`audit.merkle` over the same entries held in a list, and every
proof against the verifiers in :mod:`audit.proof`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from audit import merkle
from audit.errors import CheckpointError, LogRangeError
from audit.proof import verify_consistency, verify_inclusion
from audit.storage import LogStorage

__all__ = ["LogStorageConformance", "sample_entries"]

_SIZE = 33  # spans perfect (32) and ragged trees; every proof up to it is checked


def sample_entries(n: int, start: int = 0) -> list[bytes]:
    """Distinct entries of varied length, including the empty one."""
    return [b"entry-%d-" % i * (i % 3) for i in range(start, start + n)]


async def _filled(store: LogStorage, n: int = _SIZE) -> list[bytes]:
    """Append ``n`` entries in uneven batches, integrate them all; return their leaf hashes."""
    entries = sample_entries(n)
    for lo in range(0, n, 7):
        await store.append(entries[lo : lo + 7])
    await store.integrate(max_batch=n)
    return [merkle.leaf_hash(e) for e in entries]


class LogStorageConformance:
    """Behaviour every :class:`~audit.storage.LogStorage` shares; needs a ``store`` fixture."""

    @pytest.mark.asyncio
    async def test_empty_store(self, store: LogStorage) -> None:
        """An empty store has size 0, the empty root and no checkpoints."""
        assert (await store.size(), await store.integrated_size()) == (0, 0)
        assert await store.root(0) == merkle.EMPTY_ROOT
        assert await store.latest_checkpoint() is None
        assert await store.checkpoints() == []

    @pytest.mark.asyncio
    async def test_append_assigns_contiguous_indices(self, store: LogStorage) -> None:
        """Each append returns the index of its first entry; indices follow without gaps."""
        assert await store.append(sample_entries(3)) == 0
        assert await store.append([]) == 3
        assert await store.append(sample_entries(2, 3)) == 3
        assert await store.size() == 5
        assert await store.entries(0, 5) == sample_entries(5)
        assert await store.entries(2, 4) == sample_entries(2, 2)

    @pytest.mark.asyncio
    async def test_entries_beyond_log_raise(self, store: LogStorage) -> None:
        """Asking for entries past the end raises LogRangeError."""
        await store.append(sample_entries(2))
        with pytest.raises(LogRangeError):
            await store.entries(1, 3)

    @pytest.mark.asyncio
    async def test_concurrent_appends_never_share_an_index(self, store: LogStorage) -> None:
        """Concurrent appends get disjoint, contiguous index ranges covering the log."""
        batches = [[b"%d/%d" % (t, i) for i in range(5)] for t in range(12)]
        firsts = await asyncio.gather(*(store.append(b) for b in batches))
        assert sorted(firsts) == list(range(0, 60, 5))
        for first, batch in zip(firsts, batches, strict=True):
            assert await store.entries(first, first + 5) == batch

    @pytest.mark.asyncio
    async def test_integrate_is_bounded_and_incremental(self, store: LogStorage) -> None:
        """integrate() hashes at most max_batch leaves per call, continuing where it stopped."""
        await store.append(sample_entries(10))
        assert await store.integrate(max_batch=4) == 4
        assert await store.integrated_size() == 4
        assert await store.integrate(max_batch=4) == 8
        assert await store.integrate(max_batch=100) == 10
        assert await store.integrate(max_batch=100) == 10
        hashes = [merkle.leaf_hash(e) for e in sample_entries(10)]
        assert await store.root(10) == merkle.root(hashes)

    @pytest.mark.asyncio
    async def test_concurrent_integrations_write_each_node_once(self, store: LogStorage) -> None:
        """Integrators racing over the same pending leaves leave one correct tree: an integrator
        that read before another one wrote writes nothing and reports the size reached."""
        await store.append(sample_entries(5))
        await store.integrate(max_batch=2)
        await store.append(sample_entries(13)[5:])
        sizes = await asyncio.gather(*(store.integrate(max_batch=5) for _ in range(4)))
        assert all(size in (7, 12, 13) for size in sizes), sizes
        while await store.integrate(max_batch=5) < 13:
            pass
        hashes = [merkle.leaf_hash(e) for e in sample_entries(13)]
        assert await store.integrated_size() == 13
        for n in (2, 7, 12, 13):
            assert await store.root(n) == merkle.root(hashes[:n])
        assert await store.node_range(0, 0, 13) == hashes

    @pytest.mark.asyncio
    async def test_sizes_beyond_integration_raise(self, store: LogStorage) -> None:
        """Roots and proofs past the integrated size raise LogRangeError."""
        await store.append(sample_entries(6))
        await store.integrate(max_batch=4)
        for call in (store.root(5), store.inclusion_proof(0, 5), store.consistency_proof(2, 6)):
            with pytest.raises(LogRangeError):
                await call
        with pytest.raises(LogRangeError):
            await store.consistency_proof(5, 5)

    @pytest.mark.asyncio
    async def test_roots_at_every_size(self, store: LogStorage) -> None:
        """root(n) equals MTH of the first n leaves for every integrated n."""
        hashes = await _filled(store)
        for n in range(_SIZE + 1):
            assert await store.root(n) == merkle.root(hashes[:n])

    @pytest.mark.asyncio
    async def test_inclusion_proofs_at_every_size(self, store: LogStorage) -> None:
        """Every inclusion proof equals the reference one and verifies."""
        hashes = await _filled(store)
        for n in range(1, _SIZE + 1):
            root = merkle.root(hashes[:n])
            for i in range(n):
                proof = await store.inclusion_proof(i, n)
                assert proof == merkle.inclusion_proof(i, hashes[:n])
                verify_inclusion(hashes[i], i, n, proof, root)

    @pytest.mark.asyncio
    async def test_consistency_proofs_between_every_size(self, store: LogStorage) -> None:
        """Every consistency proof equals the reference one and verifies."""
        hashes = await _filled(store)
        roots = [merkle.root(hashes[:n]) for n in range(_SIZE + 1)]
        for new in range(_SIZE + 1):
            for old in range(new + 1):
                proof = await store.consistency_proof(old, new)
                assert proof == merkle.consistency_proof(old, hashes[:new])
                verify_consistency(old, new, roots[old], roots[new], proof)

    @pytest.mark.asyncio
    async def test_nodes_are_stored_per_perfect_subtree(self, store: LogStorage) -> None:
        """Integrated leaves and perfect subtrees are readable by (level, index)."""
        hashes = await _filled(store, 8)
        assert await store.node_range(0, 0, 8) == hashes
        assert await store.node_range(3, 0, 1) == [merkle.root(hashes)]
        ids = [(1, 3), (2, 0), (4, 0)]
        assert await store.read_nodes(ids) == {
            (1, 3): merkle.root(hashes[6:8]),
            (2, 0): merkle.root(hashes[:4]),
        }

    @pytest.mark.asyncio
    async def test_checkpoints_are_kept_in_size_order(self, store: LogStorage) -> None:
        """Checkpoints list by size; the latest is the largest; signed_at survives as UTC."""
        at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
        await store.save_checkpoint(5, "five\n", signed_at=at)
        await store.save_checkpoint(2, "two\n")
        latest = await store.latest_checkpoint()
        assert latest is not None
        assert (latest.size, latest.note, latest.signed_at) == (5, "five\n", at)
        assert [c.size for c in await store.checkpoints()] == [2, 5]

    @pytest.mark.asyncio
    async def test_checkpoint_at_a_size_is_written_once(self, store: LogStorage) -> None:
        """Saving the same note again is harmless; a different note at that size is refused."""
        await store.save_checkpoint(3, "three\n")
        await store.save_checkpoint(3, "three\n")
        with pytest.raises(CheckpointError):
            await store.save_checkpoint(3, "other\n")
        assert [c.note for c in await store.checkpoints()] == ["three\n"]

    @pytest.mark.asyncio
    async def test_reads_in_a_reading_block_match(self, store: LogStorage) -> None:
        """Inside reading(), sizes, entries, roots, proofs and checkpoints read as outside it."""
        hashes = await _filled(store, 9)
        await store.save_checkpoint(9, "nine\n")
        async with store.reading() as log:
            assert (await log.size(), await log.integrated_size()) == (9, 9)
            assert await log.entries(2, 5) == sample_entries(3, 2)
            assert await log.root(9) == merkle.root(hashes)
            assert await log.inclusion_proof(4, 9) == merkle.inclusion_proof(4, hashes)
            assert await log.consistency_proof(3, 9) == merkle.consistency_proof(3, hashes)
            assert await log.node_range(0, 0, 9) == hashes
            assert [c.size for c in await log.checkpoints()] == [9]
            async with log.reading() as nested:
                assert await nested.size() == 9
        assert await store.size() == 9
