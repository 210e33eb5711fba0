"""adapters.resilience: circuit breaker, bulkhead, rate limit, daily quota, stats."""

from __future__ import annotations

import asyncio
import random
from datetime import date
from typing import Any

import pytest

from adapters.base import AdapterError, AnswerStatus, SourceCategory
from adapters.records import DeathRecord
from adapters.resilience import (
    BulkheadFull,
    CircuitOpen,
    CircuitState,
    FakeClock,
    QuotaExhausted,
    RateLimited,
    ResiliencePolicy,
    ResilientAdapter,
)
from adapters.testing import FakeAdapter, check_adapter, make_query

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


def fake(**options: Any) -> FakeAdapter:
    """The funeral department, answering about DEAD."""
    return FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬", **options)


def guard(inner: FakeAdapter, clock: FakeClock, **policy: Any) -> ResilientAdapter:
    """``inner`` behind a policy without jitter, on the fake clock."""
    base = {"backoff_jitter_s": 0.0, **policy}
    return ResilientAdapter(inner, ResiliencePolicy(**base), clock=clock, rng=random.Random(1))


@pytest.mark.asyncio
async def test_circuit_opens_after_threshold_and_stops_calling() -> None:
    """Three failures open the circuit; the fourth call is answered without calling."""
    inner = fake(error=AdapterError("HTTP 500"))
    guarded = guard(inner, FakeClock(), failure_threshold=3)
    for _ in range(3):
        assert not (await guarded.call(make_query(DEAD))).circuit_open
    outcome = await guarded.call(make_query(DEAD))
    assert isinstance(outcome.error, CircuitOpen)
    assert outcome.error.status is AnswerStatus.UNAVAILABLE
    assert (outcome.circuit_open, outcome.attempts, len(inner.calls)) == (True, 0, 3)
    assert guarded.circuit_state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_opening_circuit_releases_the_calls_still_waiting() -> None:
    """A hung department: when two timeouts open the circuit, a call with 30 s left ends then."""
    inner = fake(hang=True)
    guarded = guard(inner, FakeClock(), failure_threshold=2, max_attempts=1)
    async with asyncio.timeout(10):  # without the release, the long call would take 30 s
        waiting = asyncio.create_task(guarded.call(make_query(DEAD, timeout_s=30.0)))
        await asyncio.sleep(0)  # it is waiting on the department
        short = [guarded.call(make_query(DEAD, timeout_s=0.05)) for _ in range(2)]
        timed_out = await asyncio.gather(*short)
        released = await waiting
    assert [type(o.error).__name__ for o in timed_out] == ["SourceTimeout", "SourceTimeout"]
    assert isinstance(released.error, CircuitOpen)
    assert "while this call waited" in str(released.error)
    assert (released.attempts, released.circuit_open) == (1, False)  # it was sent
    assert len(inner.calls) == 3
    assert guarded.breaker.consecutive_failures == 2  # a released call is not another failure
    assert guarded.circuit_state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_a_cancelled_call_stays_cancelled_when_the_circuit_also_releases_it() -> None:
    """The caller's own cancellation wins over the release: nothing swallows it."""
    guarded = guard(fake(hang=True), FakeClock(), failure_threshold=1, max_attempts=1)
    waiting = asyncio.create_task(guarded.call(make_query(DEAD, timeout_s=30.0)))
    await asyncio.sleep(0)
    waiting.cancel()
    guarded.breaker.record_failure()  # opens the circuit in the same turn: releases the call too
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert guarded.bulkhead.in_flight == 0


@pytest.mark.asyncio
async def test_half_open_trial_success_closes_the_circuit() -> None:
    """After the reset time one trial call passes; its success closes the circuit."""
    clock, inner = FakeClock(), fake(error=AdapterError("down"))
    guarded = guard(inner, clock, failure_threshold=1, reset_timeout_s=30.0)
    await guarded.call(make_query(DEAD))
    assert guarded.circuit_state is CircuitState.OPEN
    clock.advance(30.0)
    assert guarded.circuit_state is CircuitState.HALF_OPEN
    inner.error = None
    outcome = await guarded.call(make_query(DEAD))
    assert (outcome.records, outcome.circuit_open) == ((DEATH,), False)
    assert guarded.circuit_state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_half_open_trial_failure_reopens_the_circuit() -> None:
    """A failed trial call opens the circuit again for a full reset period."""
    clock, inner = FakeClock(), fake(error=AdapterError("down"))
    guarded = guard(inner, clock, failure_threshold=2, reset_timeout_s=10.0)
    await guarded.call(make_query(DEAD))
    await guarded.call(make_query(DEAD))
    clock.advance(10.0)
    assert not (await guarded.call(make_query(DEAD))).circuit_open  # the trial
    assert guarded.circuit_state is CircuitState.OPEN
    assert (await guarded.call(make_query(DEAD))).circuit_open
    assert guarded.breaker.times_opened == 2


@pytest.mark.asyncio
async def test_not_found_and_denied_do_not_open_the_circuit() -> None:
    """A department that says "no record" is up: its answers never trip the breaker."""
    inner = fake(not_found_when_empty=True)
    guarded = guard(inner, FakeClock(), failure_threshold=1)
    for _ in range(3):
        outcome = await guarded.call(make_query("110105194912310021"))
        assert outcome.error is not None
        assert outcome.error.status is AnswerStatus.NOT_FOUND
    assert guarded.circuit_state is CircuitState.CLOSED


@pytest.mark.asyncio
async def test_hanging_department_times_out_per_attempt_and_counts_as_failure() -> None:
    """A hang costs one attempt timeout, is TIMEOUT (not retried) and counts for the breaker."""
    guarded = ResilientAdapter(
        fake(hang=True), ResiliencePolicy(attempt_timeout_s=0.02, failure_threshold=1)
    )
    outcome = await guarded.call(make_query(DEAD, timeout_s=5.0))
    assert outcome.error is not None
    assert outcome.error.status is AnswerStatus.TIMEOUT
    assert outcome.attempts == 1
    assert guarded.circuit_state is CircuitState.OPEN


@pytest.mark.asyncio
async def test_bulkhead_refuses_when_every_slot_stays_busy() -> None:
    """With one slot held by a hanging call, another call gets BulkheadFull (TIMEOUT)."""
    guarded = ResilientAdapter(fake(hang=True), ResiliencePolicy(max_concurrency=1))
    first = asyncio.create_task(guarded.call(make_query(DEAD, timeout_s=5.0)))
    for _ in range(100):  # let the first call take the slot
        if guarded.bulkhead.in_flight:
            break
        await asyncio.sleep(0)
    outcome = await guarded.call(make_query(DEAD, timeout_s=0.02))
    assert isinstance(outcome.error, BulkheadFull)
    assert outcome.error.status is AnswerStatus.TIMEOUT
    assert outcome.attempts == 0
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first


@pytest.mark.asyncio
async def test_rate_limit_waits_when_it_fits_and_refuses_otherwise() -> None:
    """At 1 call/s: the second call waits 1 s; a third with 0.5 s left is refused unasked."""
    clock, inner = FakeClock(), fake()
    guarded = guard(inner, clock, rate_per_s=1.0, burst=1)
    assert (await guarded.call(make_query(DEAD))).error is None
    assert (await guarded.call(make_query(DEAD, timeout_s=5.0))).error is None
    assert clock.sleeps == [1.0]
    outcome = await guarded.call(make_query(DEAD, timeout_s=0.5))
    assert isinstance(outcome.error, RateLimited)
    assert (outcome.throttled, len(inner.calls)) == (True, 2)


@pytest.mark.asyncio
async def test_daily_quota_is_denied_when_used_up_and_renews_the_next_day() -> None:
    """Two calls a day: the third is DENIED without a call; the next day it works again."""
    clock, inner = FakeClock(), fake()
    guarded = guard(inner, clock, daily_quota=2)
    for _ in range(2):
        assert (await guarded.call(make_query(DEAD))).error is None
    assert guarded.quota_left == 0
    outcome = await guarded.call(make_query(DEAD))
    assert isinstance(outcome.error, QuotaExhausted)
    assert outcome.error.status is AnswerStatus.DENIED
    assert outcome.throttled
    assert len(inner.calls) == 2
    clock.advance(24 * 3600)
    assert guarded.quota_left == 2
    assert (await guarded.call(make_query(DEAD))).error is None


@pytest.mark.asyncio
async def test_stats_track_latency_and_error_rate() -> None:
    """Each call is one sample; failures raise the error rate."""
    inner = fake()
    guarded = guard(inner, FakeClock())
    await guarded.call(make_query(DEAD))
    inner.error = AdapterError("down")
    await guarded.call(make_query(DEAD))
    snap = guarded.stats.snapshot()
    assert (snap.calls, snap.errors, snap.error_rate) == (2, 1, 0.5)


@pytest.mark.asyncio
async def test_resilient_adapter_passes_the_conformance_check() -> None:
    """The wrapper is itself an Adapter meeting the contract."""
    assert await check_adapter(guard(fake(), FakeClock()), make_query(DEAD)) == (DEATH,)


def test_policy_rejects_nonsense() -> None:
    """Negative limits and zero attempts are refused, naming the field."""
    with pytest.raises(ValueError, match="max_attempts"):
        ResiliencePolicy(max_attempts=0)
    with pytest.raises(ValueError, match="daily_quota"):
        ResiliencePolicy(daily_quota=-1)
