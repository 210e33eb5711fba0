"""Which failures are retried, how long to wait, and when to give up — built on tenacity.

Retried: connection errors, HTTP 502/503/504, :class:`TransientError`, and HTTP 429 (waiting at
least its Retry-After). Never retried: other 4xx (denied, not found), 500, malformed answers,
timeouts (the attempt already used its time) and the gateway's own refusals. A retry happens only
when its wait plus a minimal attempt fit before the request's deadline.

The guard runs the first attempt without tenacity and builds :func:`retrying` only after a
retryable failure (most calls succeed at once; building the loop costs more than the call).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from adapters.base import SourceDenied, SourceNotFound, SourceThrottled
from adapters.resilience._breaker import CircuitBreaker, CircuitState
from adapters.resilience._clock import Clock
from adapters.resilience._errors import LocalRefusal, TransientError
from adapters.resilience._policy import ResiliencePolicy

__all__ = ["MIN_ATTEMPT_S", "RETRYABLE_HTTP_STATUS", "is_retryable", "retrying"]

RETRYABLE_HTTP_STATUS = frozenset({502, 503, 504})
MIN_ATTEMPT_S = 0.01  # no retry is started with less time than this left


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if isinstance(exc, LocalRefusal | SourceNotFound | SourceDenied):
        return False  # refused here, or the department answered: asking again changes nothing
    if isinstance(exc, SourceThrottled | TransientError):
        return True
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPStatusError):
        return cause.response.status_code in RETRYABLE_HTTP_STATUS
    return isinstance(cause, httpx.ConnectError)


def backoff(policy: ResiliencePolicy, rng: random.Random) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, or the department's Retry-After when that is longer."""

    def wait(state: RetryCallState) -> float:
        exp = policy.backoff_initial_s * 2.0 ** (state.attempt_number - 1)
        delay = min(policy.backoff_max_s, exp) + rng.uniform(0.0, policy.backoff_jitter_s)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SourceThrottled) and exc.retry_after_s is not None:
            delay = max(delay, float(exc.retry_after_s))
        return delay

    return wait


def give_up(
    policy: ResiliencePolicy, clock: Clock, deadline: float, breaker: CircuitBreaker
) -> Callable[[RetryCallState], bool]:
    """Stop after ``max_attempts``, when the wait would overrun the deadline, or once open."""

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        if breaker.state is CircuitState.OPEN:
            return True
        return clock.monotonic() + state.upcoming_sleep + MIN_ATTEMPT_S > deadline

    return stop


def retrying(
    policy: ResiliencePolicy,
    clock: Clock,
    deadline: float,
    breaker: CircuitBreaker,
    rng: random.Random,
) -> AsyncRetrying:
    """A tenacity retrying loop for one call; the last error is re-raised when it gives up."""
    return AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        wait=backoff(policy, rng),
        stop=give_up(policy, clock, deadline, breaker),
        sleep=clock.sleep,
        reraise=True,
    )
