"""The assessment and the 授权书 end to end: pinned policy, outcomes, trace, DENIED sources."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.domain import members_digest
from gateway.policy import PolicyLibrary
from gateway.policy._cli import explain_lines


def today() -> date:
    return datetime.now(UTC).date()


def in_shaanxi(case: dict[str, Any], request_id: str) -> pb.SubmitVerificationRequest:
    """A simulator household moved to Xi'an (610102), where a policy file is in force."""
    req = request_from_case(case, today=today(), request_id=request_id)
    req.household.region_code = "610102"
    return req


@pytest.mark.asyncio
async def test_report_pins_policy_and_explains_outcomes(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """The payload pins the Shaanxi document by digest, has outcomes and a replayable trace."""
    response = await client.submit(in_shaanxi(cases[0], "assess-1"))
    payload = json.loads(response.envelope.payload)
    shipped = PolicyLibrary.from_directory().resolve("610102", "dibao", today())
    assert shipped is not None
    assert {"version": shipped.version, "digest": shipped.digest}.items() <= payload["policies"][
        0
    ].items()
    programmes = payload["assessment"]["programmes"]
    assert programmes[0]["outcomes"][0]["decision"] in {"ELIGIBLE", "NOT_ELIGIBLE", "NEEDS_REVIEW"}
    assert any(s["parameters"] for s in programmes[0]["trace"])
    assert next(p.digest for p in response.report.policies) == shipped.digest
    assert response.report.outcomes[0].decided_by
    assert all(f.rule for f in response.report.findings)
    text = "\n".join(explain_lines(payload))
    assert shipped.digest in text
    assert "standard_monthly_fen" in text


@pytest.mark.asyncio
async def test_report_replays_byte_identically_with_the_pinned_policy(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Replay rebuilds the same bytes from the stored request, answers and pinned document."""
    from gateway.replay import replay_stored

    response = await client.submit(in_shaanxi(cases[1], "assess-2"))
    adapters = {item.adapter.name: item.adapter for item in gateway.adapters}
    result = await replay_stored(gateway.pipeline.store, response.report.report_id, adapters)
    result.check()


@pytest.mark.asyncio
async def test_source_not_covered_is_denied_and_not_queried(
    client: Client, cases: list[dict[str, Any]]
) -> None:
    """An authorization without the bank: the bank is DENIED, naming the authorization number."""
    req = request_from_case(cases[2], today=today(), request_id="assess-3")
    req.authorization.sources.remove("bank")
    response = await client.submit(req)
    bank = next(s for s in response.report.sources if s.category == "bank")
    assert bank.status == pb.SOURCE_STATUS_DENIED
    assert req.authorization.consent_ref in bank.error
    assert bank.raw_digest.endswith(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert response.report.authorization.consent_ref == req.authorization.consent_ref


@pytest.mark.asyncio
async def test_changed_household_or_missing_signature_is_refused(
    client: Client, cases: list[dict[str, Any]]
) -> None:
    """A digest for another composition, or an adult who did not sign: INVALID_ARGUMENT."""
    case = next(c for c in cases if len(c["members"]) >= 2)
    req = request_from_case(case, today=today(), request_id="assess-4")
    req.authorization.members_digest = members_digest([case["members"][0]["id_number"]])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    req = request_from_case(case, today=today(), request_id="assess-5")
    del req.authorization.signed_by[:]
    req.authorization.signed_by.append("110101199001011234")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
