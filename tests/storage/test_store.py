"""The gateway store on SQLite and PostgreSQL: requests, answers, reports and their audit leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from adapters.base import AnswerStatus
from audit.sql import SqlStorage
from gateway import migrate
from gateway.db import create_engine
from gateway.fanout import Answer
from gateway.models import report_subjects, reports, requests, source_answers
from gateway.store import ReportFilter, Store

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest_asyncio.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated database with the SQL audit log behind the store."""
    engine = create_engine(db_url)
    await migrate.upgrade(engine)
    yield Store(engine, SqlStorage(engine))
    await engine.dispose()


def request_row(request_id: str, region: str = "610102") -> dict[str, object]:
    return {
        "request_id": request_id,
        "fingerprint": "f" * 64,
        "request_json": b"{}",
        "accepted_at": NOW,
        "region_code": region,
        "category": "DIBAO",
        "purpose": "APPLICATION",
        "requested_by": "test",
    }


def answer(source: str, raw: bytes = b'{"ok":true}') -> Answer:
    return Answer(
        source=source,
        category="vehicle",
        department="车管所",
        adapter_version="hedui 0.1.0",
        status=AnswerStatus.OK,
        error="",
        raw=raw,
        as_of=date(2026, 11, 20),
        fetched_at=NOW,
        latency_us=1234,
        attempts=1,
    )


def report_row(
    report_id: str, request_id: str, created_at: datetime = NOW, region: str = "610102"
) -> dict[str, object]:
    return {
        "report_id": report_id,
        "request_id": request_id,
        "created_at": created_at,
        "region_code": region,
        "category": "DIBAO",
        "purpose": "APPLICATION",
        "complete": True,
        "finding_count": 0,
        "sources_ok": 1,
        "sources_total": 1,
        "payload": b"{}",
        "envelope": b"{}",
    }


async def rows(store: Store, table: object) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_accept_then_complete_writes_rows_and_contiguous_leaves(store: Store) -> None:
    """Accepting and completing a request stores everything with leaves 0, 1, 2, 3 in order."""
    assert await store.accept(request_row("r1"), b"accepted") == 0
    leaf = await store.complete(
        "r1",
        [answer("a"), answer("b")],
        [b"a1", b"a2"],
        report_row("rep1", "r1"),
        b"signed",
        ["d1", "d2"],
    )
    assert leaf == 3
    assert await store.audit.entries(0, 4) == [b"accepted", b"a1", b"a2", b"signed"]  # type: ignore[attr-defined]
    stored = await store.find_request("r1")
    assert stored is not None
    assert stored.report_id == "rep1"
    raws = await store.answers("r1")
    assert [r.raw for r in raws] == [b'{"ok":true}'] * 2
    assert [r.leaf_index for r in raws] == [1, 2]


@pytest.mark.asyncio
async def test_duplicate_accept_returns_none_and_appends_no_leaf(store: Store) -> None:
    """A second accept of the same request id is refused and its leaf rolled back."""
    await store.accept(request_row("r1"), b"first")
    assert await store.accept(request_row("r1"), b"second") is None
    assert await store.audit.size() == 1  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_failed_complete_leaves_no_report_answer_or_leaf(store: Store) -> None:
    """When the report insert fails, that write's answers, subjects and leaves are rolled back."""
    await store.accept(request_row("r1"), b"accepted")
    await store.accept(request_row("r2"), b"accepted2")
    await store.complete("r1", [answer("a")], [b"a"], report_row("rep1", "r1"), b"signed", ["d"])
    size = await store.audit.size()  # type: ignore[attr-defined]
    # same report id again for another request: primary-key violation inside the transaction
    assert (
        await store.complete(
            "r2", [answer("a")], [b"a"], report_row("rep1", "r2"), b"signed", ["d"]
        )
        is None
    )
    assert await store.audit.size() == size  # type: ignore[attr-defined]
    assert await rows(store, source_answers) == 1
    assert await rows(store, reports) == 1
    assert await rows(store, report_subjects) == 1
    stored = await store.find_request("r2")
    assert stored is not None
    assert stored.report_id is None
    assert [r.request_id for r in await store.pending_requests()] == ["r2"]


@pytest.mark.asyncio
async def test_list_reports_filters_and_keyset_pagination(store: Store) -> None:
    """Reports list newest first, filter by subject, region prefix and time, and page by key."""
    for i in range(5):
        rid = f"r{i}"
        region = "610102" if i % 2 == 0 else "640104"
        await store.accept(request_row(rid, region), b"x")
        await store.complete(
            rid,
            [],
            [],
            report_row(f"rep{i}", rid, NOW + timedelta(minutes=i), region),
            b"s",
            [f"d{i}", "shared"],
        )
    everything = await store.list_reports(ReportFilter(), 10, None)
    assert [r.report_id for r in everything] == ["rep4", "rep3", "rep2", "rep1", "rep0"]
    first = await store.list_reports(ReportFilter(), 2, None)
    after = (first[-1].created_at, first[-1].report_id)
    second = await store.list_reports(ReportFilter(), 2, after)
    assert [r.report_id for r in second] == ["rep2", "rep1"]
    assert [
        r.report_id for r in await store.list_reports(ReportFilter(subject_digest="d3"), 10, None)
    ] == ["rep3"]
    assert len(await store.list_reports(ReportFilter(subject_digest="shared"), 10, None)) == 5
    assert [
        r.report_id for r in await store.list_reports(ReportFilter(region_prefix="61"), 10, None)
    ] == ["rep4", "rep2", "rep0"]
    window = ReportFilter(
        created_after=NOW + timedelta(minutes=1), created_before=NOW + timedelta(minutes=3)
    )
    assert [r.report_id for r in await store.list_reports(window, 10, None)] == ["rep2", "rep1"]
    assert await rows(store, requests) == 5
