"""The gateway's persistence: requests, raw answers, reports — each write with its audit leaves.

Every write commits in one transaction together with its audit leaves, so a report never exists
without its leaf and a rolled-back write leaves no leaf behind. ``accept`` and ``complete`` go
through the store's :class:`~gateway.writer.Writer`, which commits concurrent writes together
(group commit) and answers each caller after the commit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.dsse import Envelope
from audit.sql import in_transaction
from gateway.fanout import Answer
from gateway.models import report_subjects, reports, requests, source_answers
from gateway.writer import AuditAppender, Batch, Writer

__all__ = ["AuditAppender", "ReportFilter", "Store", "StoredReport", "StoredRequest"]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRequest:
    request_id: str
    fingerprint: str
    request_json: bytes
    accepted_at: datetime
    report_id: str | None
    leaf_index: int


@dataclasses.dataclass(frozen=True, slots=True)
class StoredReport:
    report_id: str
    request_id: str
    created_at: datetime
    envelope: Envelope  # joined again from the row's payload, payload type and signatures
    leaf_index: int

    @property
    def payload(self) -> bytes:
        """The signed report bytes."""
        return self.envelope.payload


@dataclasses.dataclass(frozen=True, slots=True)
class ReportFilter:
    subject_digest: str = ""
    region_prefix: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


class Store:
    """Async access to the gateway tables on one engine."""

    def __init__(self, engine: AsyncEngine, audit: AuditAppender) -> None:
        self.engine = engine
        self.audit = audit
        # SQLite's transactions run inline, never suspending: callers may commit their batch
        self._writer = Writer(engine, audit, in_caller=engine.dialect.name == "sqlite")

    async def close(self) -> None:
        """Wait for the writes already queued to commit (the engine is the caller's to dispose)."""
        await self._writer.close()

    def observe_commits(self, callback: Callable[[int, float], None]) -> None:
        """Call ``callback(jobs, seconds)`` after each group-commit transaction (metrics)."""
        self._writer.on_commit = callback

    async def find_request(self, request_id: str) -> StoredRequest | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(requests).where(requests.c.request_id == request_id))
            ).first()
        return _stored_request(row) if row else None

    async def accept(self, row: dict[str, Any], entry: bytes) -> int | None:
        """Insert the request and its RequestAccepted leaf; None if the request id exists."""
        return await self._writer.write(_Accept(row, (entry,)))

    async def complete(
        self,
        request_id: str,
        answers: Sequence[Answer],
        answer_entries: Sequence[bytes],
        report_row: dict[str, Any],
        report_entry: bytes,
        subject_digests: Sequence[str],
    ) -> int | None:
        """Store answers, report and leaves in one transaction; None if another writer won."""
        job = _Complete(
            request_id, answers, (*answer_entries, report_entry), report_row, subject_digests
        )
        return await self._writer.write(job)

    async def get_report(self, report_id: str) -> StoredReport | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(reports).where(reports.c.report_id == report_id))
            ).first()
        return _stored_report(row) if row else None

    async def record_read(self, entry: bytes) -> int:
        """Append one leaf on its own (a ReportRead, a probe's SourceAnswered)."""
        return await in_transaction(
            self.engine, functools.partial(self.audit.append_on, entries=[entry])
        )

    async def answers(self, request_id: str) -> list[Row[Any]]:
        """The stored raw answers of a request, in storage order."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(source_answers)
                .where(source_answers.c.request_id == request_id)
                .order_by(source_answers.c.id)
            )
            return list(result)

    async def list_reports(
        self, flt: ReportFilter, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row[Any]]:
        """Report summaries newest first, keyset-paginated on (created_at, report_id)."""
        query = select(reports).order_by(reports.c.created_at.desc(), reports.c.report_id.desc())
        conditions: list[ColumnElement[bool]] = []
        if flt.subject_digest:
            subjects = select(report_subjects.c.report_id).where(
                report_subjects.c.subject_digest == flt.subject_digest
            )
            conditions.append(reports.c.report_id.in_(subjects))
        if flt.region_prefix:
            conditions.append(reports.c.region_code.startswith(flt.region_prefix, autoescape=True))
        if flt.created_after:
            conditions.append(reports.c.created_at >= flt.created_after)
        if flt.created_before:
            conditions.append(reports.c.created_at < flt.created_before)
        if after:
            at, rid = after
            conditions.append(
                (reports.c.created_at < at)
                | and_(reports.c.created_at == at, reports.c.report_id < rid)
            )
        if conditions:
            query = query.where(and_(*conditions))
        async with self.engine.connect() as conn:
            return list(await conn.execute(query.limit(limit)))

    async def pending_requests(self) -> list[StoredRequest]:
        """Accepted requests without a report (interrupted by a crash): to be resumed."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(requests).where(requests.c.report_id.is_(None)))
            return [_stored_request(r) for r in rows]


# executemany with one parameter dict per request: WHERE request_id = :b_request_id
_LINK_REPORT = (
    update(requests)
    .where(requests.c.request_id == bindparam("b_request_id"))
    .values(report_id=bindparam("b_report_id"))
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Accept:
    """The request row and its RequestAccepted leaf."""

    row: dict[str, Any]
    entries: tuple[bytes, ...]

    def stage(self, first_leaf: int, batch: Batch) -> int:
        batch.insert(requests, {**self.row, "leaf_index": first_leaf})
        return first_leaf


@dataclasses.dataclass(frozen=True, slots=True)
class _Complete:
    """Answers, report, subjects and the request's link to the report; one leaf per answer
    and the ReportSigned leaf last (``entries``)."""

    request_id: str
    answers: Sequence[Answer]
    entries: tuple[bytes, ...]
    report_row: dict[str, Any]
    subject_digests: Sequence[str]

    def stage(self, first_leaf: int, batch: Batch) -> int:
        for i, a in enumerate(self.answers):
            batch.insert(source_answers, _answer_row(self.request_id, a, first_leaf + i))
        leaf = first_leaf + len(self.entries) - 1
        report_id = self.report_row["report_id"]
        batch.insert(reports, {**self.report_row, "leaf_index": leaf})
        for digest in sorted(set(self.subject_digests)):
            batch.insert(report_subjects, {"report_id": report_id, "subject_digest": digest})
        batch.update(_LINK_REPORT, {"b_request_id": self.request_id, "b_report_id": report_id})
        return leaf


def _answer_row(request_id: str, a: Answer, leaf: int) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "source": a.source,
        "category": a.category,
        "department": a.department,
        "adapter_version": a.adapter_version,
        "status": a.status.value,
        "error": a.error,
        "as_of": a.as_of,
        "fetched_at": a.fetched_at,
        "latency_us": a.latency_us,
        "attempts": a.attempts,
        "circuit_open": a.circuit_open,
        "throttled": a.throttled,
        "raw": a.raw,
        "raw_digest": a.raw_digest,
        "leaf_index": leaf,
    }


def _stored_request(row: Row[Any]) -> StoredRequest:
    return StoredRequest(
        row.request_id,
        row.fingerprint,
        row.request_json,
        row.accepted_at,
        row.report_id,
        row.leaf_index,
    )


def _stored_report(row: Row[Any]) -> StoredReport:
    envelope = Envelope.from_parts(row.payload_type, bytes(row.payload), bytes(row.signatures))
    return StoredReport(row.report_id, row.request_id, row.created_at, envelope, row.leaf_index)
