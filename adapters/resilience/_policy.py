"""The knobs of the resilience layer for one source, with defaults that suit a department API."""

from __future__ import annotations

import dataclasses

__all__ = ["ResiliencePolicy"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResiliencePolicy:
    """How one source is protected. Zero for a limit means "no limit".

    * per attempt: ``attempt_timeout_s`` (never more than the request's time left);
    * retries: up to ``max_attempts`` calls, waiting ``backoff_initial_s · 2ⁿ`` (at most
      ``backoff_max_s``) plus up to ``backoff_jitter_s`` of random jitter, or the department's
      Retry-After when longer — only when the wait and another attempt fit before the deadline;
    * circuit breaker: ``failure_threshold`` consecutive failures open it; after
      ``reset_timeout_s`` up to ``half_open_max_calls`` trial calls may pass (half-open);
    * bulkhead: at most ``max_concurrency`` calls in flight;
    * rate limit: ``rate_per_s`` calls per second with bursts of ``burst``;
    * daily quota: ``daily_quota`` calls per calendar day at UTC+``quota_utc_offset_h``
      (China Standard Time by default).
    """

    attempt_timeout_s: float = 5.0
    max_attempts: int = 3
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 2.0
    backoff_jitter_s: float = 0.05
    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    half_open_max_calls: int = 1
    max_concurrency: int = 64
    rate_per_s: float = 0.0
    burst: int = 1
    daily_quota: int = 0
    quota_utc_offset_h: int = 8

    def __post_init__(self) -> None:
        positive = ("attempt_timeout_s", "max_attempts", "failure_threshold", "half_open_max_calls")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("backoff_initial_s", "backoff_max_s", "backoff_jitter_s", "reset_timeout_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("max_concurrency", "rate_per_s", "daily_quota"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0: no limit), got {getattr(self, name)!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst!r}")
