"""The gateway's PostgreSQL engine survives its connections being killed (a server restart)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audit.sql import SqlStorage, metadata
from gateway.db import create_engine, normalise_url

# PostgreSQL only: the shared ``db_url`` fixture (an emptied database), its PostgreSQL case.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("db_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def pg_url(db_url: str) -> str:
    """The emptied session database as a plain ``postgresql://`` URL."""
    return db_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest_asyncio.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """The gateway's engine on that database, with the audit tables."""
    eng = create_engine(pg_url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


async def _fill_pool(engine: AsyncEngine, n: int) -> None:
    """Check ``n`` connections out at once and return them, so the pool holds ``n``."""

    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(hold() for _ in range(n)))


async def _kill_backends(pg_url: str) -> int:
    """Terminate every other session on the database, as a restart would; wait until gone."""
    database = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", timeout=5)
    try:
        # Pids first, then terminate exactly those: in one WHERE clause PostgreSQL may call
        # pg_terminate_backend before checking the database name.
        find = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
        pids = [int(r["pid"]) for r in await admin.fetch(find, database)]
        await admin.execute("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) AS p", pids)
        left = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])"
        for _ in range(100):
            if not await admin.fetchval(left, pids):
                break
            await asyncio.sleep(0.02)
        return len(pids)
    finally:
        await admin.close()


@pytest.mark.asyncio
async def test_reads_and_writes_succeed_after_backends_are_killed(
    engine: AsyncEngine, pg_url: str
) -> None:
    """After pg_terminate_backend on all pooled connections, the next calls all succeed."""
    store = SqlStorage(engine)
    await store.append([b"before"])
    await _fill_pool(engine, 3)
    assert await _kill_backends(pg_url) >= 3
    sizes = await asyncio.gather(*(store.size() for _ in range(3)))
    assert sizes == [1, 1, 1]
    await _kill_backends(pg_url)
    assert await store.append([b"after"]) == 1  # a write transaction, like the gateway's writer
    await _kill_backends(pg_url)
    async with store.reading() as log:
        assert await log.entries(0, 2) == [b"before", b"after"]


@pytest.mark.asyncio
async def test_a_proof_is_one_statement_on_one_checkout(engine: AsyncEngine) -> None:
    """A proof checks out one connection and reads all its nodes in one statement."""
    store = SqlStorage(engine)
    await store.append([b"x", b"y", b"z"])
    await store.integrate()
    seen: list[str] = []
    event.listen(engine.sync_engine, "checkout", lambda *a: seen.append("checkout"))
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append("statement"))
    await store.inclusion_proof(0, 3)
    await store.consistency_proof(1, 3)
    assert seen == ["checkout", "statement"] * 2


@pytest.mark.asyncio
async def test_without_the_ping_killed_connections_fail(pg_url: str) -> None:
    """Control: a pool without the ping hands out the dead connection, and the query fails."""
    bare = create_async_engine(normalise_url(pg_url))
    try:
        await _fill_pool(bare, 1)
        await _kill_backends(pg_url)
        with pytest.raises(DBAPIError):
            async with bare.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await bare.dispose()
