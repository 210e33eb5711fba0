"""AdminService over real gRPC: ListAdapters, CheckAdapter, per-source health, and the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from typer.testing import CliRunner

from audit.events import SourceAnswered, parse_entry
from gateway.api._proto.hedui.v1 import admin_pb2 as apb
from gateway.api._proto.hedui.v1 import admin_pb2_grpc as apb_grpc
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.cli import app
from gateway.client import Client, request_from_case
from gateway.config import load_settings
from gateway.server import RunningServer, running_server

FAST_FAIL = {"max_attempts": 1, "failure_threshold": 1, "reset_timeout_s": 0.3}
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest_asyncio.fixture
async def admin_server(
    sim: Any, cases: list[dict[str, Any]], tmp_path: Path
) -> AsyncIterator[RunningServer]:
    """A gateway (SQLite) whose hukou probe asks about a known person; vehicle fails fast."""
    known = cases[0]["members"][0]["id_number"]
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}",
        key_dir=tmp_path / "keys",
        sources_base_url=sim.base_url,
        metrics_listen="",
        adapters={
            "hukou": {"probe_id_number": known, "resilience": {"daily_quota": 50}},
            "vehicle": {"resilience": FAST_FAIL},
            "bank": {"tiers": ["provincial", "national"]},
        },
    )
    gateway = await Gateway.open(settings)
    try:
        async with running_server(gateway) as server:
            yield server
    finally:
        await gateway.close()


@pytest_asyncio.fixture
async def admin(admin_server: RunningServer) -> AsyncIterator[apb_grpc.AdminServiceStub]:
    """An AdminService stub on the test server."""
    async with grpc.aio.insecure_channel(admin_server.target) as channel:
        yield apb_grpc.AdminServiceStub(channel)


def by_name(response: apb.ListAdaptersResponse) -> dict[str, apb.AdapterInfo]:
    return {info.name: info for info in response.adapters}


@pytest.mark.asyncio
async def test_list_adapters_names_every_source_with_its_provider(
    admin: apb_grpc.AdminServiceStub,
) -> None:
    """Every source is listed with distribution, version, category, kind and a closed circuit."""
    infos = by_name(await admin.ListAdapters(apb.ListAdaptersRequest()))
    assert set(infos) >= {"hukou", "vehicle", "bank", "disability"}
    assert infos["hukou"].distribution == "hedui"
    assert infos["disability"].distribution == "hedui-disability-adapter"
    assert infos["vehicle"].category == "vehicle"
    assert all(i.kind == apb.ADAPTER_KIND_PLUGIN for i in infos.values())
    assert all(i.circuit_state == apb.CIRCUIT_STATE_CLOSED for i in infos.values())
    assert (infos["hukou"].quota_limit, infos["hukou"].quota_left) == (50, 50)
    assert infos["bank"].quota_limit == 0
    assert list(infos["bank"].tiers) == ["provincial", "national"]
    assert list(infos["hukou"].tiers) == ["county", "provincial", "national"]


@pytest.mark.asyncio
async def test_list_adapters_shows_figures_after_requests(
    admin_server: RunningServer, admin: apb_grpc.AdminServiceStub, cases: list[dict[str, Any]]
) -> None:
    """After a verification each source shows calls, latency percentiles and quota used."""
    async with Client(admin_server.target) as client:
        today = datetime.now(UTC).date()
        await client.submit(request_from_case(cases[1], today=today, request_id="admin-1"))
    hukou = by_name(await admin.ListAdapters(apb.ListAdaptersRequest()))["hukou"]
    assert hukou.calls == 1
    assert hukou.error_rate == 0.0
    assert 0 < hukou.p50_latency_ms <= hukou.p99_latency_ms
    assert hukou.quota_left == 49


@pytest.mark.asyncio
async def test_check_adapter_probes_the_configured_subject(
    admin: apb_grpc.AdminServiceStub,
) -> None:
    """A probe of hukou asks about the configured person and comes back healthy with records."""
    result = await admin.CheckAdapter(apb.CheckAdapterRequest(name="hukou"))
    assert result.healthy
    assert result.status == pb.SOURCE_STATUS_OK
    assert (result.subjects, result.records, result.attempts) == (1, 1, 1)
    assert result.latency_ms > 0


@pytest.mark.asyncio
async def test_check_adapter_reports_a_failing_department(
    sim: Any, admin: apb_grpc.AdminServiceStub
) -> None:
    """A department answering 500 makes the probe unhealthy, with the reason."""
    sim.set_fault("household_registration", "http_500")
    result = await admin.CheckAdapter(apb.CheckAdapterRequest(name="hukou"))
    assert not result.healthy
    assert result.status == pb.SOURCE_STATUS_UNAVAILABLE
    assert "500" in result.error


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "code"),
    [("", grpc.StatusCode.INVALID_ARGUMENT), ("nosuch", grpc.StatusCode.NOT_FOUND)],
)
async def test_check_adapter_refuses_bad_names(
    admin: apb_grpc.AdminServiceStub, name: str, code: grpc.StatusCode
) -> None:
    """An empty name is INVALID_ARGUMENT, an unknown one NOT_FOUND."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.CheckAdapter(apb.CheckAdapterRequest(name=name))
    assert caught.value.code() == code


async def next_status(stream: Any, wanted: int) -> None:
    """Read a health Watch stream until it reports ``wanted``."""
    async for response in stream:
        if response.status == wanted:
            return


@pytest.mark.asyncio
async def test_source_health_follows_the_circuit(
    sim: Any, admin_server: RunningServer, admin: apb_grpc.AdminServiceStub
) -> None:
    """hedui.source.vehicle turns NOT_SERVING when its circuit opens and SERVING when it may
    be tried again; other sources stay SERVING."""
    async with grpc.aio.insecure_channel(admin_server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        check = health_pb2.HealthCheckRequest
        assert (await health.Check(check(service="hedui.source.vehicle"))).status == SERVING
        watch = health.Watch(check(service="hedui.source.vehicle"))
        sim.set_fault("vehicle", "http_500")
        await admin.CheckAdapter(apb.CheckAdapterRequest(name="vehicle"))
        await asyncio.wait_for(next_status(watch, NOT_SERVING), timeout=10)
        assert (await health.Check(check(service="hedui.source.hukou"))).status == SERVING
        await asyncio.wait_for(next_status(watch, SERVING), timeout=10)  # half-open after 0.3 s
        watch.cancel()


def test_adapters_list_offline_reads_the_configuration(tmp_path: Path) -> None:
    """`hedui adapters list` without a gateway lists the configured sources and their quota."""
    config = tmp_path / "hedui.toml"
    config.write_text("[adapters.bank.resilience]\ndaily_quota = 300\n")
    result = CliRunner().invoke(
        app, ["adapters", "list"], env={"HEDUI_CONFIG": str(config), "COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "from the configuration" in result.output
    bank = next(line for line in result.output.splitlines() if " bank " in line)
    assert "plugin" in bank
    assert "300/300" in bank


@pytest.mark.asyncio
async def test_adapters_cli_asks_a_running_gateway(admin_server: RunningServer) -> None:
    """`--target` lists live circuit states; `check` exits 0 healthy and 1 not."""
    runner, env = CliRunner(), {"COLUMNS": "200"}
    target = ["--target", admin_server.target]
    listed = await asyncio.to_thread(runner.invoke, app, ["adapters", "list", *target], env=env)
    assert listed.exit_code == 0, listed.output
    assert "closed" in listed.output
    healthy = await asyncio.to_thread(
        runner.invoke, app, ["adapters", "check", "hukou", *target], env=env
    )
    assert healthy.exit_code == 0, healthy.output
    assert "healthy" in healthy.output
    unknown = await asyncio.to_thread(
        runner.invoke, app, ["adapters", "check", "nosuch", *target], env=env
    )
    assert unknown.exit_code == 1
    assert "NOT_FOUND" in unknown.output


@pytest.mark.asyncio
async def test_check_adapter_records_the_answer_in_the_audit_log(
    gateway: Gateway, server: RunningServer
) -> None:
    """A live probe is a source answer like any other: it becomes a SourceAnswered leaf."""
    before = await gateway.audit_log.size()
    async with grpc.aio.insecure_channel(server.target) as channel:
        result = await apb_grpc.AdminServiceStub(channel).CheckAdapter(
            apb.CheckAdapterRequest(name="vehicle")
        )
    assert await gateway.audit_log.size() == before + 1
    event = parse_entry((await gateway.audit_log.entries(before, before + 1))[0])
    assert isinstance(event, SourceAnswered)
    assert event.source == "vehicle"
    assert event.request_id.startswith("probe-")
    assert event.status == pb.SourceStatus.Name(result.status).removeprefix("SOURCE_STATUS_")
