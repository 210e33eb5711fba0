"""gateway.fanout: one guard for the whole fan-out; every source still yields an Answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import pytest_asyncio

from adapters.base import AnswerStatus, SourceCategory, SourceQuery
from adapters.records import DeathRecord
from adapters.resilience import Outcome, ResilientAdapter
from adapters.testing import FakeAdapter, make_query
from gateway.fanout import fan_out

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)
NOW = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)
HANG_GUARD_S = 30.0  # only stops a broken guard from hanging the test run; not a timing check


class Stubborn(ResilientAdapter):
    """A guarded source whose call ignores its deadline (a bug the fan-out must survive)."""

    async def call(self, query: SourceQuery) -> Outcome:
        await asyncio.sleep(3600)
        raise AssertionError("never reached")


class Deaf(ResilientAdapter):
    """Worse: it also swallows the first cancellation and keeps going."""

    async def call(self, query: SourceQuery) -> Outcome:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)
        raise AssertionError("never reached")


def funeral(**options: bool) -> FakeAdapter:
    return FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬", **options)


def vehicle() -> FakeAdapter:
    return FakeAdapter("vehicle", SourceCategory.VEHICLE, department="公安交管车辆")


@pytest_asyncio.fixture
async def no_leftovers() -> AsyncIterator[None]:
    """Cancel whatever a test's broken sources left running."""
    yield
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("broken", [Stubborn, Deaf])
async def test_source_ignoring_its_deadline_is_answered_timeout(
    broken: type[ResilientAdapter], no_leftovers: None
) -> None:
    """A source running past deadline + grace is cut off with TIMEOUT; the others answer."""
    sources = [broken(vehicle()), ResilientAdapter(funeral())]
    query = make_query(DEAD, timeout_s=0.05)
    answers = await asyncio.wait_for(fan_out(sources, query, clock=lambda: NOW), HANG_GUARD_S)
    late, good = answers
    assert (late.source, late.status, late.attempts) == ("vehicle", AnswerStatus.TIMEOUT, 0)
    assert late.error == "no answer within 0.050s"
    assert (late.raw, late.fetched_at) == (b"", NOW)
    assert (good.status, good.records, good.attempts) == (AnswerStatus.OK, (DEATH,), 1)


@pytest.mark.asyncio
async def test_cancelling_the_fan_out_cancels_every_source() -> None:
    """A cancelled request leaves no source running: the hanging call unwinds, its slot is free."""
    inner = funeral(hang=True)
    guarded = ResilientAdapter(inner)
    work = asyncio.create_task(fan_out([guarded], make_query(DEAD), clock=lambda: NOW))
    for _ in range(100):
        if inner.calls:
            break
        await asyncio.sleep(0)
    assert guarded.bulkhead.in_flight == 1
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    assert guarded.bulkhead.in_flight == 0
    assert guarded.breaker.consecutive_failures == 1


@pytest.mark.asyncio
async def test_every_source_answers_in_order_with_its_version() -> None:
    """Answers come back in the adapters' order, each with its origin and version."""
    sources = [ResilientAdapter(funeral()), ResilientAdapter(vehicle()), funeral()]
    answers = await fan_out(
        sources, make_query(DEAD), clock=lambda: NOW, versions={"funeral": "1.2"}
    )
    assert [(a.source, a.adapter_version) for a in answers] == [
        ("funeral", "1.2"),
        ("vehicle", ""),
        ("funeral", "1.2"),
    ]
    assert [a.records for a in answers] == [(DEATH,), (), (DEATH,)]
    assert [a.category for a in answers] == ["funeral", "vehicle", "funeral"]


@pytest.mark.asyncio
async def test_no_sources_no_answers() -> None:
    """An empty fan-out answers at once with nothing."""
    assert await fan_out([], make_query(DEAD), clock=lambda: NOW) == []
