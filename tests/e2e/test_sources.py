"""One failing source never fails the request: it is listed with its status; report incomplete."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.api.convert import request_from_proto
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.server import RunningServer


def today() -> date:
    return datetime.now(UTC).date()


def status_of(response: pb.SubmitVerificationResponse, source: str) -> pb.SourceResult:
    return next(s for s in response.report.sources if s.source == source)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "expected", "error_part"),
    [
        ("http_500", pb.SOURCE_STATUS_UNAVAILABLE, "500"),
        ("malformed_json", pb.SOURCE_STATUS_UNAVAILABLE, "not JSON"),
        ("truncated_body", pb.SOURCE_STATUS_UNAVAILABLE, ""),
        ("wrong_schema", pb.SOURCE_STATUS_UNAVAILABLE, "expected"),
    ],
)
async def test_broken_source_is_reported_and_others_answer(
    client: Client,
    sim: Any,
    cases: list[dict[str, Any]],
    fault: str,
    expected: int,
    error_part: str,
    db_url: str,
) -> None:
    """A department answering 500, bad JSON, a cut body or another schema is UNAVAILABLE."""
    if "postgresql" in db_url:
        pytest.skip("source behaviour does not depend on the database")
    sim.set_fault("vehicle", fault)
    owner = next(c for c in cases if any(m["declared_vehicles"] for m in c["members"]))
    response = await client.submit(
        request_from_case(owner, today=today(), request_id=f"fault-{fault}")
    )
    vehicle = status_of(response, "vehicle")
    assert vehicle.status == expected
    assert error_part in vehicle.error
    assert not response.report.complete
    assert {f.code for f in response.report.findings} >= {"SOURCE_UNAVAILABLE"}
    others = [s for s in response.report.sources if s.source != "vehicle"]
    assert all(s.status in (pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND) for s in others)


@pytest.mark.asyncio
async def test_hanging_source_times_out_within_the_callers_deadline(
    client: Client, sim: Any, cases: list[dict[str, Any]], db_url: str
) -> None:
    """A department that never answers is TIMEOUT; the call still returns before its deadline."""
    if "postgresql" in db_url:
        pytest.skip("source behaviour does not depend on the database")
    sim.set_fault("bank", "hang")
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.submit(
        request_from_case(cases[0], today=today(), request_id="hang-1"), timeout=2.0
    )
    assert loop.time() - started < 2.0
    bank = status_of(response, "bank")
    assert bank.status == pb.SOURCE_STATUS_TIMEOUT
    assert not response.report.complete


@pytest.mark.asyncio
async def test_health_and_reflection_are_served(server: RunningServer) -> None:
    """grpc.health.v1 reports SERVING and reflection lists the verification service."""
    async with grpc.aio.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "hedui.v1.VerificationService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=5)]
        names = {s.name for s in responses[0].list_services_response.service}
        assert {"hedui.v1.VerificationService", "grpc.health.v1.Health"} <= names


@pytest.mark.asyncio
async def test_request_interrupted_after_acceptance_is_finished_on_restart(
    gateway: Gateway, client: Client, sim: Any, cases: list[dict[str, Any]]
) -> None:
    """Accepted work survives a crash: a restarted gateway finishes it; a retry replays it."""
    sim.set_fault("bank", "hang")
    message = request_from_case(cases[4], today=today(), request_id="crash-1")
    req, problems = request_from_proto(message, today(), requested_by="e2e-test")
    assert not problems
    work = asyncio.create_task(gateway.pipeline.submit(req, timeout_s=30.0))
    while await gateway.pipeline.store.find_request("crash-1") is None:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    work.cancel()  # the process dies while the bank hangs: accepted, no report
    with pytest.raises(asyncio.CancelledError):
        await work
    assert [p.request_id for p in await gateway.pipeline.store.pending_requests()] == ["crash-1"]
    sim.reset_faults()
    # the restart happens after the request's in-flight window: nobody can still be on it
    later = datetime.now(UTC) + timedelta(seconds=gateway.pipeline.in_flight_s + 1)
    restarted = await Gateway.open(gateway.settings, clock=lambda: later)
    try:
        await restarted.start_background()
        assert restarted.resuming is not None
        await restarted.resuming
        assert await restarted.pipeline.store.pending_requests() == []
    finally:
        await restarted.close()
    again = await client.submit(message, timeout=5.0)
    assert again.replayed
    assert all(s.status != pb.SOURCE_STATUS_TIMEOUT for s in again.report.sources)


@pytest.mark.asyncio
async def test_duplicate_submission_in_flight_is_refused_not_run_twice(
    gateway: Gateway, client: Client, sim: Any, cases: list[dict[str, Any]]
) -> None:
    """A second submission of a request still in flight is UNAVAILABLE; departments asked once."""
    sim.set_fault("bank", "hang")
    message = request_from_case(cases[5], today=today(), request_id="twice-1")
    first = asyncio.create_task(client.submit(message, timeout=3.0))
    while await gateway.pipeline.store.find_request("twice-1") is None:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.submit(message, timeout=3.0)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "in progress" in (err.value.details() or "")
    done = await first
    assert not done.replayed
    again = await client.submit(message, timeout=3.0)
    assert again.replayed
    assert again.report.report_id == done.report.report_id
