"""Every simulator fault mode through the gateway (real HTTP to the departments, real gRPC to the
caller): what the report says about the faulty source — status, attempts, circuit, throttling —
and that the request itself never fails because of one source."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.simulator import Simulator
from adapters.testing import BUILTIN_SOURCES, make_query
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.config import load_settings
from gateway.replay import replay_stored
from gateway.server import running_server

# A policy that makes faults show quickly: a circuit that opens after two failures. Healthy
# sources get a generous attempt timeout (the machine may be busy); bank and vehicle, which the
# slow and hang tests target, a short one.
RESILIENCE = {
    "attempt_timeout_s": 3.0,
    "max_attempts": 3,
    "backoff_initial_s": 0.01,
    "backoff_jitter_s": 0.0,
    "failure_threshold": 2,
    "reset_timeout_s": 600.0,
}
OK = (pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND)
SOURCES = [*BUILTIN_SOURCES, "disability"]
WARM_UP = make_query("11010519491231002X", timeout_s=5.0)  # known to no department
NO_BYTES = "sha256:" + hashlib.sha256(b"").hexdigest()


def today() -> date:
    return datetime.now(UTC).date()


def policy(name: str) -> dict[str, float]:
    """The test policy of one source."""
    short = {"attempt_timeout_s": 1.0} if name in ("bank", "vehicle") else {}
    return {**RESILIENCE, **short}


@pytest.fixture(autouse=True)
def _collected() -> None:
    """Collect garbage left by earlier tests first: a long GC pause would look like a timeout."""
    gc.collect()


@pytest_asyncio.fixture
async def fault_gateway(sim: Simulator, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway on SQLite whose every source has the quick policy."""
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'faults.db'}",
        key_dir=tmp_path / "keys",
        sources_base_url=sim.base_url,
        adapters={name: {"resilience": policy(name)} for name in SOURCES},
    )
    gateway = await Gateway.open(settings)
    # Warm up: the built-in adapters build their HTTP client (and its TLS context, tens of ms
    # of blocking work each) at the first fetch; do that before the short attempt timeouts count.
    await asyncio.gather(
        *(item.adapter.fetch(WARM_UP) for item in gateway.adapters), return_exceptions=True
    )
    yield gateway
    await gateway.close()


@pytest_asyncio.fixture
async def fault_client(fault_gateway: Gateway) -> AsyncIterator[Client]:
    """A gRPC client to the fault gateway's server on port 0."""
    async with running_server(fault_gateway) as server, Client(server.target) as client:
        yield client


async def submit(client: Client, case: dict[str, Any], rid: str) -> pb.SubmitVerificationResponse:
    """Verify one simulator household; the call itself must succeed."""
    return await client.submit(request_from_case(case, today=today(), request_id=rid), timeout=5.0)


def source(response: pb.SubmitVerificationResponse, name: str) -> pb.SourceResult:
    return next(s for s in response.report.sources if s.source == name)


def payload_source(response: pb.SubmitVerificationResponse, name: str) -> dict[str, Any]:
    """The source entry of the signed report payload (the bytes that are signed)."""
    report = json.loads(response.envelope.payload)
    return next(s for s in report["sources"] if s["source"] == name)


def others_fine(response: pb.SubmitVerificationResponse, faulty: str) -> bool:
    """Every source but ``faulty`` answered (OK or NOT_FOUND); else fail naming them."""
    bad = [
        (s.source, s.error)
        for s in response.report.sources
        if s.source != faulty and s.status not in OK
    ]
    assert not bad, bad
    return True


@pytest.mark.asyncio
async def test_slow_department_within_the_attempt_timeout_answers(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """A slow department that still answers inside its attempt timeout is OK in one attempt."""
    sim.set_fault("vehicle", "slow", extra_latency_ms=50)
    response = await submit(fault_client, cases[0], "slow-1")
    vehicle = source(response, "vehicle")
    assert vehicle.status in OK
    assert (vehicle.attempts, vehicle.circuit_open) == (1, False)
    assert response.report.complete


@pytest.mark.asyncio
async def test_too_slow_department_times_out_and_is_not_retried(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """Slower than the attempt timeout: TIMEOUT after one attempt; the report is incomplete."""
    sim.set_fault("vehicle", "slow", extra_latency_ms=5_000)
    response = await submit(fault_client, cases[0], "slow-2")
    vehicle = source(response, "vehicle")
    assert (vehicle.status, vehicle.attempts) == (pb.SOURCE_STATUS_TIMEOUT, 1)
    assert not response.report.complete
    assert others_fine(response, "vehicle")


@pytest.mark.asyncio
async def test_hanging_department_opens_its_circuit_and_is_no_longer_called(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """Two timeouts open the bank's circuit; the third request does not call the bank at all."""
    sim.set_fault("bank", "hang")
    for i in range(2):
        bank = source(await submit(fault_client, cases[i], f"hang-{i}"), "bank")
        assert (bank.status, bank.attempts, bank.circuit_open) == (
            pb.SOURCE_STATUS_TIMEOUT,
            1,
            False,
        )
    calls_before = sim.departments["bank"].requests
    response = await submit(fault_client, cases[2], "hang-2")
    bank = source(response, "bank")
    assert (bank.status, bank.attempts, bank.circuit_open) == (
        pb.SOURCE_STATUS_UNAVAILABLE,
        0,
        True,
    )
    assert "circuit open" in bank.error
    assert sim.departments["bank"].requests == calls_before  # not called: no time spent on it
    assert payload_source(response, "bank")["circuit_open"] is True
    assert others_fine(response, "bank")


@pytest.mark.asyncio
async def test_flapping_department_alternates_and_keeps_its_circuit_closed(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """Every other call fails (HTTP 500, not retried); each success resets the breaker."""
    sim.set_fault("property", "flapping")
    statuses = []
    for i in range(4):
        prop = source(await submit(fault_client, cases[i], f"flap-{i}"), "property")
        statuses.append(prop.status)
        assert (prop.attempts, prop.circuit_open) == (1, False)
    failed = [s == pb.SOURCE_STATUS_UNAVAILABLE for s in statuses]
    assert failed in ([True, False] * 2, [False, True] * 2)


@pytest.mark.asyncio
async def test_http_500_is_reported_once_without_retry(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """A 500 is not a retryable status: UNAVAILABLE after one attempt, the rest answer."""
    sim.set_fault("funeral", "http_500")
    response = await submit(fault_client, cases[0], "500-1")
    funeral = source(response, "funeral")
    assert (funeral.status, funeral.attempts) == (pb.SOURCE_STATUS_UNAVAILABLE, 1)
    assert "500" in funeral.error
    assert others_fine(response, "funeral")


@pytest.mark.asyncio
async def test_http_503_is_retried_until_the_circuit_opens(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """A 503 is retried with backoff; at the second failure the circuit opens and stops it."""
    sim.set_fault("housing_fund", "http_503")
    before = sim.departments["housing_fund"].requests
    response = await submit(fault_client, cases[0], "503-1")
    fund = source(response, "housing_fund")
    assert (fund.status, fund.attempts) == (pb.SOURCE_STATUS_UNAVAILABLE, 2)
    assert sim.departments["housing_fund"].requests - before == 2
    assert others_fine(response, "housing_fund")
    again = source(await submit(fault_client, cases[1], "503-2"), "housing_fund")
    assert (again.attempts, again.circuit_open) == (0, True)


@pytest.mark.asyncio
async def test_429_with_retry_after_that_fits_is_retried_and_marked_throttled(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """Retry-After: 0 fits in the deadline: the 429 is retried, and the answer says throttled."""
    sim.set_fault("social_insurance", "status_429", retry_after_s=0)
    response = await submit(fault_client, cases[0], "429-1")
    si = source(response, "social_insurance")
    assert (si.status, si.attempts, si.throttled) == (pb.SOURCE_STATUS_UNAVAILABLE, 3, True)
    assert payload_source(response, "social_insurance")["throttled"] is True


@pytest.mark.asyncio
async def test_429_with_retry_after_beyond_the_deadline_is_not_waited_for(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """Retry-After: 30 does not fit in a 5 s call: one attempt, throttled, the call returns."""
    sim.set_fault("social_insurance", "status_429", retry_after_s=30)
    response = await submit(fault_client, cases[0], "429-2")
    si = source(response, "social_insurance")
    assert (si.status, si.attempts, si.throttled) == (pb.SOURCE_STATUS_UNAVAILABLE, 1, True)
    assert others_fine(response, "social_insurance")


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", ["malformed_json", "truncated_body", "wrong_schema"])
async def test_garbage_answers_are_unavailable_kept_and_count_against_the_circuit(
    fault_client: Client, sim: Simulator, cases: list[dict[str, Any]], fault: str
) -> None:
    """Bad bytes: UNAVAILABLE, not retried, digest kept; twice opens the circuit."""
    sim.set_fault("household_registration", fault)
    for i in range(2):
        response = await submit(fault_client, cases[i], f"{fault}-{i}")
        hukou = source(response, "hukou")
        assert (hukou.status, hukou.attempts, hukou.circuit_open) == (
            pb.SOURCE_STATUS_UNAVAILABLE,
            1,
            False,
        )
        assert hukou.raw_digest != NO_BYTES  # the bad bytes are stored, for the auditor
        assert others_fine(response, "hukou")
    third = source(await submit(fault_client, cases[2], f"{fault}-2"), "hukou")
    assert (third.attempts, third.circuit_open) == (0, True)


@pytest.mark.asyncio
async def test_resilience_facts_are_stored_and_replay_to_the_same_bytes(
    fault_gateway: Gateway, fault_client: Client, sim: Simulator, cases: list[dict[str, Any]]
) -> None:
    """circuit_open and throttled are stored with the answer; replay rebuilds identical bytes."""
    sim.set_fault("bank", "http_503")
    sim.set_fault("vehicle", "status_429", retry_after_s=30)
    for i in range(2):
        await submit(fault_client, cases[i], f"stored-{i}")
    response = await submit(fault_client, cases[2], "stored-2")
    rows = {r.source: r for r in await fault_gateway.pipeline.store.answers("stored-2")}
    assert (rows["bank"].circuit_open, rows["bank"].attempts) == (True, 0)
    assert (rows["vehicle"].throttled, rows["vehicle"].circuit_open) == (True, False)
    adapters = {item.adapter.name: item.adapter for item in fault_gateway.adapters}
    result = await replay_stored(fault_gateway.pipeline.store, response.report.report_id, adapters)
    assert result.differences == ()


@pytest.mark.asyncio
async def test_report_lists_the_plugin_with_its_distribution_and_version(
    fault_client: Client, cases: list[dict[str, Any]]
) -> None:
    """The 残联 plug-in, found through its entry point, answers and is named with its version."""
    response = await submit(fault_client, cases[0], "plugin-1")
    entry = payload_source(response, "disability")
    assert entry["adapter_version"] == "hedui-disability-adapter 0.1.0"
    assert source(response, "disability").adapter_version == entry["adapter_version"]
    assert entry["category"] == "disability"
    assert entry["status"] in ("OK", "NOT_FOUND")
    assert (entry["attempts"], entry["circuit_open"], entry["throttled"]) == (1, False, False)
