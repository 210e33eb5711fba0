"""``hedui.v1.VerificationService``: protobuf in, pipeline, protobuf out. Nothing else."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import grpc
from sqlalchemy import Row

from gateway.api import convert
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.api._proto.hedui.v1 import verification_pb2_grpc as pb_grpc
from gateway.errors import FieldViolation, InvalidArgument
from gateway.pipeline import Pipeline, Submission
from gateway.privacy import subject_digest
from gateway.regions import jurisdiction_prefix
from gateway.store import ReportFilter
from gateway.validation import validate_request

__all__ = ["VerificationServicer", "caller_of", "envelope_to_proto"]

# Keep back part of the caller's deadline for signing and storing the report.
DEADLINE_SHARE = 0.9
DEADLINE_RESERVE_S = 0.05


def caller_of(context: grpc.aio.ServicerContext) -> str:
    """Who is calling: the ``x-hedui-caller`` metadata value, else the peer address."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-hedui-caller":
            return str(value)[:128]
    return str(context.peer())


def envelope_to_proto(sub: Submission) -> pb.DsseEnvelope:
    return pb.DsseEnvelope(**_envelope_fields(sub))


def _envelope_fields(sub: Submission) -> dict[str, Any]:
    """``pb.DsseEnvelope``'s fields as plain data (see ``convert.report_fields`` for why)."""
    env = sub.envelope
    return {
        "payload_type": env.payload_type,
        "payload": env.payload,
        "signatures": [{"keyid": s.keyid, "sig": s.sig} for s in env.signatures],
    }


class VerificationServicer(pb_grpc.VerificationServiceServicer):
    def __init__(
        self, pipeline: Pipeline, default_deadline_s: float, max_deadline_s: float
    ) -> None:
        self.pipeline = pipeline
        self.default_deadline_s = default_deadline_s
        self.max_deadline_s = max_deadline_s

    async def SubmitVerification(
        self, request: pb.SubmitVerificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitVerificationResponse:
        today = self.pipeline.clock().date()
        req, violations = convert.request_from_proto(request, today, caller_of(context))
        if violations:
            try:
                validate_request(req, today)
            except InvalidArgument as exc:
                violations += [
                    v for v in exc.violations if v.field not in {x.field for x in violations}
                ]
            raise InvalidArgument(violations)
        sub = await self.pipeline.submit(req, self._timeout(context))
        return pb.SubmitVerificationResponse(
            report=convert.report_fields(sub.report),
            envelope=_envelope_fields(sub),
            replayed=sub.replayed,
            leaf_index=sub.leaf_index,
        )

    async def GetReport(
        self, request: pb.GetReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetReportResponse:
        if not request.report_id or len(request.report_id) > 64:
            raise InvalidArgument(
                [FieldViolation("report_id", "is required (at most 64 characters)")]
            )
        sub = await self.pipeline.get(request.report_id, caller_of(context))
        return pb.GetReportResponse(
            report=convert.report_fields(sub.report),
            envelope=_envelope_fields(sub),
            leaf_index=sub.leaf_index,
        )

    async def ListReports(
        self, request: pb.ListReportsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReportsResponse:
        flt, size, after = self._list_args(request)
        rows = await self.pipeline.store.list_reports(flt, size + 1, after)
        page, more = rows[:size], len(rows) > size
        token = _page_token(page[-1].created_at, page[-1].report_id) if more else ""
        return pb.ListReportsResponse(reports=[_summary(r) for r in page], next_page_token=token)

    def _list_args(
        self, request: pb.ListReportsRequest
    ) -> tuple[ReportFilter, int, tuple[datetime, str] | None]:
        out: list[FieldViolation] = []
        size = request.page_size or 50
        if not 1 <= size <= 200:
            out.append(FieldViolation("page_size", "must be between 1 and 200"))
        region = request.region_code
        if region and (len(region) != 6 or not region.isdigit()):
            out.append(FieldViolation("region_code", "must be a six-digit region code"))
        member = request.member_id_number.strip().upper()
        if member and len(member) != 18:
            out.append(
                FieldViolation("member_id_number", "must be an 18-character resident ID number")
            )
        after = _parse_page_token(request.page_token, out)
        if out:
            raise InvalidArgument(out)
        flt = ReportFilter(
            subject_digest=subject_digest(self.pipeline.salt, member) if member else "",
            region_prefix=jurisdiction_prefix(region) if region else "",
            created_after=convert.to_datetime(request.created_after)
            if request.HasField("created_after")
            else None,
            created_before=convert.to_datetime(request.created_before)
            if request.HasField("created_before")
            else None,
        )
        return flt, size, after

    def _timeout(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        budget = min(
            remaining if remaining is not None else self.default_deadline_s, self.max_deadline_s
        )
        return max(0.0, budget * DEADLINE_SHARE - DEADLINE_RESERVE_S)


def _page_token(created_at: datetime, report_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{report_id}".encode()).decode()


def _parse_page_token(token: str, out: list[FieldViolation]) -> tuple[datetime, str] | None:
    if not token:
        return None
    try:
        at, rid = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), rid
    except (ValueError, binascii.Error, UnicodeDecodeError):
        out.append(FieldViolation("page_token", "is not a token returned by ListReports"))
        return None


def _summary(r: Row[Any]) -> pb.ReportSummary:
    return pb.ReportSummary(
        report_id=r.report_id,
        request_id=r.request_id,
        region_code=r.region_code,
        category=pb.Category.Value("CATEGORY_" + r.category),
        purpose=pb.Purpose.Value("PURPOSE_" + r.purpose),
        created_at=convert.timestamp_of(r.created_at),
        complete=r.complete,
        finding_count=r.finding_count,
        sources_ok=r.sources_ok,
        sources_total=r.sources_total,
    )
