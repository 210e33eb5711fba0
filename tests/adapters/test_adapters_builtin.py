"""The seven built-in adapters against the simulator over real loopback HTTP."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import AsyncIterator
from datetime import date
from importlib.metadata import entry_points

import httpx
import pytest
import pytest_asyncio

from adapters.base import (
    Adapter,
    AdapterConfig,
    AdapterError,
    MalformedAnswer,
    SourceDenied,
    SourceNotFound,
    SourceThrottled,
    SourceTimeout,
)
from adapters.records import RECORD_TYPES, BankAccount, Record, RegistrationRecord
from adapters.simulator import DEPARTMENTS, Simulator
from adapters.testing import check_adapter, make_query

module_loop = pytest.mark.asyncio(loop_scope="module")
AS_OF = date(2025, 6, 30)
UNKNOWN = "11010519491231002X"  # valid check digit, in no department


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def adapters(sim: Simulator) -> AsyncIterator[dict[str, Adapter]]:
    """The seven adapters, built through their entry points, keyed by department name."""
    made: dict[str, Adapter] = {}
    for ep in entry_points(group="hedui.adapters"):
        adapter = ep.load()(AdapterConfig(name=ep.name, base_url=sim.base_url))
        made[str(adapter.category)] = adapter
    yield made
    for adapter in made.values():
        await adapter.aclose()


def _holders(sim: Simulator, kind: type[Record]) -> list[str]:
    """ID numbers of up to 12 persons holding a record of ``kind``, plus one nobody knows."""
    people = [p for h in sim.population for p in h.persons]
    holders = [p.id_number for p in people if any(isinstance(r, kind) for r in p.records)]
    return [*holders[:12], UNKNOWN]


def _truth(sim: Simulator, ids: list[str], kind: type[Record]) -> tuple[Record, ...]:
    """What the department holds about ``ids``, as the adapter should decode it."""
    found = [r for i in ids for r in sim.population.records_of(i) if isinstance(r, kind)]
    return tuple(
        dataclasses.replace(r, balance_date=AS_OF) if isinstance(r, BankAccount) else r
        for r in found
    )


@module_loop
@pytest.mark.parametrize("department", list(DEPARTMENTS))
async def test_adapter_decodes_exactly_what_the_department_holds(
    sim: Simulator, adapters: dict[str, Adapter], department: str
) -> None:
    """decode(fetch(q)) equals the simulator's own records, exactly (money to the fen)."""
    kind = DEPARTMENTS[department].kind
    ids = _holders(sim, kind)
    raw = await adapters[department].fetch(make_query(*ids))
    assert adapters[department].decode(raw.body) == _truth(sim, ids, kind)
    assert (raw.department, raw.as_of) == (DEPARTMENTS[department].title, AS_OF)


@module_loop
@pytest.mark.parametrize("department", list(DEPARTMENTS))
async def test_builtin_adapters_pass_the_conformance_check(
    sim: Simulator, adapters: dict[str, Adapter], department: str
) -> None:
    """Every built-in adapter meets the adapter contract of adapters.testing.check_adapter."""
    records = await check_adapter(
        adapters[department], make_query(*_holders(sim, DEPARTMENTS[department].kind))
    )
    assert records
    assert all(type(r) is DEPARTMENTS[department].kind for r in records)
    assert set(RECORD_TYPES.values()) >= {type(r) for r in records}


@module_loop
async def test_records_after_as_of_are_left_out(
    sim: Simulator, adapters: dict[str, Adapter]
) -> None:
    """A wage contribution that started after the as-of date is not in the answer."""
    adapter = adapters["social_insurance"]
    ids = _holders(sim, DEPARTMENTS["social_insurance"].kind)[:3]
    now = adapter.decode((await adapter.fetch(make_query(*ids))).body)
    earliest = min(r.since for r in now)  # type: ignore[attr-defined]
    before = adapter.decode((await adapter.fetch(make_query(*ids, as_of=earliest))).body)
    assert 0 < len(before) < len(now)


@module_loop
async def test_http_500_is_adapter_error(sim: Simulator, adapters: dict[str, Adapter]) -> None:
    """HTTP 500 becomes a plain AdapterError chained to httpx's HTTPStatusError."""
    sim.set_fault("vehicle", "http_500")
    with pytest.raises(AdapterError, match="HTTP 500") as caught:
        await adapters["vehicle"].fetch(make_query(*_holders(sim, DEPARTMENTS["vehicle"].kind)))
    assert type(caught.value) is AdapterError
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)


@module_loop
async def test_bank_without_authorization_is_denied(
    sim: Simulator, adapters: dict[str, Adapter]
) -> None:
    """The bank's 403 for an empty authorization_ref becomes SourceDenied."""
    query = make_query(*_holders(sim, BankAccount), authorization_ref="")
    with pytest.raises(SourceDenied, match="AUTHORIZATION_REQUIRED"):
        await adapters["bank"].fetch(query)


@module_loop
async def test_nobody_known_is_not_found(adapters: dict[str, Adapter]) -> None:
    """A 404 (no record for any subject) becomes SourceNotFound."""
    with pytest.raises(SourceNotFound):
        await adapters["household_registration"].fetch(make_query(UNKNOWN))


@module_loop
async def test_429_is_throttled_with_retry_after(
    sim: Simulator, adapters: dict[str, Adapter]
) -> None:
    """HTTP 429 becomes SourceThrottled carrying the Retry-After seconds."""
    sim.set_fault("housing_fund", "status_429", retry_after_s=4)
    with pytest.raises(SourceThrottled) as caught:
        await adapters["housing_fund"].fetch(make_query(UNKNOWN))
    assert caught.value.retry_after_s == 4.0


@module_loop
async def test_hang_surfaces_as_source_timeout(
    sim: Simulator, adapters: dict[str, Adapter]
) -> None:
    """A hanging department and a 0.2 s budget give SourceTimeout (status TIMEOUT) in time."""
    sim.set_fault("funeral", "hang")
    started = time.perf_counter()
    with pytest.raises(SourceTimeout) as caught:
        await adapters["funeral"].fetch(make_query(UNKNOWN, timeout_s=0.2))
    assert time.perf_counter() - started < 1.5
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert caught.value.status == "TIMEOUT"


@module_loop
async def test_unreachable_department_is_adapter_error() -> None:
    """A refused connection becomes AdapterError chained to httpx.ConnectError."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry = next(ep for ep in entry_points(group="hedui.adapters") if ep.name == "vehicle")
    adapter = entry.load()(AdapterConfig(name="vehicle", base_url=f"http://127.0.0.1:{port}"))
    try:
        with pytest.raises(AdapterError, match="unreachable") as caught:
            await adapter.fetch(make_query(UNKNOWN))
    finally:
        await adapter.aclose()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@module_loop
@pytest.mark.parametrize("mode", ["malformed_json", "truncated_body", "wrong_schema"])
async def test_spoiled_bodies_do_not_decode(
    sim: Simulator, adapters: dict[str, Adapter], mode: str
) -> None:
    """Bodies spoiled by a fault mode are fetched as bytes and rejected by decode."""
    sim.set_fault("property", mode)
    adapter = adapters["property"]
    raw = await adapter.fetch(make_query(*_holders(sim, DEPARTMENTS["property"].kind)))
    with pytest.raises(MalformedAnswer):
        adapter.decode(raw.body)


@module_loop
async def test_flapping_fails_then_answers(sim: Simulator, adapters: dict[str, Adapter]) -> None:
    """Under flapping, one request fails with AdapterError and the next is answered."""
    sim.set_fault("bank", "flapping")
    query = make_query(*_holders(sim, BankAccount))
    with pytest.raises(AdapterError):
        await adapters["bank"].fetch(query)
    assert adapters["bank"].decode((await adapters["bank"].fetch(query)).body)


@module_loop
async def test_planted_discrepancies_show_in_department_answers(
    sim: Simulator, adapters: dict[str, Adapter]
) -> None:
    """Each planted discrepancy is visible in the answer of the department it names."""
    seen = set()
    for household in sim.population:
        for found in household.discrepancies:
            query = make_query(*(m.id_number for m in household.members))
            records = adapters[found.department].decode(
                (await adapters[found.department].fetch(query)).body
            )
            if found.kind == "unregistered_member":
                assert found.id_number not in {r.subject_id for r in records}
            else:
                assert found.record_id in {
                    r.record_id for r in records if r.subject_id == found.id_number
                }
            if found.kind == "deceased_member_listed":
                hukou = adapters["household_registration"].decode(
                    (await adapters["household_registration"].fetch(query)).body
                )
                regs = [r for r in hukou if isinstance(r, RegistrationRecord)]
                assert {r.status for r in regs if r.subject_id == found.id_number} == {"deceased"}
            seen.add(found.kind)
    assert len(seen) == 6
