"""The request pipeline, top to bottom:

    validate (incl. the authorization's scope) → accept (idempotency)
    → fan-out (only the source categories the authorization covers; the others are DENIED)
    → merge + findings + assessment (policy documents resolved here and pinned) → sign → record

Each step is one call; the servicer turns protobuf into a :class:`VerificationRequest` before
and a :class:`Submission` back into protobuf after. Accepted work survives a crash: the request is
stored (with its audit leaf) before any source is asked, and :meth:`Pipeline.resume_pending`
finishes what a dead process left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.base import Adapter, SourceQuery, Subject
from audit import dsse
from audit.events import (
    ReportRead,
    ReportSigned,
    RequestAccepted,
    SourceAnswered,
    entry_bytes,
    sha256_hex,
)
from audit.events import subject_digest as audit_subject_digest
from gateway.assessment import programmes_for
from gateway.authorization import denied_answer
from gateway.domain import VerificationRequest
from gateway.errors import FailedPrecondition, NotFound, Unavailable
from gateway.fanout import Answer, fan_out
from gateway.findings import FindingPolicy
from gateway.ids import uuid7
from gateway.logging import bind_request
from gateway.policy import PolicyDocument, PolicyLibrary
from gateway.privacy import subject_digest
from gateway.report import build_report, payload_bytes
from gateway.request_codec import canonical_json, request_from_dict, request_to_dict
from gateway.store import Store, StoredReport, StoredRequest
from gateway.validation import validate_request

__all__ = ["Pipeline", "Submission"]

log = structlog.get_logger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Submission:
    """What a caller gets back: the signed report and where it sits in the audit log."""

    report: dict[str, Any]
    envelope: dsse.Envelope
    leaf_index: int
    replayed: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Pipeline:
    store: Store
    adapters: Sequence[Adapter]
    signer: dsse.Signer
    salt: bytes
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    policy: FindingPolicy = dataclasses.field(default_factory=FindingPolicy)
    policies: PolicyLibrary = dataclasses.field(default_factory=PolicyLibrary.from_directory)
    code_version: str = "hedui"
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    # An accepted request without a report younger than this is still being worked on somewhere
    # (this or another replica); older ones were interrupted and are resumed.
    in_flight_s: float = 120.0

    async def submit(self, req: VerificationRequest, timeout_s: float) -> Submission:
        """Verify one household; idempotent per ``req.request_id``.

        ``timeout_s`` is the sources' time, counted from now: the accept's commit comes out of
        it, so a slow commit does not push the answer past the caller's deadline.
        """
        deadline = time.monotonic() + timeout_s
        validate_request(req, self.clock().date())
        if not req.request_id:
            req = dataclasses.replace(req, request_id=uuid7(self.clock()).hex)
        with bind_request(req.request_id):
            return await self._submit(req, deadline)

    async def _submit(self, req: VerificationRequest, deadline: float) -> Submission:
        data = request_to_dict(req)
        request_json = canonical_json(data)
        fingerprint = _fingerprint(data)
        if await self._accept(req, request_json, fingerprint) is None:  # the id is taken
            existing = await self.store.find_request(req.request_id)
            assert existing is not None, "an accept conflicted with a request that is not there"
            if existing.fingerprint != fingerprint:
                raise FailedPrecondition(
                    f"request_id {req.request_id!r} was already used for a different request"
                )
            if existing.report_id is not None:
                return await self._replayed(existing.report_id)
            if not self._stale(existing):  # never ask the departments twice at once
                raise Unavailable(f"request {req.request_id!r} is still in progress; retry later")
        return await self._run(req, deadline, data)

    def _stale(self, stored: StoredRequest) -> bool:
        """Accepted long enough ago that no live worker can still be on it."""
        accepted = stored.accepted_at
        accepted = accepted if accepted.tzinfo else accepted.replace(tzinfo=UTC)
        return (self.clock() - accepted).total_seconds() > self.in_flight_s

    async def get(self, report_id: str, reader: str) -> Submission:
        """A stored report; the read itself is recorded in the audit log."""
        stored = await self.store.get_report(report_id)
        if stored is None:
            raise NotFound(f"no report {report_id!r}")
        await self.store.record_read(
            entry_bytes(ReportRead(report_id=report_id, reader=reader, read_at=self.clock()))
        )
        return _submission(stored, replayed=False)

    async def resume_pending(
        self, timeout_s: float, concurrency: int = 16, *, only_stale: bool = True
    ) -> int:
        """Finish interrupted requests, ``concurrency`` at a time; returns how many were finished.

        Only requests older than ``in_flight_s`` are taken (younger ones may be in flight on a
        live replica), unless ``only_stale`` is False (a single gateway restarting after a crash).
        One failure is logged and does not stop the others.
        """
        pending = [
            s for s in await self.store.pending_requests() if not only_stale or self._stale(s)
        ]
        gate = asyncio.Semaphore(concurrency)

        async def finish(stored: StoredRequest) -> bool:
            async with gate:
                with bind_request(stored.request_id):
                    return await self._finish(stored, timeout_s)

        return sum(await asyncio.gather(*(finish(s) for s in pending)))

    async def _finish(self, stored: StoredRequest, timeout_s: float) -> bool:
        """Run one interrupted request to its report; log (not raise) a failure."""
        try:
            request = request_from_dict(json.loads(stored.request_json))
            await self._run(request, time.monotonic() + timeout_s)
        except Exception:
            log.exception("resume_failed")
            return False
        return True

    async def _accept(
        self, req: VerificationRequest, request_json: bytes, fingerprint: str
    ) -> int | None:
        now = self.clock()
        ids = [m.id_number for m in req.household.members]
        event = RequestAccepted(
            request_id=req.request_id,
            accepted_at=now,
            purpose=req.purpose.value,
            region_code=req.household.region_code,
            member_count=len(ids),
            subject_digest=audit_subject_digest(ids, self.salt),
        )
        row = {
            "request_id": req.request_id,
            "fingerprint": fingerprint,
            "request_json": request_json,
            "accepted_at": now,
            "region_code": req.household.region_code,
            "category": req.household.category.value,
            "purpose": req.purpose.value,
            "requested_by": req.requested_by,
        }
        return await self.store.accept(row, entry_bytes(event))

    async def _run(
        self, req: VerificationRequest, deadline: float, data: dict[str, Any] | None = None
    ) -> Submission:
        """Fan out, build, sign and store the report of an accepted request.

        ``deadline``: when the sources' time is up (``time.monotonic()``). ``data``:
        ``request_to_dict(req)`` when the caller has it already (the report reuses it).
        """
        query = SourceQuery(
            request_id=req.request_id,
            subjects=tuple(Subject(m.id_number, m.name) for m in req.household.members),
            as_of=req.as_of,
            purpose=req.purpose.value,
            authorization_ref=req.authorization.consent_ref,
            timeout_s=max(0.0, deadline - time.monotonic()),
        )
        auth = req.authorization
        covered = [a for a in self.adapters if auth.covers(str(a.category))]
        denied = [denied_answer(a, auth, self.clock) for a in self.adapters if a not in covered]
        answers = await fan_out(covered, query, clock=self.clock, versions=self.versions)
        answers += denied
        created_at = self.clock()
        report = build_report(
            report_id=str(uuid7(created_at)),  # time-ordered: see gateway/ids.py
            request=req,
            answers=answers,
            created_at=created_at,
            policy=self.policy,
            code_version=self.code_version,
            policies=self._documents(req),
            request_data=data,
        )
        envelope = dsse.sign(dsse.REPORT_PAYLOAD_TYPE, payload_bytes(report), [self.signer])
        leaf = await self._record(req, answers, report, envelope)
        if leaf is None:  # a concurrent submission with the same key finished first
            existing = await self.store.find_request(req.request_id)
            assert existing is not None
            assert existing.report_id is not None
            return await self._replayed(existing.report_id)
        log.info(
            "report_signed",
            report_id=report["report_id"],
            complete=report["complete"],
            findings=len(report["findings"]),
        )
        return Submission(report, envelope, leaf, replayed=False)

    def _documents(self, req: VerificationRequest) -> list[PolicyDocument]:
        """The policy documents in force for the household's region and programmes (pinned)."""
        household = req.household
        found = (
            self.policies.resolve(household.region_code, name, req.as_of)
            for name in programmes_for(household.category)
        )
        return [d for d in found if d is not None]

    async def _record(
        self,
        req: VerificationRequest,
        answers: Sequence[Answer],
        report: dict[str, Any],
        envelope: dsse.Envelope,
    ) -> int | None:
        envelope_json = envelope.to_json()
        answer_entries = [
            entry_bytes(
                SourceAnswered(
                    request_id=req.request_id,
                    source=a.source,
                    status=a.status.value,
                    raw_digest=a.raw_digest.removeprefix("sha256:"),  # the hex the report cites
                    latency_ms=a.latency_us // 1000,
                )
            )
            for a in answers
        ]
        signed = ReportSigned(
            request_id=req.request_id,
            report_id=report["report_id"],
            envelope_digest=sha256_hex(envelope_json),
        )
        row = {
            "report_id": report["report_id"],
            "request_id": req.request_id,
            "created_at": self.clock(),
            "region_code": req.household.region_code,
            "category": req.household.category.value,
            "purpose": req.purpose.value,
            "complete": report["complete"],
            "finding_count": len(report["findings"]),
            "sources_ok": sum(1 for s in report["sources"] if s["status"] == "OK"),
            "sources_total": len(report["sources"]),
            "payload": envelope.payload,  # once: the envelope is stored in parts
            "payload_type": envelope.payload_type,
            "signatures": envelope.signatures_json(),
        }
        digests = [subject_digest(self.salt, m.id_number) for m in req.household.members]
        return await self.store.complete(
            req.request_id, answers, answer_entries, row, entry_bytes(signed), digests
        )

    async def _replayed(self, report_id: str) -> Submission:
        stored = await self.store.get_report(report_id)
        assert stored is not None, "a request points at a report that does not exist"
        return _submission(stored, replayed=True)


def _submission(stored: StoredReport, replayed: bool) -> Submission:
    envelope = stored.envelope
    return Submission(json.loads(envelope.payload), envelope, stored.leaf_index, replayed)


def _fingerprint(request: dict[str, Any]) -> str:
    """What makes two submissions "the same request": everything but who sent it."""
    # a retry may come over another connection (peer address)
    data = {k: v for k, v in request.items() if k != "requested_by"}
    return hashlib.sha256(canonical_json(data)).hexdigest()
