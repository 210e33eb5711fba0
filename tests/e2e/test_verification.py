"""SubmitVerification / GetReport / ListReports end to end: real gRPC, real HTTP, real database."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from google.rpc import error_details_pb2, status_pb2
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import Key, SSlibKey
from sqlalchemy import func, select

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.models import reports, requests

pytestmark = pytest.mark.both_loops  # on asyncio's event loop and on uvloop's


def today() -> date:
    return datetime.now(UTC).date()


def violations(exc: grpc.aio.AioRpcError) -> dict[str, str]:
    """The BadRequest field violations carried by an INVALID_ARGUMENT error."""
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return {v.field: v.description for v in bad.field_violations}
    return {}


def independent_verify(envelope: pb.DsseEnvelope, gateway: Gateway) -> None:
    """Verify with securesystemslib's DSSE implementation and the exported PEM key."""
    doc = {
        "payload": base64.b64encode(envelope.payload).decode(),
        "payloadType": envelope.payload_type,
        "signatures": [
            {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in envelope.signatures
        ],
    }
    public = gateway.keys.public_keys("report")[0]
    pem_key = serialization.load_pem_public_key(public.pem.encode())
    key: Key = SSlibKey.from_crypto(pem_key, keyid=public.keyid, scheme="ed25519")
    SslibEnvelope.from_dict(doc).verify([key], 1)


async def count(gateway: Gateway, table: Any) -> int:
    async with gateway.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.mark.asyncio
async def test_submit_returns_signed_report_from_all_seven_sources(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """A household is checked by all seven built-in sources; its envelope verifies independently."""
    response = await client.submit(request_from_case(cases[0], today=today(), request_id="e2e-1"))
    report = response.report
    assert {s.source for s in report.sources} >= {
        "bank",
        "funeral",
        "housing_fund",
        "hukou",
        "property",
        "social_insurance",
        "vehicle",
    }
    answered = (pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND)
    assert all(s.status in answered for s in report.sources), [
        (s.source, s.error) for s in report.sources
    ]
    assert report.complete
    assert response.envelope.payload_type == "application/vnd.hedui.report.v1+json"
    payload = json.loads(response.envelope.payload)
    assert payload["report_id"] == report.report_id
    assert all(s["raw_digest"].startswith("sha256:") for s in payload["sources"])
    independent_verify(response.envelope, gateway)
    fetched = await client.get_report(report.report_id)
    assert fetched.envelope.payload == response.envelope.payload
    assert fetched.leaf_index == response.leaf_index


DISCREPANCY_FINDINGS = {
    "undeclared_vehicle": "UNDECLARED_VEHICLE",
    "underdeclared_income": "INCOME_DISCREPANCY",
    "underdeclared_deposits": "DEPOSITS_DISCREPANCY",
    "undeclared_property": "UNDECLARED_PROPERTY",
    "deceased_member_listed": "MEMBER_DECEASED",
    "unregistered_member": "MEMBER_NOT_REGISTERED",
}


@pytest.mark.asyncio
async def test_planted_discrepancies_become_findings(
    client: Client, cases: list[dict[str, Any]]
) -> None:
    """Every discrepancy the simulator planted shows up as a finding on the right member."""
    planted = [c for c in cases if c["discrepancies"]]
    assert {d["kind"] for c in planted for d in c["discrepancies"]} == set(DISCREPANCY_FINDINGS)
    for i, case in enumerate(planted):
        response = await client.submit(
            request_from_case(case, today=today(), request_id=f"planted-{i}")
        )
        found = {(f.code, f.subject_id) for f in response.report.findings}
        for item in case["discrepancies"]:
            assert (DISCREPANCY_FINDINGS[item["kind"]], item["id_number"]) in found, (item, found)


@pytest.mark.asyncio
async def test_honest_households_get_no_discrepancy_findings(
    client: Client, cases: list[dict[str, Any]]
) -> None:
    """A household that declared what the records say gets no declared-versus-found finding."""
    honest = [c for c in cases if not c["discrepancies"]][:10]
    assert honest
    for i, case in enumerate(honest):
        response = await client.submit(
            request_from_case(case, today=today(), request_id=f"honest-{i}")
        )
        codes = {f.code for f in response.report.findings} & set(DISCREPANCY_FINDINGS.values())
        assert not codes, (case["index"], [(f.code, f.message) for f in response.report.findings])


@pytest.mark.asyncio
async def test_same_request_id_returns_same_report_without_new_query(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Resubmitting a request id replays the stored report; no second fan-out is stored."""
    req = request_from_case(cases[1], today=today(), request_id="idem-1")
    first = await client.submit(req)
    answers_after_first = await count(gateway, requests)
    second = await client.submit(req)
    assert second.replayed
    assert not first.replayed
    assert second.report.report_id == first.report.report_id
    assert second.envelope.payload == first.envelope.payload
    assert await count(gateway, requests) == answers_after_first
    assert await count(gateway, reports) == 1


@pytest.mark.asyncio
async def test_request_id_reused_for_other_household_is_refused(
    client: Client, cases: list[dict[str, Any]]
) -> None:
    """The same idempotency key with a different household is FAILED_PRECONDITION, not a replay."""
    await client.submit(request_from_case(cases[2], today=today(), request_id="idem-2"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(request_from_case(cases[3], today=today(), request_id="idem-2"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.asyncio
async def test_invalid_request_lists_every_violation_and_writes_nothing(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Several bad fields come back together as BadRequest field violations; nothing is stored."""
    req = request_from_case(cases[0], today=today(), request_id="bad-1")
    req.household.region_code = "999999"
    bad_id = req.household.members[0].id_number
    req.household.members[0].id_number = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")
    req.authorization.expires_on = "2020-01-01"
    req.as_of = "not-a-date"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = violations(err.value)
    assert {
        "household.region_code",
        "household.members[0].id_number",
        "authorization.expires_on",
        "as_of",
    } <= set(fields)
    assert await count(gateway, requests) == 0
    assert await count(gateway, reports) == 0


@pytest.mark.asyncio
async def test_missing_household_and_unspecified_enums_are_violations(client: Client) -> None:
    """An empty request names the missing household, authorization and purpose."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(pb.SubmitVerificationRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"household", "authorization", "purpose"} <= set(violations(err.value))


@pytest.mark.asyncio
async def test_unknown_report_is_not_found(client: Client) -> None:
    """GetReport for an id that does not exist is NOT_FOUND."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.get_report("00000000-0000-0000-0000-000000000000")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.asyncio
async def test_list_reports_filters_and_pages(client: Client, cases: list[dict[str, Any]]) -> None:
    """ListReports pages newest first and filters by member ID number and region prefix."""
    sent = [
        request_from_case(c, today=today(), request_id=f"list-{i}") for i, c in enumerate(cases[:5])
    ]
    for req in sent:
        await client.submit(req)
    stub = client.verification
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListReports(pb.ListReportsRequest(page_size=2, page_token=token))
        seen += [r.request_id for r in page.reports]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(r.request_id for r in sent)
    member = sent[3].household.members[0].id_number
    by_member = await stub.ListReports(pb.ListReportsRequest(member_id_number=member))
    assert [r.request_id for r in by_member.reports] == ["list-3"]
    region = sent[2].household.region_code
    by_region = await stub.ListReports(pb.ListReportsRequest(region_code=region[:2] + "0000"))
    assert "list-2" in [r.request_id for r in by_region.reports]
    assert all(r.region_code.startswith(region[:2]) for r in by_region.reports)


@pytest.mark.asyncio
async def test_retry_over_another_connection_is_replayed(
    client: Client, server: Any, cases: list[dict[str, Any]]
) -> None:
    """The idempotency key does not depend on who or which connection sends the retry."""
    req = request_from_case(cases[6], today=today(), request_id="idem-3")
    first = await client.submit(req)
    async with Client(server.target, caller="another-system") as other:
        second = await other.submit(req)
    assert second.replayed
    assert second.report.report_id == first.report.report_id
