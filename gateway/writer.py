"""Group commit: one writer task per store turns queued write jobs into one transaction per batch.

A caller queues a :class:`Job` (its audit entries, and how to stage its rows once it knows
where its leaves landed) and waits for the job's leaf index. The writer takes what is queued
(at most ``max_batch`` jobs), appends all the batch's leaves with one ``append`` call, so each
job gets a contiguous range in queue order, inserts each table's rows with one executemany,
runs each update as one executemany, commits, and only then answers the callers: a caller's
rows and leaves are durable when it hears back, and a rolled-back batch leaves no leaf.

How big a batch gets: a transaction costs about the same for one job as for twenty (the append
lock, the log size, one statement per table, and a commit whose WAL frames are mostly the
rightmost pages of the same dozen B-trees), so before taking a batch the writer lets the event
loop run more turns *while jobs keep coming*: it stops at the first ``patience_turns`` turns in a
row that brought no job, after ``linger_turns`` turns, or after ``linger_s``. Under load a turn
runs every ready request a step further, and admits new calls, so their jobs join the batch; a
lone request commits at once. Without this, on SQLite (statements run on the loop and never
yield) the batches stay at one or two jobs (docs/BENCHMARKS.md).

The writer lingers only when a second job is queued after that first turn: jobs arriving
faster than the writer commits are the sign of load, where batching pays. Below saturation
the requests are mostly waiting on their departments, and each idle turn of a busy loop runs
other requests' work, so lingering there only added latency (bench ``latency`` at half of
saturation, issue 6: p50 +13.3 → +7.6 ms, p99 +61 → +36 ms over the slowest source).

The writer does not stop lingering when every request *in the pipeline* has queued its job:
grpc.aio admits calls one at a time, so at saturation only two or three requests are inside
the pipeline while the others wait in the server, and stopping there kept the batches at 2.0
jobs. Waiting for patience instead (24 idle turns) gives batches of about 23 (most of them as
large as the benchmark client's 32 calls in flight) and 1.6 × the throughput, with no loss of
latency below saturation (session 5 in docs/BENCHMARKS.md).

Who commits: on an engine whose transactions never suspend (the inline SQLite,
``in_caller=True``), a job that finds the writer idle is committed by its own caller, who
forms the batch exactly as the writer task would (same turns, same lingering) and then has its
answer without waiting one more turn of the loop for the task to wake it; jobs queued behind
that batch go to the writer task. Below saturation every write pays that turn, twice per
request (bench ``steps``, issue 6: accept p50 −15 %, record p50 −7 %; served ``latency``, four
alternated pairs: p99 over the slowest source lower in all four, p50 in three). Elsewhere
(PostgreSQL) the writer task commits every batch, so no caller's cancellation can land in a
transaction whose outcome is unknown.

One job's unique-key conflict (a reused request id, a report race) must not fail the others:
on an :class:`IntegrityError` the batch is rolled back and its jobs rerun one transaction each,
and only the conflicting job answers ``None``. Any other failure fails the batch's callers with
that error. The task exists only while there is work, so an idle store holds no task to stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Table, Update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.sql import driver_executemany, driver_insertmany, in_transaction

__all__ = ["AuditAppender", "Batch", "Job", "Writer"]


class AuditAppender(Protocol):
    """The part of the audit log the store needs: append leaves inside a caller's transaction."""

    async def append(
        self, entries: Sequence[bytes], conn: AsyncConnection | None = None
    ) -> int: ...

    def append_on(self, conn: Connection, entries: Sequence[bytes]) -> int:
        """The same on the synchronous side of the transaction (inside ``run_sync``)."""
        ...


@dataclasses.dataclass(slots=True)
class Batch:
    """The rows of one transaction, gathered per statement so each runs once (executemany)."""

    inserts: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = dataclasses.field(
        default_factory=dict
    )
    updates: dict[Update, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.inserts.setdefault((table, tuple(row)), []).append(row)

    def update(self, statement: Update, params: dict[str, Any]) -> None:
        self.updates.setdefault(statement, []).append(params)

    def execute(self, conn: Connection) -> None:
        """Inserts parents before children (the tables' foreign keys), then the updates.

        Each runs as a statement compiled once (:func:`audit.sql.driver_insertmany`,
        :func:`audit.sql.driver_executemany`): the same rows as ``conn.execute``, without
        SQLAlchemy's per-statement and per-row work; on PostgreSQL each table's rows are one
        ``INSERT … SELECT … FROM unnest(…)``.
        """
        for (table, _), rows in sorted(self.inserts.items(), key=_parents_first):
            driver_insertmany(conn, table, rows)
        for statement, params in self.updates.items():
            driver_executemany(conn, statement, params)


class Job(Protocol):
    """One caller's write: its audit entries, then its rows once its first leaf is known."""

    @property
    def entries(self) -> Sequence[bytes]: ...

    def stage(self, first_leaf: int, batch: Batch) -> int:
        """Add this job's rows to ``batch``; return the leaf index its caller gets back."""
        ...


class Writer:
    """Queues jobs and commits them in batches on ``engine``, one transaction at a time."""

    def __init__(
        self,
        engine: AsyncEngine,
        audit: AuditAppender,
        max_batch: int = 256,
        linger_turns: int = 128,
        linger_s: float = 0.01,
        patience_turns: int = 24,
        *,
        in_caller: bool = False,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._max_batch = max_batch
        self._linger_turns = linger_turns
        self._linger_s = linger_s
        self._patience_turns = patience_turns
        self._in_caller = in_caller
        self._caller_batch: asyncio.Future[None] | None = None  # done when the caller's is
        self._queue: deque[tuple[Job, asyncio.Future[int | None]]] = deque()
        self._task: asyncio.Task[None] | None = None
        # called after each committed transaction with its number of jobs and its duration
        self.on_commit: Callable[[int, float], None] | None = None

    async def write(self, job: Job) -> int | None:
        """The job's leaf index once committed; None if it hit a unique-key conflict."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        if not self._idle():
            return await future  # the batch being formed, or the next one, takes it
        if self._in_caller:
            return await self._drain_in_caller(future)
        self._task = asyncio.create_task(self._drain(), name="hedui-store-writer")
        return await future

    async def _drain_in_caller(self, mine: asyncio.Future[int | None]) -> int | None:
        """Commit the batch that starts with this caller's job in this caller's task.

        The caller gives the loop the turns the writer task would (its start, then
        :meth:`_linger`), so the same jobs join the batch, and has its answer when the batch
        commits instead of one turn later. Jobs left queued go to the writer task. For
        engines whose transactions never suspend (the inline SQLite): if the caller is cancelled,
        it can only be before its batch began or while waiting for the connection, so the jobs
        not yet answered are put back at the head of the queue, and only its own is dropped.
        """
        self._caller_batch = done = asyncio.get_running_loop().create_future()
        batch: list[tuple[Job, asyncio.Future[int | None]]] = []
        try:
            await asyncio.sleep(0)  # where the writer task would start: the same batches form
            await self._linger()
            batch = self._take()
            await self._commit_batch(batch)
        except asyncio.CancelledError:
            mine.cancel()
            self._queue.extendleft(reversed([b for b in batch if not b[1].done()]))
            raise
        except Exception as exc:
            _fail(batch, exc)
        except BaseException as exc:  # the process is going down: nobody may be left waiting
            _fail(batch, RuntimeError("the store writer was stopped"), exc)
            raise
        finally:
            done.set_result(None)
            if self._queue and self._idle():
                self._task = asyncio.create_task(self._drain(), name="hedui-store-writer")
        return mine.result()

    async def close(self) -> None:
        """Wait until everything queued so far is committed (or has failed)."""
        while not self._idle():
            busy = [f for f in (self._caller_batch, self._task) if f is not None and not f.done()]
            await asyncio.wait(busy)

    def _idle(self) -> bool:
        """Neither the writer task nor a caller is committing (or about to)."""
        return all(f is None or f.done() for f in (self._caller_batch, self._task))

    async def _drain(self) -> None:
        batch: list[tuple[Job, asyncio.Future[int | None]]] = []
        try:
            while self._queue:
                await self._linger()
                batch = self._take()
                try:
                    await self._commit_batch(batch)
                except Exception as exc:
                    _fail(batch, exc)
        except BaseException as exc:  # cancelled: nobody may be left waiting
            _fail([*batch, *self._queue], RuntimeError("the store writer was stopped"), exc)
            self._queue.clear()
            raise

    async def _linger(self) -> None:
        """Let expected callers catch up while their jobs keep coming (bounded; see above)."""
        await asyncio.sleep(0)  # at least one turn: callers that are ready to queue can
        if len(self._queue) < 2:  # no job came behind the first one: not under load
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + self._linger_s
        idle = 0
        for _ in range(self._linger_turns - 1):
            queued = len(self._queue)
            if queued >= self._max_batch or loop.time() >= until:
                return
            await asyncio.sleep(0)
            idle = 0 if len(self._queue) > queued else idle + 1
            if idle >= self._patience_turns:
                return

    def _take(self) -> list[tuple[Job, asyncio.Future[int | None]]]:
        """Up to ``max_batch`` queued jobs, in order, without those whose caller gave up."""
        count = min(len(self._queue), self._max_batch)
        taken = [self._queue.popleft() for _ in range(count)]
        return [(job, future) for job, future in taken if not future.done()]

    async def _commit_batch(self, batch: list[tuple[Job, asyncio.Future[int | None]]]) -> None:
        try:
            leaves = await self._commit([job for job, _ in batch])
        except IntegrityError:
            for job, future in batch:  # one transaction each: only the offender gets None
                try:
                    _answer(future, (await self._commit([job]))[0])
                except IntegrityError:
                    _answer(future, None)
                except Exception as exc:
                    _fail([(job, future)], exc)
            return
        for (_, future), leaf in zip(batch, leaves, strict=True):
            _answer(future, leaf)

    async def _commit(self, jobs: Sequence[Job]) -> list[int]:
        """One transaction: all leaves in one append, rows per statement; each job's leaf.

        The whole transaction runs on the synchronous side in one greenlet
        (:func:`audit.sql.in_transaction`), so the batch crosses SQLAlchemy's async adaptation
        once rather than once per statement (≈ 7 % of a request's CPU on SQLite), and its
        callers hear back without extra turns of the event loop.
        """
        if not jobs:
            return []
        began = time.perf_counter()
        leaves = await in_transaction(
            self._engine, functools.partial(self._stage_and_execute, jobs=jobs)
        )
        if self.on_commit is not None:
            self.on_commit(len(jobs), time.perf_counter() - began)
        return leaves

    def _stage_and_execute(self, conn: Connection, jobs: Sequence[Job]) -> list[int]:
        batch = Batch()
        first = self._audit.append_on(conn, [e for job in jobs for e in job.entries])
        leaves = []
        for job in jobs:
            leaves.append(job.stage(first, batch))
            first += len(job.entries)
        batch.execute(conn)
        return leaves


def _parents_first(item: tuple[tuple[Table, tuple[str, ...]], Any]) -> int:
    return _rank(item[0][0])


@functools.cache
def _rank(table: Table) -> int:
    """The table's place in its metadata's dependency order (``sorted_tables`` sorts per call)."""
    return table.metadata.sorted_tables.index(table)


def _answer(future: asyncio.Future[int | None], leaf: int | None) -> None:
    if not future.done():
        future.set_result(leaf)


def _fail(
    waiting: Sequence[tuple[Job, asyncio.Future[int | None]]],
    exc: Exception,
    cause: BaseException | None = None,
) -> None:
    if cause is not None:
        exc.__cause__ = cause
    for _, future in waiting:
        if not future.done():
            future.set_exception(exc)
