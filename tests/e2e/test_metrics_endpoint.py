"""The Prometheus endpoint, scraped over real HTTP after real gRPC requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.config import load_settings
from gateway.server import RunningServer, running_server

SUBMIT = "/hedui.v1.VerificationService/SubmitVerification"
GET_REPORT = "/hedui.v1.VerificationService/GetReport"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest_asyncio.fixture
async def metered(sim: Any, tmp_path: Path) -> AsyncIterator[tuple[Gateway, RunningServer]]:
    """A started gateway (SQLite) with metrics on a free port; bank has a daily quota of 100."""
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}",
        key_dir=tmp_path / "keys",
        sources_base_url=sim.base_url,
        metrics_listen="127.0.0.1:0",
        adapters={
            "bank": {"resilience": {"daily_quota": 100}},
            "vehicle": {"resilience": {"max_attempts": 1, "failure_threshold": 1}},
        },
    )
    gateway = await Gateway.open(settings)
    try:
        await gateway.start_background()
        async with running_server(gateway) as server:
            yield gateway, server
    finally:
        await gateway.close()


async def scrape(gateway: Gateway) -> Samples:
    """Every sample on the endpoint, keyed by name and labels."""
    url = f"http://127.0.0.1:{gateway.metrics_endpoint.port}/metrics"
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    response.raise_for_status()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def submit_one(server: RunningServer, case: dict[str, Any], request_id: str) -> None:
    async with Client(server.target) as client:
        today = datetime.now(UTC).date()
        await client.submit(request_from_case(case, today=today, request_id=request_id))


@pytest.mark.asyncio
async def test_rpc_and_source_metrics_count_a_verification(
    metered: tuple[Gateway, RunningServer], cases: list[dict[str, Any]]
) -> None:
    """One verification: one OK SubmitVerification, timed, and one answer from every source."""
    gateway, server = metered
    await submit_one(server, cases[0], "metrics-1")
    samples = await scrape(gateway)
    assert sample(samples, "hedui_rpc_requests_total", method=SUBMIT, code="OK") == 1
    assert sample(samples, "hedui_rpc_duration_seconds_count", method=SUBMIT) == 1
    for item in gateway.adapters:
        source = item.adapter.name
        answered = sum(
            value
            for (name, labels), value in samples.items()
            if name == "hedui_source_requests_total" and ("source", source) in labels
        )
        assert answered == 1, source
        assert sample(samples, "hedui_source_duration_seconds_count", source=source) == 1
        assert sample(samples, "hedui_source_circuit_state", source=source) == 0


@pytest.mark.asyncio
async def test_store_metrics_count_the_two_writes_of_a_verification(
    metered: tuple[Gateway, RunningServer], cases: list[dict[str, Any]]
) -> None:
    """A verification is two writes (accept, complete), in one or two timed commits."""
    gateway, server = metered
    before = await scrape(gateway)
    await submit_one(server, cases[0], "store-metrics-1")
    after = await scrape(gateway)

    def grew(name: str) -> float:
        return sample(after, name) - sample(before, name)

    assert grew("hedui_store_batch_jobs_sum") == 2
    commits = grew("hedui_store_batch_jobs_count")
    assert commits in (1, 2)
    assert grew("hedui_store_commit_duration_seconds_count") == commits
    assert grew("hedui_store_commit_duration_seconds_sum") > 0


@pytest.mark.asyncio
async def test_quota_gauges_follow_the_calls(
    metered: tuple[Gateway, RunningServer], cases: list[dict[str, Any]]
) -> None:
    """A source with a daily quota exports its limit, today's use and what is left."""
    gateway, server = metered
    await submit_one(server, cases[0], "quota-1")
    samples = await scrape(gateway)
    assert sample(samples, "hedui_source_quota_limit", source="bank") == 100
    assert sample(samples, "hedui_source_quota_used", source="bank") == 1
    assert sample(samples, "hedui_source_quota_left", source="bank") == 99
    assert ("hedui_source_quota_left", frozenset({("source", "hukou")})) not in samples


@pytest.mark.asyncio
async def test_errors_are_counted_by_status(
    sim: Any, metered: tuple[Gateway, RunningServer], cases: list[dict[str, Any]]
) -> None:
    """A NOT_FOUND RPC and a failing source are errors by status; the open circuit shows 2."""
    gateway, server = metered
    sim.set_fault("vehicle", "http_500")
    await submit_one(server, cases[0], "errors-1")
    async with Client(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError):
            await client.get_report("no-such-report")
    samples = await scrape(gateway)
    assert sample(samples, "hedui_rpc_errors_total", method=GET_REPORT, code="NOT_FOUND") == 1
    assert sample(samples, "hedui_rpc_requests_total", method=GET_REPORT, code="NOT_FOUND") == 1
    assert sample(samples, "hedui_source_errors_total", source="vehicle", status="UNAVAILABLE") == 1
    assert sample(samples, "hedui_source_circuit_state", source="vehicle") == 2


@pytest.mark.asyncio
async def test_empty_metrics_listen_serves_nothing(sim: Any, tmp_path: Path) -> None:
    """With ``metrics_listen = ""`` the gateway opens no metrics port."""
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'off.db'}",
        key_dir=tmp_path / "keys",
        sources_base_url=sim.base_url,
        metrics_listen="",
    )
    gateway = await Gateway.open(settings)
    try:
        await gateway.start_background()
        assert gateway.metrics_endpoint.port == 0
    finally:
        await gateway.close()
