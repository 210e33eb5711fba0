"""adapters.testing: the in-process FakeAdapter, fake_adapters and the conformance check."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import date
from typing import Any

import pytest

from adapters.base import Adapter, AdapterError, SourceCategory, SourceNotFound, SourceThrottled
from adapters.records import DeathRecord, Record
from adapters.simulator import build_population
from adapters.testing import ConformanceError, FakeAdapter, check_adapter, fake_adapters, make_query

ALIVE, DEAD = "110105194912310021", "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


def _funeral(**options: Any) -> FakeAdapter:
    return FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬", **options)


@pytest.mark.asyncio
async def test_fake_answers_only_about_queried_subjects() -> None:
    """fetch returns the records of the queried subjects, and decode gives them back."""
    fake = _funeral()
    raw = await fake.fetch(make_query(ALIVE, DEAD))
    empty = await fake.fetch(make_query(ALIVE))
    assert fake.decode(raw.body) == (DEATH,)
    assert fake.decode(empty.body) == ()
    assert (raw.department, raw.as_of, len(fake.calls)) == ("民政殡葬", date(2025, 6, 30), 2)


@pytest.mark.asyncio
async def test_fake_passes_the_conformance_check() -> None:
    """The FakeAdapter meets the adapter contract it helps to test."""
    assert isinstance(_funeral(), Adapter)
    assert await check_adapter(_funeral(), make_query(ALIVE, DEAD)) == (DEATH,)


@pytest.mark.asyncio
async def test_fake_raises_its_configured_error_each_time() -> None:
    """A configured AdapterError is raised on every call, as a fresh copy with its attributes."""
    fake = _funeral(error=SourceThrottled("slow down", retry_after_s=2.0))
    for _ in range(2):
        with pytest.raises(SourceThrottled, match="slow down") as caught:
            await fake.fetch(make_query(DEAD))
        assert caught.value.retry_after_s == 2.0


@pytest.mark.asyncio
async def test_fake_latency_and_hang() -> None:
    """latency_s delays the answer; hang never answers until cancelled by the caller's timeout."""
    started = time.perf_counter()
    await _funeral(latency_s=0.05).fetch(make_query(DEAD))
    assert time.perf_counter() - started >= 0.05
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await _funeral(hang=True).fetch(make_query(DEAD))


@pytest.mark.asyncio
async def test_fake_can_report_not_found() -> None:
    """With not_found_when_empty, a query about nobody it knows raises SourceNotFound."""
    with pytest.raises(SourceNotFound):
        await _funeral(not_found_when_empty=True).fetch(make_query(ALIVE))


@pytest.mark.asyncio
async def test_fake_adapters_cover_the_seven_sources() -> None:
    """fake_adapters gives seven fakes, each answering with its own kind of record."""
    population = build_population(7, 30)
    fakes = fake_adapters(population.all_records())
    ids = [p.id_number for h in population for p in h.persons]
    assert {f.category for f in fakes} == {
        SourceCategory.HOUSEHOLD_REGISTRATION, SourceCategory.SOCIAL_INSURANCE,
        SourceCategory.VEHICLE, SourceCategory.PROPERTY, SourceCategory.FUNERAL,
        SourceCategory.HOUSING_FUND, SourceCategory.BANK,
    }  # fmt: skip
    for fake in fakes:
        records = await check_adapter(fake, make_query(*ids))
        assert len({r.kind for r in records}) <= 1


class _Unstable(FakeAdapter):
    """Decodes differently every time: breaks purity."""

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        self.latency_s += 1
        return (*super().decode(raw), DEATH)[: int(self.latency_s) % 2 + 1]


class _Nosy(FakeAdapter):
    """Answers about someone it was not asked about."""

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        return (dataclasses.replace(DEATH, subject_id="somebody-else"),)


@pytest.mark.asyncio
@pytest.mark.parametrize(("cls", "message"), [(_Unstable, "different"), (_Nosy, "not queried")])
async def test_conformance_check_catches_broken_adapters(
    cls: type[FakeAdapter], message: str
) -> None:
    """check_adapter raises ConformanceError naming the broken rule."""
    adapter = cls("funeral", SourceCategory.FUNERAL, [DEATH])
    with pytest.raises(ConformanceError, match=message):
        await check_adapter(adapter, make_query(DEAD))


@pytest.mark.asyncio
async def test_conformance_check_propagates_fetch_errors() -> None:
    """An AdapterError from fetch is not a contract breach: it reaches the caller unchanged."""
    adapter = FakeAdapter("vehicle", SourceCategory.VEHICLE, error=AdapterError("down"))
    with pytest.raises(AdapterError, match="down"):
        await check_adapter(adapter, make_query(DEAD))
