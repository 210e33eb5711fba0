"""Declarative sources end to end: configuration only, through the gateway, into a signed report;
and configuration mistakes reported with file, key and reason."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from adapters.simulator import Simulator, run_simulator
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.cli import app
from gateway.client import Client, request_from_case
from gateway.config import Settings, load_settings
from gateway.registry import RegistryError, load_adapters
from gateway.server import running_server
from tests.adapters.test_declarative_sources import DEPOSITS_SPEC, VEHICLE_SPEC


@pytest_asyncio.fixture
async def dept_sim() -> AsyncIterator[Simulator]:
    """The department simulator (30 households, seed 7) on a free port."""
    async with run_simulator(port=0, seed=7, households=30) as running:
        yield running


async def cases_of(sim: Simulator) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        response = await http.get("/_sim/households", params={"offset": 0, "limit": 30})
    data = response.json()
    return list(data["households"] if isinstance(data, dict) else data)


def settings_with(tmp_path: Path, base_url: str, **sources: dict[str, Any]) -> Settings:
    return load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        key_dir=tmp_path / "keys",
        sources_base_url=base_url,
        metrics_listen="",
        sources=sources,
    )


async def verify(settings: Settings, case: dict[str, Any]) -> pb.SubmitVerificationResponse:
    """One verification of ``case`` through a gateway built from ``settings``."""
    gateway = await Gateway.open(settings)
    try:
        async with running_server(gateway) as server, Client(server.target) as client:
            today = datetime.now(UTC).date()
            return await client.submit(request_from_case(case, today=today, request_id="decl-1"))
    finally:
        await gateway.close()


def source(response: pb.SubmitVerificationResponse, name: str) -> pb.SourceResult:
    return next(s for s in response.report.sources if s.source == name)


@pytest.mark.asyncio
async def test_http_json_source_reaches_the_report(dept_sim: Simulator, tmp_path: Path) -> None:
    """A vehicle department mapped by configuration alone answers in the report like the
    built-in adapter, labelled with its configuration digest."""
    owner = next(
        c for c in await cases_of(dept_sim) if any(m["declared_vehicles"] for m in c["members"])
    )
    settings = settings_with(tmp_path, dept_sim.base_url, cars=tomllib.loads(VEHICLE_SPEC))
    response = await verify(settings, owner)
    cars, builtin = source(response, "cars"), source(response, "vehicle")
    assert cars.status == pb.SOURCE_STATUS_OK
    assert cars.adapter_version.startswith("config ")
    assert list(cars.records) == list(builtin.records)
    assert cars.records


@pytest.mark.asyncio
async def test_sql_view_source_reaches_the_report(
    dept_sim: Simulator, tmp_path: Path, db_url: str
) -> None:
    """A shared database view (SQLite file and PostgreSQL) becomes bank accounts in fen."""
    case = (await cases_of(dept_sim))[0]
    holder = case["members"][0]["id_number"]
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE deposits (id_no VARCHAR(18), acct VARCHAR(20), bank VARCHAR(40), "
                "kind VARCHAR(1), balance NUMERIC(14, 2), balance_date DATE, closed INTEGER)"
            )
        )
        await conn.execute(
            text("CREATE VIEW v_deposits AS SELECT * FROM deposits WHERE closed = 0")
        )
        await conn.execute(
            text(
                "INSERT INTO deposits VALUES "
                "(:i, 'X-1', '农商银行', '2', 12345.67, '2025-06-30', 0)"
            ),
            {"i": holder},
        )
    await engine.dispose()
    spec = tomllib.loads(DEPOSITS_SPEC.replace("{dsn}", db_url))
    response = await verify(settings_with(tmp_path, dept_sim.base_url, deposits=spec), case)
    deposits = source(response, "deposits")
    assert deposits.status == pb.SOURCE_STATUS_OK, deposits.error
    assert [(r.record_id, r.subject_id) for r in deposits.records] == [("X-1", holder)]
    assert deposits.records[0].bank_account.balance_fen == 1234567


def test_a_name_clash_with_a_plugin_is_refused(tmp_path: Path) -> None:
    """A declarative source may not take the name of an installed plug-in."""
    settings = settings_with(tmp_path, "http://127.0.0.1:9", vehicle=tomllib.loads(VEHICLE_SPEC))
    with pytest.raises(RegistryError, match=r"sources\.vehicle: the name is taken"):
        load_adapters(settings)


def test_config_check_names_file_key_and_reason(tmp_path: Path) -> None:
    """`hedui config check` prints FILE: key: reason for every mistake and exits 1."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[sources.cars]\nkind = "http_json"\ncategory = "vehicle"\ndepartment = "交管"\n'
        'record = "vehicle"\nendpoint = "/x"\nitems = "owners[]"\n'
        '[sources.cars.fields]\nplate = "plateNo"\n'
        "[adapters.bank.resilience]\nmax_attempts = 0\n"
    )
    result = CliRunner().invoke(app, ["config", "check", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert f"{bad}: sources.cars: " in result.output
    assert "missing ['record_id'" in result.output
    assert f"{bad}: adapters.bank.resilience.max_attempts: " in result.output


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    """A valid file prints its effective configuration with DSN passwords and tokens masked."""
    spec = VEHICLE_SPEC.replace(
        'items = "', 'headers = { Authorization = "Bearer s3cret" }\nitems = "'
    )
    good = tmp_path / "good.toml"
    good.write_text(
        'database_url = "postgresql://hedui:hunter2@db.example/hedui"\n'
        + "[sources.cars]\n"
        + spec.replace("[fields]", "[sources.cars.fields]")
    )
    result = CliRunner().invoke(app, ["config", "check", str(good)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "s3cret" not in result.output
    assert "postgresql://hedui:***@db.example/hedui" in result.output
    assert "cars" in result.output
