"""Failures the resilience layer produces itself, without asking the department.

Error tree (all are :class:`~adapters.base.AdapterError`, so the gateway reports them)::

    AdapterError
     ├── TransientError      UNAVAILABLE  raised by an adapter: worth retrying (connection refused,
     │                                    HTTP 502/503/504)
     ├── CircuitOpen         UNAVAILABLE  the circuit is open: the department was not called
     ├── RateLimited         UNAVAILABLE  our own rate limit left no slot within the time left
     ├── SourceDenied
     │    └── QuotaExhausted DENIED       today's query quota for the department is used up
     └── SourceTimeout
          └── BulkheadFull   TIMEOUT      every concurrent slot stayed busy for the time left
"""

from __future__ import annotations

from adapters.base import AdapterError, SourceDenied, SourceTimeout

__all__ = [
    "BulkheadFull",
    "CircuitOpen",
    "LocalRefusal",
    "QuotaExhausted",
    "RateLimited",
    "TransientError",
]


class TransientError(AdapterError):
    """A failure an adapter knows to be temporary; the resilience layer retries it."""


class LocalRefusal(AdapterError):
    """Mixin marker: the gateway refused the call itself; never retried."""


class CircuitOpen(LocalRefusal):
    """The department failed repeatedly; its circuit is open and it was not called."""


class RateLimited(LocalRefusal):
    """The configured rate limit had no slot free within the time left."""


class QuotaExhausted(SourceDenied, LocalRefusal):
    """Today's configured query quota for the department is used up."""


class BulkheadFull(SourceTimeout, LocalRefusal):
    """All concurrent slots for the department stayed busy for the whole time left."""
