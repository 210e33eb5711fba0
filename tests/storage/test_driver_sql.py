"""Statements run at driver level (audit.sql.driver_executemany, driver_insertmany) store what
SQLAlchemy stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audit.sql import driver_execute, driver_executemany, driver_insertmany, leaves, nodes
from gateway import migrate
from gateway.db import create_engine
from gateway.models import report_subjects, reports, requests, source_answers
from gateway.store import _LINK_REPORT

_AT = datetime(2026, 11, 23, 5, 43, 14, 123456, tzinfo=UTC)
_EAST = timezone(timedelta(hours=8))


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database behind the gateway's engine (inline SQLite, or PostgreSQL)."""
    eng = create_engine(db_url)
    await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


def _rows() -> dict[Table, list[dict[str, Any]]]:
    """Rows with every type the hot path writes: aware datetimes, dates, None, bools, bytes."""
    request = {
        "fingerprint": "f" * 64,
        "request_json": b'{"a":"\xe4\xb8\xad"}',
        "region_code": "610102",
        "category": "DIBAO",
        "purpose": "APPLICATION",
        "requested_by": "窗口 7",
        "leaf_index": 0,
    }
    answer = {
        "source": "vehicle",
        "category": "vehicle",
        "department": "车管所",
        "adapter_version": "hedui 0.1.0",
        "status": "OK",
        "error": "",
        "latency_us": 1234,
        "attempts": 1,
        "raw": b"\x00\xff raw",
        "raw_digest": "sha256:" + "0" * 64,
        "leaf_index": 1,
    }
    times = [_AT, _AT.astimezone(_EAST), _AT.replace(microsecond=0)]
    return {
        requests: [
            {**request, "request_id": f"q{i}", "accepted_at": at} for i, at in enumerate(times)
        ],
        source_answers: [
            {
                **answer,
                "request_id": f"q{i}",
                "as_of": [date(2026, 11, 20), None, date(1999, 1, 1)][i],
                "fetched_at": at,
                "circuit_open": i == 1,
                "throttled": i == 2,
            }
            for i, at in enumerate(times)
        ],
        reports: [
            {
                "report_id": f"r{i}",
                "request_id": f"q{i}",
                "created_at": at,
                "region_code": "610102",
                "category": "DIBAO",
                "purpose": "APPLICATION",
                "complete": i != 1,
                "finding_count": i,
                "sources_ok": 7,
                "sources_total": 7,
                "payload": b"{}",
                "payload_type": "x",
                "signatures": b'[{"keyid":"k","sig":"c2ln"}]',
                "leaf_index": 8 + i,
            }
            for i, at in enumerate(times)
        ],
        report_subjects: [{"report_id": f"r{i}", "subject_digest": "d" * 64} for i in range(3)],
        leaves: [{"idx": i, "entry": bytes([i]) * 40} for i in range(3)],
        nodes: [{"level": i % 2, "idx": 2**40 + i, "hash": bytes(32)} for i in range(3)],
    }


def _write(
    conn: Connection, way: Callable[[Connection, Table, list[dict[str, Any]]], None]
) -> None:
    for table, rows in _rows().items():
        way(conn, table, rows)
    links = [{"b_request_id": f"q{i}", "b_report_id": f"r{i}"} for i in range(3)]
    if way is _by_sqlalchemy:
        conn.execute(_LINK_REPORT, links)
    else:
        driver_executemany(conn, _LINK_REPORT, links)


def _by_sqlalchemy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(table), rows)


_INSERTS = {
    t: insert(t) for t in (requests, source_answers, reports, report_subjects, leaves, nodes)
}


def _by_driver(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    driver_executemany(conn, _INSERTS[table], rows)


def _by_insertmany(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    driver_insertmany(conn, table, rows)


def _raw_contents(conn: Connection) -> dict[str, Sequence[tuple[Any, ...]]]:
    """Every table as the driver returns it, without the autoincrement ``source_answers.id``."""
    found: dict[str, Sequence[tuple[Any, ...]]] = {}
    for table in (requests, source_answers, reports, report_subjects, leaves, nodes):
        columns = ", ".join(c.name for c in table.columns if c.name != "id")
        keys = ", ".join(c.name for c in table.primary_key.columns if c.name != "id")
        order = keys or "request_id"
        rows = conn.exec_driver_sql(f"SELECT {columns} FROM {table.name} ORDER BY {order}")
        found[table.name] = [tuple(r) for r in rows]
    return found


def _empty(conn: Connection) -> None:
    for table in (report_subjects, reports, source_answers, requests, leaves, nodes):
        conn.exec_driver_sql(f"DELETE FROM {table.name}")


@pytest.mark.asyncio
async def test_driver_rows_equal_sqlalchemy_rows(engine: AsyncEngine) -> None:
    """The same rows written by conn.execute and by driver_executemany read back byte-identical."""
    await _assert_both_ways_equal(engine)


@pytest.mark.asyncio
async def test_insertmany_rows_equal_sqlalchemy_rows(engine: AsyncEngine) -> None:
    """driver_insertmany (one unnest INSERT on PostgreSQL) stores the same bytes as well."""
    await _assert_both_ways_equal(engine, _by_insertmany)


@pytest.mark.asyncio
async def test_insertmany_numbers_a_serial_key_in_the_rows_order(engine: AsyncEngine) -> None:
    """source_answers.id (the answers' storage order, which replay reads) follows the rows."""
    rows = _rows()
    answers = [
        {**a, "request_id": "q0", "source": f"s{i}"} for i, a in enumerate(rows[source_answers] * 4)
    ]
    async with engine.begin() as conn:
        await conn.run_sync(driver_insertmany, requests, rows[requests])
        await conn.run_sync(driver_insertmany, source_answers, answers)
        stored = (
            await conn.execute(select(source_answers.c.source).order_by(source_answers.c.id))
        ).scalars()
        assert list(stored) == [f"s{i}" for i in range(12)]


@pytest.mark.asyncio
async def test_insertmany_conflict_raises_sqlalchemy_integrity_error(engine: AsyncEngine) -> None:
    """A unique-key conflict inside one insertmany is SQLAlchemy's IntegrityError too."""
    rows = [{"idx": 5, "entry": b"a"}, {"idx": 5, "entry": b"b"}]
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.run_sync(driver_insertmany, leaves, rows)


@pytest.mark.asyncio
async def test_driver_rows_equal_on_threaded_aiosqlite(tmp_path: Path) -> None:
    """With aiosqlite's own worker thread (exec_driver_sql, not sqlite3 directly) too."""
    eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'threaded.db'}")
    try:
        await migrate.upgrade(eng)
        await _assert_both_ways_equal(eng)
    finally:
        await eng.dispose()


async def _assert_both_ways_equal(
    engine: AsyncEngine,
    way: Callable[[Connection, Table, list[dict[str, Any]]], None] = _by_driver,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_write, _by_sqlalchemy)
        expected = await conn.run_sync(_raw_contents)
        await conn.run_sync(_empty)
    async with engine.begin() as conn:
        await conn.run_sync(_write, way)
        assert await conn.run_sync(_raw_contents) == expected
    assert expected["requests"][0][-2] == "r0"  # the update ran too


@pytest.mark.asyncio
async def test_driver_execute_reads_with_fixed_and_given_binds(engine: AsyncEngine) -> None:
    """driver_execute binds a statement's own literals and the caller's parameters."""
    async with engine.begin() as conn:
        await conn.run_sync(_write, _by_driver)
        query = select(nodes.c.idx).where(nodes.c.level == 0).order_by(nodes.c.idx)
        assert await conn.run_sync(driver_execute, query) == [(2**40,), (2**40 + 2,)]


@pytest.mark.asyncio
async def test_driver_conflict_raises_sqlalchemy_integrity_error(engine: AsyncEngine) -> None:
    """A unique-key conflict at driver level is SQLAlchemy's IntegrityError (the writer's cue)."""
    rows = [{"idx": 5, "entry": b"a"}, {"idx": 5, "entry": b"b"}]
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.run_sync(driver_executemany, _INSERTS[leaves], rows)


def test_driver_refuses_statements_it_cannot_bind() -> None:
    """A statement with a bind the rows do not supply is refused when compiled, not stored."""
    from sqlalchemy.dialects.sqlite import aiosqlite

    from audit.sql import _ENTRIES, _DriverStatement

    with pytest.raises(ValueError, match="cannot run at driver level"):
        _DriverStatement(_ENTRIES, aiosqlite.dialect(), ("start",))
