"""``audit.sql.in_transaction``: one transaction in one greenlet, all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.sql import in_transaction
from gateway.db import create_engine


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (v INTEGER)"))
    yield engine
    await engine.dispose()


def _insert_then(after: Callable[[Connection], None]) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (v) VALUES (1)"))
        after(conn)
        return 1

    return work


async def _stored(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT v FROM t"))).scalars())


def _raise(_conn: Connection) -> None:
    raise RuntimeError("the work failed")


def _sleep_on_the_server(conn: Connection) -> None:
    conn.execute(text("SELECT pg_sleep(2)"))


@pytest.mark.asyncio
async def test_the_work_is_committed_and_its_result_returned(engine: AsyncEngine) -> None:
    """A transaction that completes is committed, and the caller gets the work's result."""
    assert await in_transaction(engine, _insert_then(lambda _c: None)) == 1
    assert await _stored(engine) == [1]
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_a_failing_work_leaves_nothing_written(engine: AsyncEngine) -> None:
    """An error in the work rolls the transaction back and reaches the caller."""
    with pytest.raises(RuntimeError, match="the work failed"):
        await in_transaction(engine, _insert_then(_raise))
    assert await _stored(engine) == []
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.asyncio
@pytest.mark.postgres
async def test_a_cancelled_transaction_is_rolled_back_and_its_connection_returned(
    db_url: str, engine: AsyncEngine
) -> None:
    """Cancelled while the database works, the transaction rolls back and frees its connection."""
    if not db_url.startswith("postgresql"):
        pytest.skip("on the inline SQLite nothing in a transaction awaits, so nothing cancels it")
    task = asyncio.create_task(in_transaction(engine, _insert_then(_sleep_on_the_server)))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert await _stored(engine) == []
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
