"""The gateway store on SQLite and PostgreSQL: requests, answers, reports and their audit leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_only

from adapters.base import AnswerStatus
from audit.sql import SqlStorage
from gateway import migrate
from gateway.db import create_engine
from gateway.fanout import Answer
from gateway.models import report_subjects, reports, requests, source_answers
from gateway.store import ReportFilter, Store
from gateway.writer import Writer

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
        "payload_type": "application/vnd.hedui.report.v1+json",
        "signatures": b"[]",
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


class CountingAudit:
    """The SQL audit log, counting appends (one per transaction) and failing on demand."""

    def __init__(self, storage: SqlStorage) -> None:
        self.storage = storage
        self.appends = 0
        self.failure: Exception | None = None
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None  # set: appends wait for it

    async def append(self, entries: Sequence[bytes], conn: AsyncConnection | None = None) -> int:
        return await self.storage.append(entries, conn)

    def append_on(self, conn: Connection, entries: Sequence[bytes]) -> int:
        """The writer's append (inside its ``run_sync``): the gate is awaited as SQL would be."""
        self.appends += 1
        self.entered.set()
        if self.gate is not None:
            await_only(self.gate.wait())
        if self.failure is not None:
            raise self.failure
        return self.storage.append_on(conn, entries)


@pytest_asyncio.fixture
async def counted(store: Store) -> AsyncIterator[tuple[Store, CountingAudit]]:
    """A store on the same database whose audit appends are counted."""
    audit = CountingAudit(SqlStorage(store.engine))
    counted = Store(store.engine, audit)
    yield counted, audit
    await counted.close()


async def entry_at(store: Store, leaf: int) -> bytes:
    return (await SqlStorage(store.engine).entries(leaf, leaf + 1))[0]


async def log_size(store: Store) -> int:
    return await SqlStorage(store.engine).size()


@pytest.mark.asyncio
async def test_concurrent_accepts_commit_together_with_contiguous_leaves(
    counted: tuple[Store, CountingAudit],
) -> None:
    """Concurrent accepts share one transaction; leaves are 0..n-1, each its own request's."""
    store, audit = counted
    ids = [f"r{i}" for i in range(50)]
    leaves = await asyncio.gather(*(store.accept(request_row(r), r.encode()) for r in ids))
    assert sorted(leaves) == list(range(50))  # type: ignore[type-var]
    assert audit.appends == 1
    for rid, leaf in zip(ids, leaves, strict=True):
        stored = await store.find_request(rid)
        assert stored is not None
        assert stored.leaf_index == leaf
        assert await entry_at(store, leaf) == rid.encode()


@pytest.mark.asyncio
async def test_concurrent_completes_store_each_job_rows_at_its_own_leaves(
    counted: tuple[Store, CountingAudit],
) -> None:
    """Concurrent completes in one batch: each answer and report points at its own leaves."""
    store, audit = counted
    ids = [f"r{i}" for i in range(20)]
    await asyncio.gather(*(store.accept(request_row(r), b"accepted") for r in ids))
    leaves = await asyncio.gather(
        *(
            store.complete(
                r,
                [answer("a", r.encode()), answer("b", r.encode())],
                [f"{r}-a".encode(), f"{r}-b".encode()],
                report_row(f"rep-{r}", r),
                f"{r}-signed".encode(),
                [f"d-{r}"],
            )
            for r in ids
        )
    )
    assert audit.appends == 2
    assert await log_size(store) == 20 + 60
    for rid, leaf in zip(ids, leaves, strict=True):
        assert leaf is not None
        report = await store.get_report(f"rep-{rid}")
        assert report is not None
        assert report.leaf_index == leaf
        assert await entry_at(store, leaf) == f"{rid}-signed".encode()
        raws = await store.answers(rid)
        assert [r.raw for r in raws] == [rid.encode()] * 2
        assert [await entry_at(store, r.leaf_index) for r in raws] == [
            f"{rid}-a".encode(),
            f"{rid}-b".encode(),
        ]
        stored = await store.find_request(rid)
        assert stored is not None
        assert stored.report_id == f"rep-{rid}"


@pytest.mark.asyncio
async def test_duplicate_in_a_batch_gets_none_and_the_others_commit(
    counted: tuple[Store, CountingAudit],
) -> None:
    """A reused request id inside a batch is refused alone; the rest commit, leaves contiguous."""
    store, audit = counted
    assert await store.accept(request_row("taken"), b"taken") == 0
    ids = ["a", "b", "taken", "c", "c", "d"]
    leaves = await asyncio.gather(*(store.accept(request_row(r), r.encode()) for r in ids))
    assert leaves[2] is None
    assert leaves[4] is None  # the second "c" of the same batch
    assert sorted(x for x in leaves if x is not None) == [1, 2, 3, 4]
    assert audit.appends == 1 + 1 + len(ids)  # the first accept, the batch, each job alone
    assert await log_size(store) == 5
    for rid in ["a", "b", "c", "d"]:
        stored = await store.find_request(rid)
        assert stored is not None
        assert await entry_at(store, stored.leaf_index) == rid.encode()


@pytest.mark.asyncio
async def test_competing_completes_in_a_batch_let_exactly_one_report_win(store: Store) -> None:
    """Two reports for one request in the same batch: the first wins, the second gets None."""
    await store.accept(request_row("r1"), b"accepted")
    first, second = await asyncio.gather(
        store.complete("r1", [answer("a")], [b"a1"], report_row("rep1", "r1"), b"s1", ["d"]),
        store.complete("r1", [answer("a")], [b"a2"], report_row("rep2", "r1"), b"s2", ["d"]),
    )
    assert (first, second) == (2, None)
    assert [await entry_at(store, i) for i in range(3)] == [b"accepted", b"a1", b"s1"]
    assert await rows(store, reports) == 1
    assert await rows(store, source_answers) == 1


@pytest.mark.asyncio
async def test_writer_failure_fails_every_waiting_caller(
    counted: tuple[Store, CountingAudit],
) -> None:
    """An error inside the batch reaches all its callers (no hang); later writes still work."""
    store, audit = counted
    audit.failure = RuntimeError("disk on fire")
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(
            *(store.accept(request_row(f"r{i}"), b"x") for i in range(5)),
            return_exceptions=True,
        )
    assert [str(o) for o in outcomes] == ["disk on fire"] * 5
    assert await rows(store, requests) == 0
    audit.failure = None
    assert await store.accept(request_row("after"), b"after") == 0


@pytest.mark.asyncio
async def test_stopped_writer_fails_its_batch_and_the_queued_callers(
    counted: tuple[Store, CountingAudit],
) -> None:
    """Cancelling the writer mid-batch fails the caller in it and the one queued behind it."""
    store, audit = counted
    store._writer = Writer(store.engine, audit)  # the writer task, even on SQLite
    audit.gate = asyncio.Event()
    first = asyncio.create_task(store.accept(request_row("r1"), b"x"))
    await audit.entered.wait()
    second = asyncio.create_task(store.accept(request_row("r2"), b"y"))
    await asyncio.sleep(0)
    writer = next(t for t in asyncio.all_tasks() if t.get_name() == "hedui-store-writer")
    writer.cancel()
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]
    assert await rows(store, requests) == 0


@pytest.mark.asyncio
async def test_database_error_fails_callers_instead_of_hanging(store: Store) -> None:
    """A database error that is not a key conflict (a dropped table) fails the callers."""
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda sync: report_subjects.drop(sync))
    await store.accept(request_row("r1"), b"accepted")
    async with asyncio.timeout(10):
        with pytest.raises(DBAPIError):
            await store.complete("r1", [], [], report_row("rep1", "r1"), b"s", ["d"])
    assert await log_size(store) == 1


@pytest.mark.asyncio
async def test_close_waits_for_queued_writes(store: Store) -> None:
    """close() returns after the writes already queued have committed."""
    pending = [asyncio.create_task(store.accept(request_row(f"r{i}"), b"x")) for i in range(3)]
    await asyncio.sleep(0)
    await store.close()
    assert all(p.done() for p in pending)
    assert await rows(store, requests) == 3


@pytest.mark.asyncio
async def test_writers_staggered_over_loop_turns_share_one_transaction(
    counted: tuple[Store, CountingAudit],
) -> None:
    """Requests that write a few loop turns apart, while jobs keep coming, share one batch."""
    store, audit = counted

    async def request(n: int) -> int | None:
        for _ in range(n):  # e.g. a fan-out taking n more turns than the first caller
            await asyncio.sleep(0)
        return await store.accept(request_row(f"r{n}"), f"leaf{n}".encode())

    async with asyncio.timeout(10):
        leaves = await asyncio.gather(*(request(n) for n in range(5)))
    assert sorted(leaves) == [0, 1, 2, 3, 4]  # type: ignore[type-var]
    assert audit.appends == 1


def _lingering_for_an_hour(store: Store) -> Store:
    """A store on the same engine whose writer would linger an hour, if anything let it."""
    lingering = Store(store.engine, SqlStorage(store.engine))
    lingering._writer = Writer(
        store.engine,
        SqlStorage(store.engine),
        linger_s=3600.0,
        linger_turns=10**9,
        patience_turns=10**9,
    )
    return lingering


@pytest.mark.asyncio
async def test_a_lone_writer_commits_without_lingering(store: Store) -> None:
    """With no second job behind it, a write commits at once (linger limits set to an hour)."""
    lingering = _lingering_for_an_hour(store)
    async with asyncio.timeout(10):
        assert await lingering.accept(request_row("alone"), b"alone") == 0
    await lingering.close()


@pytest.mark.asyncio
async def test_one_queued_job_commits_at_once_while_others_wait_on_their_sources(
    store: Store,
) -> None:
    """With one job queued and the other request still waiting on its sources, nothing lingers."""
    lingering = _lingering_for_an_hour(store)
    sources = asyncio.Event()  # the other request's departments answer after the first commit

    async def waiting_on_sources() -> int | None:
        await sources.wait()
        return await lingering.accept(request_row("later"), b"later")

    other = asyncio.create_task(waiting_on_sources())
    async with asyncio.timeout(10):
        assert await lingering.accept(request_row("first"), b"first") == 0
    sources.set()
    assert await other == 1
    await lingering.close()


async def _turns_to_write(store: Store, request_id: str) -> tuple[int, list[str]]:
    """Turns of the event loop a lone accept takes, and the writer tasks seen meanwhile."""
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is running
    started = turns
    try:
        write = asyncio.create_task(store.accept(request_row(request_id), b"x"))
        await asyncio.sleep(0)
        writers = [
            t.get_name() for t in asyncio.all_tasks() if t.get_name() == "hedui-store-writer"
        ]
        await write
    finally:
        ticking.cancel()
    return turns - started, writers


@pytest.mark.asyncio
async def test_a_lone_write_on_sqlite_commits_in_its_callers_task(
    store: Store, db_url: str
) -> None:
    """On SQLite a lone write commits in its caller's task: one turn of the loop fewer."""
    if not db_url.startswith("sqlite"):
        pytest.skip("callers commit their batch only on SQLite")
    in_task = Store(store.engine, SqlStorage(store.engine))
    in_task._writer = Writer(store.engine, SqlStorage(store.engine))  # the writer task's way
    task_turns, task_writers = await _turns_to_write(in_task, "by-task")
    caller_turns, caller_writers = await _turns_to_write(store, "by-caller")
    assert (task_writers, caller_writers) == (["hedui-store-writer"], [])
    assert caller_turns == task_turns - 1
    assert await rows(store, requests) == 2


@pytest.mark.asyncio
async def test_a_caller_cancelled_while_committing_its_batch_hands_the_rest_on(
    counted: tuple[Store, CountingAudit], db_url: str
) -> None:
    """Cancelling the caller that commits a batch drops its own job only; the others commit."""
    if not db_url.startswith("sqlite"):
        pytest.skip("callers commit their batch only on SQLite")
    store, audit = counted
    audit.gate = asyncio.Event()
    first = asyncio.create_task(store.accept(request_row("r1"), b"x"))
    second = asyncio.create_task(store.accept(request_row("r2"), b"y"))
    await audit.entered.wait()  # both jobs are in the first caller's batch, in its transaction
    first.cancel()
    await asyncio.sleep(0)
    audit.gate.set()
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
    assert [type(o) for o in outcomes] == [asyncio.CancelledError, int]
    assert outcomes[1] == 0  # the rolled-back batch appended nothing
    assert await rows(store, requests) == 1
    assert audit.appends == 2  # the cancelled batch, then the second job's own
