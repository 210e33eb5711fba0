"""Database engines: one place that knows the difference between SQLite and PostgreSQL.

SQLite (the embedded default) runs in WAL mode with a single pooled connection: writers queue in
the pool instead of failing with "database is locked", and transactions never interleave.
Its statements run on the event-loop thread (:class:`_InlineSqlite`), not on aiosqlite's worker
thread: a statement in WAL mode takes tens of microseconds, a thread round trip about a hundred,
and with one connection every request queues behind every other one's round trips (see
docs/BENCHMARKS.md). The price: while another *process* holds the write lock, the loop waits
(``busy_timeout``) instead of only this connection. The one slow part of a commit, copying the
log back into the file, runs on a thread instead (:mod:`gateway.sqlite_checkpoint`).
PostgreSQL gets a normal pool; URLs may be given as ``postgresql://…`` and are mapped to asyncpg.
Every checkout is pinged first (:func:`_ping`), so a restarted server costs no failed request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only  # 2.1 also calls it await_; 2.0 knows only this

from gateway.sqlite_checkpoint import BACKSTOP_PAGES, WalCheckpointer

__all__ = ["create_engine", "is_sqlite", "normalise_url"]


def normalise_url(url: str) -> str:
    """Map plain ``sqlite:///`` and ``postgresql://`` URLs to their async drivers."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(
        parsed.drivername, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """True for any SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``url`` tuned for its backend."""
    url = normalise_url(url)
    if not is_sqlite(url):
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            hide_parameters=True,  # SQL errors must not carry requests, answers or reports
        )
        event.listen(engine.sync_engine, "checkout", _ping)  # instead of pool_pre_ping=True
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        hide_parameters=True,
        async_creator=lambda: _InlineSqlite(database or ":memory:")._open(),
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Check a pooled connection before handing it out; a dead one resets the pool.

    This is ``pool_pre_ping`` in one round trip instead of three: SQLAlchemy's asyncpg ping wraps
    its query in BEGIN … ROLLBACK (for PgBouncer); ours is one simple-protocol ``SELECT 1``,
    which prepares nothing, so PgBouncer's transaction mode is fine with it too (``;`` would be
    cheaper still, but asyncpg fails on its empty reply). Measured on a proof's node read at 10⁵
    leaves: about 0.1 ms less per checkout (issue 6).

    Why not drop the ping for ``pool_recycle`` plus a retry on disconnect errors, saving that
    last round trip too? Recycling by age does not notice a PostgreSQL restart: afterwards the
    first statement on every pooled connection fails. Reads could be retried, but a write fails
    inside its transaction (the group-commit writer's, the integrator's), and its callers would
    see the error. An operator must see none after a restart, so every checkout stays checked.
    As with ``pool_pre_ping``, :class:`InvalidatePoolError` makes the pool discard every
    connection opened before now and hand out a new one; if PostgreSQL is still down, the
    connect error is raised.
    """
    try:
        await_only(dbapi_connection.driver_connection.execute("SELECT 1"))
    except Exception as exc:  # any failure: the connection is unusable, so replace it
        raise InvalidatePoolError(f"pool ping failed: {exc!r}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, NORMAL sync (durable in WAL at commit), foreign keys on."""
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ):
        cursor.execute(pragma)
    cursor.close()


class _InlineQueue:
    """Stands in for aiosqlite's job queue: SQLAlchemy puts isolation-level changes on it."""

    def put_nowait(self, job: tuple[Any, Callable[[], Any]]) -> None:
        future, function = job
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            raise
        if future is not None:
            future.set_result(result)


class _InlineSqlite(aiosqlite.Connection):
    """aiosqlite's API, run on the calling thread (aiosqlite's worker thread is never started).

    Its :class:`WalCheckpointer` copies the log into the database file, so commits no longer do.
    """

    def __init__(self, database: str) -> None:
        super().__init__(lambda: sqlite3.connect(database, check_same_thread=False), 64)
        self._tx = _InlineQueue()  # type: ignore[assignment]
        self._checkpointer = WalCheckpointer(database)

    async def _open(self) -> aiosqlite.Connection:
        self._connection = self._connector()
        self._connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        self._checkpointer.start()
        return self

    async def commit(self) -> None:
        await super().commit()
        self._checkpointer.committed()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:
        self._running = False
        self._checkpointer.stop()
        if self._connection is not None:
            self._connection.close()
            self._connection = None
