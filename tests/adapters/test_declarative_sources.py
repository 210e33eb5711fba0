"""Declarative sources: the spec checks, the mapping, and the conformance suite for both kinds."""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import TypeAdapter, ValidationError

from adapters.base import Adapter, MalformedAnswer, SourceNotFound, SourceQuery
from adapters.builtin import VehicleAdapter
from adapters.declarative import (
    DeclarativeSpec,
    FieldSpec,
    HttpJsonSource,
    SqlViewSource,
    build_source,
    convert,
    fill_template,
)
from adapters.records import BankAccount
from adapters.simulator import Population, Simulator, build_population, run_simulator
from adapters.testing import AdapterConformance, make_query

VEHICLE_SPEC = """
kind = "http_json"
category = "vehicle"
department = "公安交管车辆"
record = "vehicle"
endpoint = "/vehicle/api/v1/owners/vehicles:search"
items = "owners[].vehicles[]"
as_of = "asOf"
department_path = "department"

[fields]
record_id = "vin"
subject_id = "^idNumber"
plate = "plateNo"
vehicle_type = { path = "vehicleClass", type = "code", codes = { K33 = "car", M21 = "motorcycle", M11 = "tricycle", H31 = "truck" } }
brand = "brandModel"
registered_on = { path = "firstRegDate", type = "date" }
purchase_price_fen = { path = "invoicePriceFen", type = "int" }
status = { path = "state", type = "code", codes = { A = "registered", B = "transferred", E = "scrapped" } }
"""  # noqa: E501

DEPOSITS_SPEC = """
kind = "sql_view"
category = "bank"
department = "农商银行存款视图"
record = "bank_account"
dsn = "{dsn}"
query = "SELECT id_no, acct, bank, kind, balance, balance_date FROM v_deposits WHERE id_no IN :id_numbers ORDER BY acct"

[fields]
record_id = "acct"
subject_id = "id_no"
bank = "bank"
account_type = { path = "kind", type = "code", codes = { "1" = "demand", "2" = "time" } }
balance_fen = { path = "balance", type = "yuan" }
balance_date = { path = "balance_date", type = "date" }
"""  # noqa: E501

SPEC = TypeAdapter(DeclarativeSpec)
HOLDER = "110105194912310021"


def spec_of(text: str, **changes: Any) -> Any:
    """A validated spec from TOML text, with top-level keys changed."""
    return SPEC.validate_python({**tomllib.loads(text), **changes})


def make_deposits_db(path: Path) -> str:
    """A department database file with a deposits view; its DSN."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE deposits (id_no TEXT, acct TEXT, bank TEXT, kind TEXT,
                                   balance NUMERIC, balance_date DATE, closed INTEGER);
            CREATE VIEW v_deposits AS SELECT * FROM deposits WHERE closed = 0;
            """
        )
        db.executemany(
            "INSERT INTO deposits VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (HOLDER, "6228-01", "农商银行", "1", "12345.67", "2025-06-30", 0),
                (HOLDER, "6228-02", "农商银行", "2", "500", "2025-06-30", 0),
                (HOLDER, "6228-03", "农商银行", "1", "9.99", "2025-06-30", 1),
            ],
        )
    return f"sqlite:///{path}"


def test_yuan_strings_become_exact_fen() -> None:
    """Yuan as a string, an integer or a JSON decimal become fen exactly; three places fail."""
    spec = FieldSpec(path="x", type="yuan")
    from decimal import Decimal

    assert convert("12345.67", "yuan", spec, "$.x") == 1234567
    assert convert(500, "yuan", spec, "$.x") == 50000
    assert convert(Decimal("0.1"), "yuan", spec, "$.x") == 10
    with pytest.raises(MalformedAnswer, match=r"\$\.x"):
        convert("1.005", "yuan", spec, "$.x")


def test_dates_follow_the_configured_format() -> None:
    """ISO dates by default, or the strptime format given; garbage names the path."""
    assert convert("2025-06-30", "date", FieldSpec(path="d"), "$.d") == date(2025, 6, 30)
    compact = FieldSpec(path="d", type="date", format="%Y%m%d")
    assert convert("20250630", "date", compact, "$.d") == date(2025, 6, 30)
    with pytest.raises(MalformedAnswer, match=r"\$\.d"):
        convert("June", "date", FieldSpec(path="d"), "$.d")


def test_body_template_fills_placeholders_structurally() -> None:
    """A whole-string placeholder becomes the value (a list for IDs); others are text."""
    template = {"q": {"ids": "{id_numbers}", "ref": "auth:{authorization_ref}"}}
    filled = fill_template(template, {"id_numbers": ["1", "2"], "authorization_ref": "A-7"})
    assert filled == {"q": {"ids": ["1", "2"], "ref": "auth:A-7"}}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"record": "spaceship"}, "unknown record kind"),
        ({"fields": {"plate": "plateNo"}}, "missing"),
        ({"kind": "ftp"}, "kind"),
        ({"endpoint": ""}, "endpoint"),
        ({"fields": {"brand": {"path": "a", "const": "b"}}}, "exactly one of path or const"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(change: dict[str, Any], reason: str) -> None:
    """Unknown record kinds, incomplete mappings, unknown kinds and empty keys are refused."""
    with pytest.raises(ValidationError, match=reason):
        spec_of(VEHICLE_SPEC, **change)


def test_type_mismatch_between_mapping_and_record_is_refused() -> None:
    """A date conversion for a text field of the record is refused when the file is read."""
    fields = tomllib.loads(VEHICLE_SPEC)["fields"] | {"plate": {"path": "p", "type": "date"}}
    with pytest.raises(ValidationError, match=r"fields\.plate: a vehicle record needs str"):
        spec_of(VEHICLE_SPEC, fields=fields)


def test_sql_query_must_bind_id_numbers() -> None:
    """A SQL-view query that does not bind :id_numbers (or binds others) is refused."""
    with pytest.raises(ValidationError, match=":id_numbers"):
        spec_of(DEPOSITS_SPEC.replace("{dsn}", "sqlite://"), query="SELECT * FROM v")
    with pytest.raises(ValidationError, match="unknown bound parameters"):
        spec_of(DEPOSITS_SPEC.replace("{dsn}", "sqlite://"), query="SELECT :id_numbers, :who")


@pytest.mark.asyncio
async def test_sql_view_rows_map_to_records_and_replay(tmp_path: Path) -> None:
    """Rows of the view become bank accounts (yuan → fen); the canonical bytes decode again."""
    dsn = make_deposits_db(tmp_path / "dept.db")
    source = build_source("deposits", spec_of(DEPOSITS_SPEC.replace("{dsn}", dsn)))
    try:
        raw = await source.fetch(make_query(HOLDER, "11010519491231002X"))
        with pytest.raises(SourceNotFound):
            await source.fetch(make_query("11010519491231002X"))
    finally:
        await source.aclose()
    records = source.decode(raw.body)
    assert [(r.record_id, r.balance_fen) for r in records if isinstance(r, BankAccount)] == [
        ("6228-01", 1234567),
        ("6228-02", 50000),
    ]
    assert source.decode(bytes(raw.body)) == records


class TestHttpJsonConformance(AdapterConformance):
    """A declarative vehicle source meets the adapter contract over the simulator's HTTP."""

    @pytest_asyncio.fixture
    async def adapter(self, small_sim: Simulator) -> AsyncIterator[Adapter]:
        made = HttpJsonSource("cars", spec_of(VEHICLE_SPEC), small_sim.base_url)
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self, small_population: Population) -> SourceQuery:
        owners = sorted(
            {r.subject_id for r in small_population.all_records() if r.kind == "vehicle"}
        )
        return make_query(*owners[:3])


class TestSqlViewConformance(AdapterConformance):
    """A declarative SQL-view source meets the adapter contract on a SQLite file."""

    @pytest_asyncio.fixture
    async def adapter(self, tmp_path: Path) -> AsyncIterator[Adapter]:
        dsn = make_deposits_db(tmp_path / "dept.db")
        made = SqlViewSource("deposits", spec_of(DEPOSITS_SPEC.replace("{dsn}", dsn)))
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self) -> SourceQuery:
        return make_query(HOLDER)


@pytest.mark.asyncio
async def test_declarative_vehicle_source_equals_the_builtin(
    small_sim: Simulator, small_population: Population
) -> None:
    """Mapped by configuration alone, the vehicle department gives the built-in's records."""
    from adapters.base import AdapterConfig

    owners = sorted({r.subject_id for r in small_population.all_records() if r.kind == "vehicle"})
    declared = HttpJsonSource("cars", spec_of(VEHICLE_SPEC), small_sim.base_url)
    builtin = VehicleAdapter(AdapterConfig(name="vehicle", base_url=small_sim.base_url))
    try:
        raw = await declared.fetch(make_query(*owners))
        assert raw.department == "公安机关交通管理部门"  # the department names itself
        assert raw.as_of is not None
        assert declared.decode(raw.body) == builtin.decode(raw.body)
    finally:
        await declared.aclose()
        await builtin.aclose()


@pytest.fixture(scope="module")
def small_population() -> Population:
    """The population a 30-household simulator serves (seed 7)."""
    return build_population(7, 30)


@pytest_asyncio.fixture
async def small_sim() -> AsyncIterator[Simulator]:
    """A small simulator on the test's own event loop."""
    async with run_simulator(port=0, seed=7, households=30) as running:
        yield running
