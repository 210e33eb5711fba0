"""A small gRPC client for the verification API, used by the demo, the tests and the benchmarks.

:func:`request_from_case` turns a simulator case file (``GET /_sim/households``) into a
``SubmitVerificationRequest``; :class:`Client` wraps one ``grpc.aio`` channel.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import TracebackType
from typing import Any

import grpc

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.api._proto.hedui.v1 import verification_pb2_grpc as pb_grpc
from gateway.domain import members_digest

__all__ = ["CASE_SOURCES", "Client", "request_from_case"]

# The source categories a simulator household's 授权书 covers (bank needs naming explicitly).
CASE_SOURCES = (
    "bank",
    "disability",
    "funeral",
    "household_registration",
    "housing_fund",
    "property",
    "social_insurance",
    "vehicle",
)

_MEMBER_FIELDS = (
    "id_number",
    "name",
    "relation",
    "disability_grade",
    "seriously_ill",
    "declared_monthly_income_fen",
    "declared_deposits_fen",
    "declared_vehicles",
    "declared_properties",
)


def request_from_case(
    case: dict[str, Any],
    *,
    today: date,
    request_id: str = "",
    purpose: str = "APPLICATION",
    consent_ref: str = "",
) -> pb.SubmitVerificationRequest:
    """A request for a simulator household, under a one-year authorization signed last month
    by every member, covering the simulator's source categories (bank included)."""
    household = case.get("household", case)
    members = [
        pb.Member(**{k: m[k] for k in _MEMBER_FIELDS if k in m}) for m in household["members"]
    ]
    return pb.SubmitVerificationRequest(
        request_id=request_id,
        purpose=pb.Purpose.Value("PURPOSE_" + purpose),
        as_of=today.isoformat(),
        household=pb.Household(
            region_code=household["region_code"],
            address=household["address"],
            category=pb.Category.Value("CATEGORY_" + household["category"]),
            members=members,
        ),
        authorization=pb.Authorization(
            consent_ref=consent_ref
            or f"SQ-{today.year}-{household['region_code']}-{members[0].id_number[-6:]}",
            signed_on=(today - timedelta(days=30)).isoformat(),
            expires_on=(today + timedelta(days=335)).isoformat(),
            purposes=[pb.PURPOSE_APPLICATION, pb.PURPOSE_RECHECK, pb.PURPOSE_COMPLAINT],
            signed_by=[m.id_number for m in members],
            sources=list(CASE_SOURCES),
            members_digest=members_digest(m.id_number for m in members),
        ),
    )


class Client:
    """One channel to the gateway: ``async with Client(target) as c: await c.submit(req)``."""

    def __init__(self, target: str, caller: str = "hedui-client") -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self.metadata = (("x-hedui-caller", caller),)
        self.verification = pb_grpc.VerificationServiceStub(self.channel)

    async def submit(
        self,
        request: pb.SubmitVerificationRequest,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> pb.SubmitVerificationResponse:
        return await self.verification.SubmitVerification(
            request, timeout=timeout, metadata=self.metadata
        )

    async def get_report(
        self,
        report_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109 (the gRPC deadline)
    ) -> pb.GetReportResponse:
        return await self.verification.GetReport(
            pb.GetReportRequest(report_id=report_id), timeout=timeout, metadata=self.metadata
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.channel.close()
