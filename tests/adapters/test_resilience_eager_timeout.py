"""adapters.resilience._eager.within: asyncio.timeout, but no timer for a call that never waits."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from adapters.base import SourceCategory, SourceTimeout
from adapters.records import DeathRecord
from adapters.resilience import ResiliencePolicy, ResilientAdapter
from adapters.resilience._eager import within
from adapters.testing import FakeAdapter, make_query

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


def _no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("a call that does not wait must not arm a timer")

    monkeypatch.setattr(asyncio, "timeout", refuse)
    monkeypatch.setattr(asyncio, "timeout_at", refuse)


async def _instant() -> str:
    return "at once"


async def _later(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "later"


@pytest.mark.asyncio
async def test_a_call_that_does_not_wait_arms_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A coroutine finishing on its first step returns its value without any timer."""
    _no_timer(monkeypatch)
    assert await within(_instant(), 1.0) == "at once"


@pytest.mark.asyncio
async def test_a_call_that_waits_returns_its_value() -> None:
    """A coroutine that suspends (several times) is driven to its result under the timer."""

    async def twice() -> str:
        await asyncio.sleep(0)
        return await _later(0.001)

    assert await within(twice(), 5.0) == "later"


@pytest.mark.asyncio
async def test_a_call_that_overruns_raises_timeout_and_unwinds() -> None:
    """Past its time the call is cancelled (its finally runs) and TimeoutError is raised."""
    unwound: list[bool] = []

    async def hang() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            unwound.append(True)

    with pytest.raises(TimeoutError):
        await within(hang(), 0.01)
    assert unwound == [True]


@pytest.mark.asyncio
async def test_an_awaitable_that_is_no_coroutine_is_awaited_under_the_timer() -> None:
    """A future (a fetch returning one) gives its result, or TimeoutError when it never does."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[str] = loop.create_future()
    ready.set_result("future")
    assert await within(ready, 1.0) == "future"
    with pytest.raises(TimeoutError):
        await within(loop.create_future(), 0.01)


@pytest.mark.asyncio
async def test_errors_of_either_step_propagate() -> None:
    """An exception raised before or after the first suspension reaches the caller as is."""

    async def fail_now() -> None:
        raise ValueError("now")

    async def fail_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    for call, text in ((fail_now(), "now"), (fail_later(), "later")):
        with pytest.raises(ValueError, match=text):
            await within(call, 5.0)


@pytest.mark.asyncio
async def test_cancelling_the_caller_cancels_the_call() -> None:
    """A cancellation of the waiting task reaches the call, which may clean up, then propagates."""
    seen: list[str] = []

    async def patient() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = asyncio.create_task(within(patient(), 3600))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


@pytest.mark.asyncio
async def test_guard_answers_an_instant_source_without_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard's common case — an in-process source answering at once — arms no timer."""
    guarded = ResilientAdapter(FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH]))
    _no_timer(monkeypatch)
    outcome = await guarded.call(make_query(DEAD))
    assert (outcome.records, outcome.attempts, outcome.error) == ((DEATH,), 1, None)
    assert guarded.bulkhead.in_flight == 0


@pytest.mark.asyncio
async def test_guard_still_times_out_a_slow_source() -> None:
    """A source that waits past the attempt timeout is cut off: TIMEOUT, one failure counted."""
    slow = FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], latency_s=3600)
    guarded = ResilientAdapter(slow, ResiliencePolicy(attempt_timeout_s=0.01, max_attempts=1))
    outcome = await guarded.call(make_query(DEAD))
    assert isinstance(outcome.error, SourceTimeout)
    assert str(outcome.error).startswith("funeral: no answer within 0.010s")
    assert (outcome.attempts, guarded.breaker.consecutive_failures) == (1, 1)
    assert guarded.bulkhead.in_flight == 0
