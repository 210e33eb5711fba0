"""The SQL log store (SQLAlchemy 2 async; SQLite and PostgreSQL) and its tables.

Tables live on :data:`metadata`, which the project's Alembic migrations include:

* ``audit_leaves(idx, entry)`` — the entries, sequenced at append, contiguous from 0;
* ``audit_nodes(level, idx, hash)`` — hashes of the perfect subtrees integrated so far
  (level 0 holds the leaf hashes, so the integrated size is ``max(idx) + 1`` at level 0);
* ``audit_checkpoints(size, note, signed_at)`` — signed checkpoint notes, one per tree size.

Sequencing is serialised so no two appends get the same index: PostgreSQL takes a
transaction-scoped advisory lock; SQLite takes its database write lock with a first write
statement before reading ``max(idx)``. Integration passes are serialised the same way, on a lock
of their own, so appends never wait for hashing on PostgreSQL.

Reads are single statements over rows that never change once written, so on PostgreSQL they run
in autocommit mode: no BEGIN and ROLLBACK round trips around them. :meth:`SqlStorage.reading`
serves several reads in a row on one pooled connection (one checkout, one pool ping).

The hot statements (appends, the integrator's reads and node inserts, and through
:func:`driver_executemany` the gateway's group commit) are compiled once and run at driver
level, with the values SQLAlchemy would send (see :func:`driver_executemany`).
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Self, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn  # what AsyncConnection.run_sync is built on

from audit.errors import CheckpointError, LogRangeError
from audit.merkle import NodeId
from audit.storage import IntegrationTx, StoredCheckpoint, TreeStore

__all__ = [
    "SqlStorage",
    "checkpoints_table",
    "driver_execute",
    "driver_executemany",
    "in_transaction",
    "leaves",
    "metadata",
    "nodes",
]

metadata = MetaData()

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: faster appends and range scans.
_Index = BigInteger().with_variant(Integer(), "sqlite")

leaves = Table(
    "audit_leaves",
    metadata,
    Column("idx", _Index, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
)
nodes = Table(
    "audit_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)
checkpoints_table = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=True),
)

# pg_advisory_xact_lock keys: "hedui" in ASCII, then 1 = sequencing, 2 = integration.
_APPEND_LOCK = 0x6865647569_0001
_INTEGRATE_LOCK = 0x6865647569_0002


class _DriverStatement:
    """A Core statement compiled once for one dialect: its SQL text and how to bind a row.

    The text and the bind processors are SQLAlchemy's own (its compiler's ``positiontup`` and
    ``_bind_processors``), so the driver receives exactly what ``Connection.execute`` would send.
    """

    __slots__ = ("_convert", "_fixed", "_get", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = cast(
            "SQLCompiler",
            statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=bool(keys)),
        )
        names = tuple(compiled.positiontup or ())
        fixed = {n: compiled.binds[n] for n in names if n not in keys}
        if (
            not compiled.positional
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or not set(keys) <= set(names)
            or any(b.required or b.callable is not None for b in fixed.values())
        ):
            raise ValueError(f"cannot run at driver level with keys {keys}: {compiled.string}")
        self.sql = compiled.string
        self._fixed = {n: b.value for n, b in fixed.items()}
        self._get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            operator.itemgetter(*names)
            if len(names) > 1
            else lambda row: tuple(row[n] for n in names)
        )
        processors = cast("Mapping[str, Callable[[Any], Any]]", compiled._bind_processors)
        self._convert = tuple(
            (i, processors[n])
            for i, n in enumerate(names)
            if n in processors and not _stored_as_is(compiled.binds[n].type, dialect)
        )

    def params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for one row (as ``Connection.execute`` binds them)."""
        values = self._get({**self._fixed, **row} if self._fixed else row)
        if not self._convert:
            return values
        converted = list(values)
        for i, process in self._convert:
            converted[i] = process(converted[i])
        return tuple(converted)


def _stored_as_is(kind: TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether the driver stores a column's raw Python value as its bind processor's result.

    sqlite3 stores ``bytes`` as a BLOB just as it stores the ``memoryview`` (``sqlite3.Binary``)
    that SQLAlchemy's LargeBinary processor wraps them in, and ``True``/``False`` as the integers
    1/0 that its Boolean processor makes of them: one call per value saved (a tenth of the
    integrator's CPU, which binds a 32-byte hash per node; 15 booleans per verification).
    tests/storage/test_driver_sql.py checks the stored rows equal SQLAlchemy's.
    """
    return dialect.name == "sqlite" and isinstance(kind, LargeBinary | Boolean)


@functools.lru_cache(maxsize=256)
def _driver_statement(
    dialect: Dialect, statement: ClauseElement, keys: tuple[str, ...]
) -> _DriverStatement:
    return _DriverStatement(statement, dialect, keys)


def driver_executemany(
    conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``conn.execute(statement, rows)`` for a fraction of SQLAlchemy's CPU; same values stored.

    For the hot writes (the group commit's updates; :func:`driver_insertmany` builds on it). Per
    statement, SQLAlchemy derives a cache key, sets up a compiled execution context and builds
    each row's parameters through ``construct_params``, and on SQLite crosses the aiosqlite
    adaptation (greenlet switches) per cursor call. Here the statement is compiled once per
    (dialect, statement, keys), each row passes only through its columns' bind processors, and
    the rows go to the driver's executemany (:func:`_run_driver`). Measured (issue 6, CPU per
    request of the group-commit writer, medians of 3): batches of one accept and one complete
    job, SQLite 1.51 → 0.77 ms, PostgreSQL 2.37 → 1.97 ms; batches of 30 jobs 0.49 → 0.37 and
    0.37 → 0.26 ms; integration 18.9 → 13.1 µs per leaf on SQLite, 16.8 → 12.8 on PostgreSQL.
    ``statement`` must be built once (a module constant) and every row must have the same
    keys; tests/storage/test_driver_sql.py checks the stored rows equal SQLAlchemy's.
    """
    if rows:
        compiled = _driver_statement(conn.dialect, statement, tuple(rows[0]))
        _run_driver(conn, compiled.sql, [compiled.params(row) for row in rows])


def driver_insertmany(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``: one statement on PostgreSQL.

    On PostgreSQL the rows go in as one array per column, ``INSERT … SELECT … FROM unnest(…)``,
    so the server plans and runs one statement instead of one per row (an executemany also
    costs one round trip, but PostgreSQL executes the insert once per row). Elsewhere this is
    :func:`driver_executemany` of the table's INSERT.
    """
    if not rows:
        return
    keys = tuple(rows[0])
    if conn.dialect.name != "postgresql":
        driver_executemany(conn, _plain_insert(table), rows)
        return
    columns = {k: [row[k] for row in rows] for k in keys}
    driver_execute(conn, _unnest_insert(table, keys), columns)


@functools.cache
def _plain_insert(table: Table) -> ClauseElement:
    return insert(table)


@functools.cache
def _unnest_insert(table: Table, keys: tuple[str, ...]) -> ClauseElement:
    """``INSERT INTO table (keys) SELECT … FROM unnest(:k1, :k2, …) WITH ORDINALITY AS
    given(keys, ord) ORDER BY ord``, each array typed as its column. In the rows' order, so a
    serial key (``source_answers.id``, the answers' storage order) numbers them as given."""
    arrays = [bindparam(k, type_=ARRAY(table.c[k].type)) for k in keys]
    given = (
        func.unnest(*arrays).table_valued(*keys, with_ordinality="ord").render_derived(name="given")
    )
    rows = select(*(given.c[k] for k in keys)).order_by(given.c.ord)
    return insert(table).from_select(list(keys), rows)


def driver_execute(
    conn: Connection, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """``conn.execute(statement, params).all()`` as :func:`driver_executemany` runs it.

    The rows are the driver's own (no result processors): meant for integers and bytes.
    """
    row = params or {}
    compiled = _driver_statement(conn.dialect, statement, tuple(row))
    return _run_driver(conn, compiled.sql, compiled.params(row))


def _run_driver(
    conn: Connection, sql: str, params: tuple[Any, ...] | list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Run on sqlite3 itself when it lives on this thread, else through ``exec_driver_sql``.

    An aiosqlite connection whose worker thread never started (the gateway's inline SQLite,
    gateway/db.py) runs its calls on this thread already: calling sqlite3 directly skips only
    the adaptation, in the same transaction. Errors become SQLAlchemy's (``IntegrityError`` …).
    """
    raw = _sqlite_on_this_thread(conn)
    if raw is None:
        result = conn.exec_driver_sql(sql, params)
        return [tuple(r) for r in result] if result.returns_rows else []
    try:
        if isinstance(params, list):
            raw.executemany(sql, params)
            return []
        return raw.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(
            sql, params, exc, sqlite3.Error, hide_parameters=True, dialect=conn.dialect
        ) from exc


def _sqlite_on_this_thread(conn: Connection) -> sqlite3.Connection | None:
    """``conn``'s sqlite3 connection if aiosqlite never started its worker thread, else None."""
    driver = conn.connection.driver_connection
    thread = getattr(driver, "_thread", None)
    if thread is None or thread.ident is not None:  # not aiosqlite, or its thread runs
        return None
    raw = getattr(driver, "_connection", None)
    return raw if isinstance(raw, sqlite3.Connection) else None


_T = TypeVar("_T")


async def in_transaction(engine: AsyncEngine, work: Callable[[Connection], _T]) -> _T:
    """``work(conn)`` in one transaction on a pooled connection of ``engine``; its result.

    Checkout, BEGIN, the work, COMMIT (ROLLBACK if it raises) and the return to the pool run in
    one greenlet, as ``AsyncConnection.run_sync`` runs its function: the driver's awaits (asyncpg's
    round trips, a wait for the pool) still yield to the event loop, and nothing else does.
    ``async with engine.begin() as conn: await conn.run_sync(work)`` does the same in three
    greenlet trips and, on leaving, closes the connection in a task of its own behind
    ``asyncio.shield``: two more turns of the event loop before the caller goes on, and a busy
    loop's turn runs every callback that is ready. For the gateway's group commit at half of
    saturation (bench ``latency``'s load, in-process) that wait was 0.3 ms at the median and
    0.9 ms at p90 per transaction, and a request waits out two of them (issue 6).
    """
    return await greenlet_spawn(_transaction_on, engine.sync_engine, work)


def _transaction_on(engine: Engine, work: Callable[[Connection], _T]) -> _T:
    with engine.begin() as conn:
        return work(conn)


@asynccontextmanager
async def _connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection of ``engine``, given back to the pool by the caller's own task.

    ``async with engine.connect()`` closes the connection in a task of its own behind
    ``asyncio.shield``, so that a cancellation cannot cut the close short: two more turns of the
    event loop while the connection (on SQLite the only one) stays checked out. The integrator's
    passes and reads run on the serving loop beside the group commit, which waits for that
    connection. With the close done here, ``bench steps`` gave a p99 over the slowest source of
    15.8–18.0 ms against 17.0–23.3 (6 alternated pairs, lower in 5; p50 unchanged; issue 6).
    On the inline SQLite the close never suspends, so nothing can cut it short; on asyncpg a
    cancellation during the close reaches SQLAlchemy's pool, which gives the connection's place
    back (invalidated) and re-raises.
    """
    conn = await engine.connect()
    try:
        yield conn
    finally:
        await conn.close()


async def _lock(conn: AsyncConnection, key: int, table: Table) -> None:
    """Serialise writers for the rest of the caller's transaction."""
    await conn.run_sync(_lock_on, key, table)


def _lock_on(conn: Connection, key: int, table: Table) -> None:
    """:func:`_lock` on a synchronous connection (inside ``run_sync``)."""
    driver_execute(conn, _lock_statement(conn.dialect.name == "postgresql", key, table))


@functools.cache
def _lock_statement(postgresql: bool, key: int, table: Table) -> ClauseElement:
    """The statement that takes the lock: built once, so :func:`driver_execute` compiles it once."""
    if postgresql:
        return select(func.pg_advisory_xact_lock(key))
    # SQLite: a write statement takes the database write lock now, waiting if needed. It deletes
    # nothing; the condition is on the primary key's first column so that it is an index probe,
    # not a scan of a table that grows with the log.
    first = next(iter(table.primary_key.columns))
    return delete(table).where(first < 0)


_LOG_TOP = select(func.max(leaves.c.idx))
_INTEGRATED_TOP = select(func.max(nodes.c.idx)).where(nodes.c.level == 0)
_INSERT_LEAVES = insert(leaves)


def _append_after_top() -> ClauseElement:
    """PostgreSQL: the next index and the leaves in one statement, returning their indexes.

    ``INSERT … SELECT top.last + given.ord, given.entry FROM (SELECT coalesce(max(idx), -1) AS
    last …) AS top, unnest(:entries) WITH ORDINALITY AS given(entry, ord)``: one round trip
    instead of a ``max(idx)`` and then an executemany. It runs after the append lock's own
    statement, and under READ COMMITTED each statement takes a new snapshot, so it sees every
    leaf the lock's previous holder committed (what the separate ``max(idx)`` saw).
    """
    given = (
        func.unnest(bindparam("entries", type_=ARRAY(LargeBinary)))
        .table_valued("entry", with_ordinality="ord")
        .render_derived(name="given")
    )
    last = func.coalesce(func.max(leaves.c.idx), literal_column("-1"))
    top = select(last.label("last")).subquery("top")
    rows = select(top.c.last + given.c.ord, given.c.entry)
    return insert(leaves).from_select(["idx", "entry"], rows).returning(leaves.c.idx)


_APPEND_AFTER_TOP = _append_after_top()
_ENTRIES = (
    select(leaves.c.entry)
    .where(leaves.c.idx >= bindparam("start"), leaves.c.idx < bindparam("end"))
    .order_by(leaves.c.idx)
)


def _next_index(conn: Connection, top_query: ClauseElement) -> int:
    """One past the greatest index ``top_query`` (a ``max(idx)``) finds; 0 for none."""
    ((top,),) = driver_execute(conn, top_query)
    return 0 if top is None else int(top) + 1


async def _integrated_size(conn: AsyncConnection) -> int:
    return await conn.run_sync(_next_index, _INTEGRATED_TOP)


def _start_integration(conn: Connection) -> int:
    """Take the integration lock, then read the integrated size (one trip through ``run_sync``)."""
    _lock_on(conn, _INTEGRATE_LOCK, nodes)
    return _next_index(conn, _INTEGRATED_TOP)


# The wanted ids go in as two arrays, so every proof runs the same statement text: asyncpg
# prepares it once per connection and PostgreSQL keeps its plan. A row-value IN list rendered
# per call cost ~0.3 ms of SQLAlchemy CPU plus a server-side plan per list length (issue 6).
# CAST, not ``::``, because ``:levels::smallint[]`` would confuse text()'s bind-name parsing.
_PG_READ_NODES = text(
    "SELECT n.level, n.idx, n.hash"
    " FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS w(level, idx)"
    f" JOIN {nodes.name} AS n ON n.level = w.level AND n.idx = w.idx"
)


async def _read_nodes(conn: AsyncConnection, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
    return await conn.run_sync(_read_nodes_on, ids) if ids else {}


def _read_nodes_on(conn: Connection, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
    """:func:`_read_nodes` on the synchronous side of a connection (inside ``run_sync``)."""
    if not ids:
        return {}
    if conn.dialect.name != "postgresql":
        return _read_nodes_sqlite(conn, list(ids))
    levels, idxs = [lv for lv, _ in ids], [i for _, i in ids]
    rows = cast(
        "Iterable[tuple[int, int, bytes]]",
        conn.execute(_PG_READ_NODES, {"levels": levels, "idxs": idxs}),
    )
    return {(int(lv), int(i)): bytes(h) for lv, i, h in rows}


def _read_nodes_sqlite(conn: Connection, ids: list[NodeId]) -> dict[NodeId, bytes]:
    """One primary-key probe per wanted node: ``(level = ? AND idx = ?) OR …`` at driver level.

    SQLite scans for a row-value IN, and ``level IN … AND idx IN …`` fetches the cross product
    (~160 rows for a proof at 10⁶ leaves); compiling an OR expression per call costs more than
    the query (docs/BENCHMARKS.md: inclusion proof 2.9 → 0.2 ms). Chunks keep the OR chain
    far below SQLite's expression depth limit (1000).
    """
    found: dict[NodeId, bytes] = {}
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        where = " OR ".join(["(level = ? AND idx = ?)"] * len(chunk))
        sql = f"SELECT level, idx, hash FROM {nodes.name} WHERE {where}"
        rows = _run_driver(conn, sql, tuple(v for pair in chunk for v in pair))
        found.update(((int(lv), int(i)), bytes(h)) for lv, i, h in rows)
    return found


async def _entries(conn: AsyncConnection, start: int, end: int) -> list[bytes]:
    return await conn.run_sync(_entries_on, start, end)


def _entries_on(conn: Connection, start: int, end: int) -> list[bytes]:
    rows = driver_execute(conn, _ENTRIES, {"start": start, "end": end})
    return [bytes(e) for (e,) in rows]


class _SqlTx:
    """An integration pass inside one transaction holding the integration lock."""

    def __init__(self, conn: AsyncConnection, integrated_size: int) -> None:
        self._conn = conn
        self.integrated_size = integrated_size

    async def write_nodes(self, written: Sequence[tuple[NodeId, bytes]]) -> None:
        rows = [{"level": lv, "idx": i, "hash": h} for (lv, i), h in written]
        await self._conn.run_sync(driver_insertmany, nodes, rows)


class SqlStorage(TreeStore):
    """The log in three tables, on any engine the caller created (tables from :data:`metadata`)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = _read_engine(engine)

    def _connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A pooled connection for one read."""
        return _connection(self._reader)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlStorage]:
        """This store, serving its reads one at a time on one pooled connection.

        One checkout (and one pool ping) instead of one per read. Only for reads: hold no other
        connection of the same engine meanwhile (SQLite has a pool of one).
        """
        async with self._connect() as conn:
            yield _PinnedSqlStorage(self, conn)

    async def append(self, entries: Sequence[bytes], conn: AsyncConnection | None = None) -> int:
        """Sequence ``entries``; with ``conn``, inside the caller's transaction (it commits).

        The sequencing lock is held until that transaction ends, so append last, just before
        committing. Use READ COMMITTED on PostgreSQL (the default); on SQLite, write before
        you read in that transaction, or SQLite may refuse the lock upgrade (``database is
        locked``). Either way a race fails loudly on the primary key, never with a duplicate.
        """
        if conn is not None:
            return await self._append(conn, entries)
        return await in_transaction(
            self._engine, functools.partial(self.append_on, entries=entries)
        )

    async def _append(self, conn: AsyncConnection, entries: Sequence[bytes]) -> int:
        return await conn.run_sync(self.append_on, entries)

    def append_on(self, conn: Connection, entries: Sequence[bytes]) -> int:
        """:meth:`append` on the synchronous side of the caller's transaction (``run_sync``).

        For a writer that runs its whole transaction in one ``AsyncConnection.run_sync`` call:
        one trip through SQLAlchemy's async adaptation instead of one per statement.
        """
        _lock_on(conn, _APPEND_LOCK, leaves)
        if entries and conn.dialect.name == "postgresql":  # one round trip less per append
            given = {"entries": [bytes(e) for e in entries]}
            return min(int(idx) for (idx,) in driver_execute(conn, _APPEND_AFTER_TOP, given))
        first = _next_index(conn, _LOG_TOP)
        rows = [{"idx": first + i, "entry": bytes(e)} for i, e in enumerate(entries)]
        driver_executemany(conn, _INSERT_LEAVES, rows)
        return first

    async def size(self) -> int:
        async with self._connect() as conn:
            return await conn.run_sync(_next_index, _LOG_TOP)

    async def integrated_size(self) -> int:
        async with self._connect() as conn:
            return await _integrated_size(conn)

    async def entries(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start <= end:
            raise LogRangeError(f"entries [{start}, {end}): not a range")
        async with self._connect() as conn:
            found = await _entries(conn, start, end)
        if len(found) != end - start:
            raise LogRangeError(f"entries [{start}, {end}): the log holds {len(found)} of them")
        return found

    async def read_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        async with self._connect() as conn:
            return await _read_nodes(conn, ids)

    async def node_range(self, level: int, start: int, end: int) -> list[bytes]:
        query = select(nodes.c.hash).where(
            nodes.c.level == level, nodes.c.idx >= start, nodes.c.idx < end
        )
        async with self._connect() as conn:
            rows = await conn.execute(query.order_by(nodes.c.idx))
            return [bytes(h) for h in rows.scalars()]

    @asynccontextmanager
    async def integration(self) -> AsyncIterator[IntegrationTx]:
        async with _connection(self._engine) as conn, conn.begin():
            yield _SqlTx(conn, await conn.run_sync(_start_integration))

    async def save_checkpoint(
        self, size: int, note_text: str, *, signed_at: datetime | None = None
    ) -> None:
        """Store a checkpoint; saving the same note again is a no-op, a different one an error."""
        async with _connection(self._engine) as conn, conn.begin():
            await _lock(conn, _INTEGRATE_LOCK, nodes)
            query = select(checkpoints_table.c.note).where(checkpoints_table.c.size == size)
            old = (await conn.execute(query)).scalar_one_or_none()
            if old is None:
                at = None if signed_at is None else signed_at.astimezone(UTC)
                row = {"size": size, "note": note_text, "signed_at": at}
                await conn.execute(insert(checkpoints_table), [row])
            elif old != note_text:
                raise CheckpointError(f"a different checkpoint is stored at size {size}", size=size)

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = await self._checkpoints(latest=True)
        return found[0] if found else None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        return await self._checkpoints(latest=False)

    async def _checkpoints(self, *, latest: bool) -> list[StoredCheckpoint]:
        t = checkpoints_table
        query = select(t.c.size, t.c.note, t.c.signed_at)
        query = query.order_by(t.c.size.desc()).limit(1) if latest else query.order_by(t.c.size)
        async with self._connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredCheckpoint(int(r.size), r.note, _utc(r.signed_at)) for r in rows]


class _PinnedSqlStorage(SqlStorage):
    """A :class:`SqlStorage` whose reads all run on one connection (see ``reading``)."""

    def __init__(self, store: SqlStorage, conn: AsyncConnection) -> None:
        # Not super().__init__: deriving another read engine costs ~0.4 ms; share the store's.
        self._engine, self._reader, self._conn = store._engine, store._reader, conn

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        yield self._conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Self]:
        yield self  # already pinned: nesting must not take a second connection


def _read_engine(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for reads: on PostgreSQL in autocommit mode, sharing the engine's pool.

    Every read is one statement over rows that are never updated once written, so a transaction
    around it adds nothing but a BEGIN and a ROLLBACK: two of the three round trips a read took.
    SQLite's driver begins no transaction for a SELECT anyway.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _utc(at: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; the store writes and means UTC."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)
