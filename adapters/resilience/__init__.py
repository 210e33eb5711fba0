"""Resilience for data sources: wrap any adapter, get timeouts, retries, a circuit breaker,
a bulkhead, a rate limit and a daily quota, all inside the request's deadline::

    from adapters.resilience import ResiliencePolicy, ResilientAdapter

    guarded = ResilientAdapter(my_adapter, ResiliencePolicy(max_attempts=2, daily_quota=5000))
    outcome = await guarded.call(query)      # never raises an AdapterError
    outcome.error, outcome.attempts, outcome.circuit_open, outcome.throttled

The gateway wraps every configured adapter this way (``[adapters.<name>.resilience]``).
Nothing here imports ``gateway``; time comes from an injected :class:`Clock`.
"""

from __future__ import annotations

from adapters.resilience._breaker import CircuitBreaker, CircuitState
from adapters.resilience._clock import Clock, FakeClock, SystemClock
from adapters.resilience._errors import (
    BulkheadFull,
    CircuitOpen,
    LocalRefusal,
    QuotaExhausted,
    RateLimited,
    TransientError,
)
from adapters.resilience._guard import Outcome, ResilientAdapter
from adapters.resilience._limits import Bulkhead, DailyQuota, TokenBucket
from adapters.resilience._policy import ResiliencePolicy
from adapters.resilience._retry import RETRYABLE_HTTP_STATUS, is_retryable
from adapters.resilience._stats import SourceStats, StatsSnapshot

__all__ = [
    "RETRYABLE_HTTP_STATUS",
    "Bulkhead",
    "BulkheadFull",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "Clock",
    "DailyQuota",
    "FakeClock",
    "LocalRefusal",
    "Outcome",
    "QuotaExhausted",
    "RateLimited",
    "ResiliencePolicy",
    "ResilientAdapter",
    "SourceStats",
    "StatsSnapshot",
    "SystemClock",
    "TokenBucket",
    "TransientError",
    "is_retryable",
]
