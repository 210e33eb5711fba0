"""adapters.resilience: the first attempt and a free bulkhead slot cost no retry loop, no timer."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from tenacity import AsyncRetrying

from adapters.base import AdapterError, SourceCategory, SourceDenied, SourceQuery
from adapters.records import DeathRecord
from adapters.resilience import (
    Bulkhead,
    FakeClock,
    ResiliencePolicy,
    ResilientAdapter,
    TransientError,
    _guard,
)
from adapters.testing import FakeAdapter, make_query

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


class Flaky(FakeAdapter):
    """Raises ``error`` on its first ``failures`` calls, then answers."""

    def __init__(self, error: AdapterError, failures: int = 1) -> None:
        super().__init__("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬")
        self.failure, self.failures = error, failures

    async def fetch(self, query: SourceQuery) -> Any:
        if self.failures:
            self.failures -= 1
            self.calls.append(query)
            raise self.failure
        return await super().fetch(query)


def guard(inner: FakeAdapter, clock: FakeClock, **policy: Any) -> ResilientAdapter:
    base = {"backoff_jitter_s": 0.0, **policy}
    return ResilientAdapter(inner, ResiliencePolicy(**base), clock=clock, rng=random.Random(1))


@pytest.fixture
def loops(monkeypatch: pytest.MonkeyPatch) -> list[AsyncRetrying]:
    """Every tenacity loop the guard builds, recorded."""
    built: list[AsyncRetrying] = []
    real: Callable[..., AsyncRetrying] = _guard.retrying

    def recording(*args: Any) -> AsyncRetrying:
        built.append(real(*args))
        return built[-1]

    monkeypatch.setattr(_guard, "retrying", recording)
    return built


@pytest.mark.asyncio
async def test_an_answer_at_first_try_builds_no_retry_loop(loops: list[AsyncRetrying]) -> None:
    """The common case — one attempt, one answer — never enters tenacity."""
    outcome = await guard(FakeAdapter("f", SourceCategory.FUNERAL, [DEATH]), FakeClock()).call(
        make_query(DEAD)
    )
    assert (outcome.records, outcome.attempts, loops) == ((DEATH,), 1, [])


@pytest.mark.asyncio
async def test_a_final_failure_builds_no_retry_loop(loops: list[AsyncRetrying]) -> None:
    """A failure that is not retried is reported from the first attempt, without tenacity."""
    outcome = await guard(Flaky(SourceDenied("HTTP 403")), FakeClock()).call(make_query(DEAD))
    assert isinstance(outcome.error, SourceDenied)
    assert (outcome.attempts, loops) == (1, [])


@pytest.mark.asyncio
async def test_a_retryable_failure_enters_the_retry_loop_once(loops: list[AsyncRetrying]) -> None:
    """A transient first failure is judged by tenacity: one wait, a second attempt, an answer."""
    clock = FakeClock()
    outcome = await guard(Flaky(TransientError("reset")), clock).call(make_query(DEAD))
    assert (outcome.records, outcome.attempts, clock.sleeps, len(loops)) == ((DEATH,), 2, [0.05], 1)
    assert loops[0].statistics["attempt_number"] == 2


@pytest.mark.asyncio
async def test_first_failure_opening_the_circuit_is_not_retried() -> None:
    """The breaker opened by the first attempt still stops the retries before any wait."""
    clock = FakeClock()
    guarded = guard(Flaky(TransientError("reset"), failures=3), clock, failure_threshold=1)
    outcome = await guarded.call(make_query(DEAD))
    assert isinstance(outcome.error, TransientError)
    assert (outcome.attempts, clock.sleeps) == (1, [])


@pytest.mark.asyncio
async def test_first_failure_without_time_for_a_retry_is_final() -> None:
    """With less time left than the backoff plus a minimal attempt, the first error stands."""
    clock = FakeClock()
    guarded = guard(Flaky(TransientError("reset"), failures=3), clock)
    outcome = await guarded.call(make_query(DEAD, timeout_s=0.04))
    assert isinstance(outcome.error, TransientError)
    assert (outcome.attempts, clock.sleeps) == (1, [])


@pytest.mark.asyncio
async def test_a_free_bulkhead_slot_arms_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Taking a free slot never starts a timer; a full bulkhead still waits, then refuses."""
    bulkhead = Bulkhead(2)

    def no_timer(delay: float | None) -> Any:
        raise AssertionError("a free slot must not arm a timer")

    with monkeypatch.context() as patched:
        patched.setattr(asyncio, "timeout", no_timer)
        assert await bulkhead.enter(1.0)
        assert await bulkhead.enter(1.0)
    assert bulkhead.in_flight == 2
    assert not await bulkhead.enter(0.01)
    bulkhead.leave()
    assert await bulkhead.enter(0.01)
    assert bulkhead.in_flight == 2


@pytest.mark.asyncio
async def test_bulkhead_slot_context_gives_its_slot_back() -> None:
    """``slot`` holds a slot for the block and frees it afterwards, also after an error."""
    bulkhead = Bulkhead(1)

    async def failing_block() -> None:
        async with bulkhead.slot(1.0) as got:
            assert got
            assert bulkhead.in_flight == 1
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing_block()
    async with bulkhead.slot(1.0) as got:
        assert got
    assert bulkhead.in_flight == 0


def test_attempt_query_keeps_every_field() -> None:
    """The per-attempt query equals ``dataclasses.replace`` (update it when SourceQuery grows)."""
    names = [f.name for f in dataclasses.fields(SourceQuery)]
    assert names == ["request_id", "subjects", "as_of", "purpose", "authorization_ref", "timeout_s"]
    query = make_query(DEAD, "110105194912310021", purpose="REVIEW", request_id="r-1")
    assert _guard._with_timeout(query, 1.5) == dataclasses.replace(query, timeout_s=1.5)
