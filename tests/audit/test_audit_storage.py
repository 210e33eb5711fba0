"""Both log stores pass the shared conformance suite; the SQL store joins callers' transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import merkle
from audit.memory import MemoryStorage
from audit.merkle import NodeId
from audit.sql import SqlStorage
from audit.storage import LogStorage
from audit.testing import LogStorageConformance, sample_entries


class TestMemoryStorage(LogStorageConformance):
    """The in-memory store."""

    @pytest_asyncio.fixture
    async def store(self) -> AsyncIterator[LogStorage]:
        yield MemoryStorage()


class TestSqlStorage(LogStorageConformance):
    """The SQL store, on SQLite and on PostgreSQL."""

    @pytest_asyncio.fixture
    async def store(self, engine: AsyncEngine) -> AsyncIterator[LogStorage]:
        yield SqlStorage(engine)


def test_stores_satisfy_the_protocol() -> None:
    """Both stores are LogStorage instances at run time too."""
    assert isinstance(MemoryStorage(), LogStorage)


@pytest.mark.asyncio
async def test_memory_store_refuses_a_sql_connection(engine: AsyncEngine) -> None:
    """The in-memory store cannot take part in an SQL transaction, and says so."""
    async with engine.connect() as conn:
        with pytest.raises(ValueError, match="SQL transaction"):
            await MemoryStorage().append([b"x"], conn=conn)


@pytest.mark.asyncio
async def test_leaves_commit_with_the_callers_transaction(engine: AsyncEngine) -> None:
    """Leaves appended on the caller's connection appear when the caller commits."""
    store = SqlStorage(engine)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE report (id INTEGER PRIMARY KEY)"))
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO report (id) VALUES (1)"))
        assert await store.append(sample_entries(2), conn=conn) == 0
    assert await store.entries(0, 2) == sample_entries(2)


@pytest.mark.asyncio
async def test_rollback_leaves_no_leaf(engine: AsyncEngine) -> None:
    """When the caller's transaction rolls back, neither its rows nor its leaves remain."""
    store = SqlStorage(engine)
    await store.append([b"before"])
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE report (id INTEGER PRIMARY KEY)"))
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO report (id) VALUES (1)"))
        await store.append([b"doomed"], conn=conn)
        await conn.rollback()  # e.g. storing the report failed
    assert await store.size() == 1
    assert await store.append([b"after"]) == 1
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM report"))).scalar_one() == 0


@pytest.mark.asyncio
async def test_concurrent_transactions_on_separate_connections(engine: AsyncEngine) -> None:
    """Callers' transactions on separate connections still get distinct, contiguous indices,
    each caller's entries in its order."""
    store = SqlStorage(engine)

    async def one(t: int) -> int:
        async with engine.begin() as conn:
            first = await store.append([b"%d-a" % t, b"%d-b" % t], conn=conn)
            await asyncio.sleep(0.01)  # hold the transaction open while others queue
            return first

    firsts = await asyncio.gather(*(one(t) for t in range(8)))
    assert sorted(firsts) == list(range(0, 16, 2))
    assert await store.size() == 16
    for t, first in enumerate(firsts):
        assert await store.entries(first, first + 2) == [b"%d-a" % t, b"%d-b" % t]


@pytest.mark.asyncio
async def test_integration_runs_alongside_appends(engine: AsyncEngine) -> None:
    """Concurrent integration passes and appends leave a complete, correct tree."""
    store = SqlStorage(engine)
    await store.append(sample_entries(40))
    appends = [store.append(sample_entries(5, 40 + 5 * i)) for i in range(4)]
    passes = [store.integrate(max_batch=9) for _ in range(6)]
    await asyncio.gather(*appends, *passes)
    while await store.integrated_size() < await store.size():
        await store.integrate()
    assert len(await store.node_range(0, 0, 60)) == 60


class _Overtaken(MemoryStorage):
    """A store where another integrator integrates everything while this one reads the border."""

    def __init__(self) -> None:
        super().__init__()
        self.overtake = False

    async def read_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        found = await super().read_nodes(ids)
        if self.overtake:
            self.overtake = False
            assert await self.integrate() == await self.size()
        return found


@pytest.mark.asyncio
async def test_an_overtaken_integration_writes_nothing() -> None:
    """An integration whose read was overtaken by another one's write returns the size the
    other reached, writes no node of its own, and the tree stays the naive RFC 6962 tree."""
    store = _Overtaken()
    await store.append(sample_entries(3))
    await store.integrate()
    await store.append(sample_entries(9)[3:])
    store.overtake = True
    assert await store.integrate(max_batch=2) == 9  # its own pass would have stopped at 5
    # the memory store counts the leaf nodes written: two more would make it 11
    assert await store.integrated_size() == 9
    hashes = [merkle.leaf_hash(e) for e in sample_entries(9)]
    assert await store.root(9) == merkle.root(hashes)
    assert len(store.nodes) == 9 + 4 + 2 + 1  # one per perfect subtree
