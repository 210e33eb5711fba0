"""adapters.resilience: retries (tenacity) only for retryable failures, within the deadline."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.base import (
    AdapterError,
    AnswerStatus,
    MalformedAnswer,
    RawAnswer,
    SourceCategory,
    SourceDenied,
    SourceNotFound,
    SourceQuery,
    SourceThrottled,
)
from adapters.records import DeathRecord
from adapters.resilience import (
    FakeClock,
    ResiliencePolicy,
    ResilientAdapter,
    TransientError,
    is_retryable,
)
from adapters.testing import FakeAdapter, make_query

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


class Scripted(FakeAdapter):
    """A FakeAdapter that raises the scripted errors first, one per call, then answers."""

    def __init__(self, errors: Sequence[AdapterError]) -> None:
        super().__init__("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬")
        self.script = list(errors)

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        if self.script:
            self.calls.append(query)
            raise self.script.pop(0)
        return await super().fetch(query)


def guard(inner: FakeAdapter, clock: FakeClock, **policy: Any) -> ResilientAdapter:
    """``inner`` behind a policy without jitter, on the fake clock."""
    base = {"backoff_jitter_s": 0.0, **policy}
    return ResilientAdapter(inner, ResiliencePolicy(**base), clock=clock, rng=random.Random(1))


def http_error(status: int) -> AdapterError:
    """An AdapterError caused by an httpx status error, as the built-in adapters raise it."""
    request = httpx.Request("POST", "http://dept/x")
    error = AdapterError(f"HTTP {status}")
    error.__cause__ = httpx.HTTPStatusError(
        "bad", request=request, response=httpx.Response(status, request=request)
    )
    return error


@pytest.mark.asyncio
async def test_transient_failures_are_retried_with_exponential_backoff() -> None:
    """Two transient failures, then an answer: three attempts, waits doubling between them."""
    clock = FakeClock()
    fake = Scripted([TransientError("reset"), TransientError("reset")])
    outcome = await guard(fake, clock).call(make_query(DEAD))
    assert outcome.error is None
    assert outcome.records == (DEATH,)
    assert outcome.attempts == 3
    assert clock.sleeps == [0.05, 0.1]


@pytest.mark.asyncio
async def test_429_waits_for_retry_after_when_it_fits() -> None:
    """A 429 with Retry-After 2 s and 10 s left: wait exactly 2 s, retry, succeed, throttled."""
    clock = FakeClock()
    fake = Scripted([SourceThrottled("HTTP 429", retry_after_s=2.0)])
    outcome = await guard(fake, clock).call(make_query(DEAD, timeout_s=10.0))
    assert (outcome.error, outcome.attempts, outcome.throttled) == (None, 2, True)
    assert clock.sleeps == [2.0]


@pytest.mark.asyncio
async def test_429_retry_after_beyond_the_deadline_is_not_waited_for() -> None:
    """Retry-After 30 s with 5 s left: no wait, no retry; the 429 is the answer."""
    clock = FakeClock()
    fake = Scripted([SourceThrottled("HTTP 429", retry_after_s=30.0)])
    outcome = await guard(fake, clock).call(make_query(DEAD, timeout_s=5.0))
    assert isinstance(outcome.error, SourceThrottled)
    assert (outcome.attempts, outcome.throttled, clock.sleeps) == (1, True, [])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "error",
    [
        SourceDenied("HTTP 403"),
        SourceNotFound("HTTP 404"),
        AdapterError("HTTP 500"),
        MalformedAnswer("garbage"),
    ],
)
async def test_other_failures_are_not_retried(error: AdapterError) -> None:
    """4xx, a plain 500 and garbage get exactly one attempt."""
    clock = FakeClock()
    fake = Scripted([error, error, error])
    outcome = await guard(fake, clock).call(make_query(DEAD))
    assert type(outcome.error) is type(error)
    assert (outcome.attempts, len(fake.calls), clock.sleeps) == (1, 1, [])


@pytest.mark.asyncio
async def test_attempts_stop_at_max_attempts() -> None:
    """A department answering 503 forever is asked max_attempts times, then reported."""
    clock = FakeClock()
    fake = Scripted([http_error(503)] * 5)
    outcome = await guard(fake, clock, max_attempts=3).call(make_query(DEAD))
    assert outcome.error is not None
    assert outcome.error.status is AnswerStatus.UNAVAILABLE
    assert (outcome.attempts, len(fake.calls)) == (3, 3)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (http_error(502), True),
        (http_error(503), True),
        (http_error(504), True),
        (http_error(500), False),
        (http_error(404), False),
        (http_error(429), False),  # a bare 429 status without SourceThrottled is not ours
        (SourceThrottled("429"), True),
        (TransientError("x"), True),
        (AdapterError("x"), False),
    ],
)
def test_retryable_classification(error: AdapterError, retry: bool) -> None:
    """502/503/504, connect errors, 429 and TransientError are retryable; nothing else."""
    assert is_retryable(error) is retry


def test_connect_errors_are_retryable() -> None:
    """An AdapterError caused by httpx.ConnectError (connection refused) is retried."""
    error = AdapterError("unreachable")
    error.__cause__ = httpx.ConnectError("refused")
    assert is_retryable(error)


@pytest.mark.asyncio
async def test_fetch_keeps_the_adapter_contract() -> None:
    """fetch returns the answer with its attempt count, or raises the final error."""
    clock = FakeClock()
    raw = await guard(Scripted([TransientError("x")]), clock).fetch(make_query(DEAD))
    assert raw.attempts == 2
    with pytest.raises(SourceDenied):
        await guard(Scripted([SourceDenied("no")]), clock).fetch(make_query(DEAD))
