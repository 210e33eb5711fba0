"""The SQL store's reads: one pooled connection per ``reading()`` block, proofs in one query."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import merkle
from audit.memory import MemoryStorage
from audit.sql import SqlStorage
from audit.testing import sample_entries


async def _filled(engine: AsyncEngine, n: int) -> SqlStorage:
    store = SqlStorage(engine)
    await store.append(sample_entries(n))
    await store.integrate()
    await store.save_checkpoint(n, "note\n")
    return store


@pytest.mark.asyncio
async def test_a_reading_block_checks_out_one_connection(engine: AsyncEngine) -> None:
    """Several reads (nested blocks included) inside reading() share one checkout."""
    store = await _filled(engine, 20)
    checkouts: list[object] = []
    event.listen(engine.sync_engine, "checkout", lambda *a: checkouts.append(a[0]))
    async with store.reading() as log:
        await log.latest_checkpoint()
        await log.inclusion_proof(7, 20)
        await log.entries(7, 8)
        await log.root(20)
        async with log.reading() as nested:
            await nested.consistency_proof(5, 20)
    assert len(checkouts) == 1
    await store.size()
    assert len(checkouts) == 2  # outside the block, each read checks out on its own


@pytest.mark.asyncio
async def test_proofs_at_a_larger_size_read_every_node_in_one_query(engine: AsyncEngine) -> None:
    """Proofs at 1,000 leaves (up to ~20 nodes each) are one statement and match the reference."""
    store = await _filled(engine, 1000)
    hashes = [merkle.leaf_hash(e) for e in sample_entries(1000)]
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for index in (0, 1, 511, 512, 777, 999):
        assert await store.inclusion_proof(index, 1000) == merkle.inclusion_proof(index, hashes)
    for old in (1, 3, 512, 999):
        assert await store.consistency_proof(old, 1000) == merkle.consistency_proof(old, hashes)
    assert len(statements) == 10


@pytest.mark.asyncio
async def test_memory_store_reads_itself() -> None:
    """The in-memory store has no connections to pin: reading() gives the store itself."""
    store = MemoryStorage()
    async with store.reading() as log:
        assert log is store
