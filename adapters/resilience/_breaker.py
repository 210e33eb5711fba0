"""A circuit breaker: closed → open after repeated failures → half-open trial → closed or open.

A department that keeps failing is not called at all while the circuit is open, so each request
costs microseconds instead of a timeout. After ``reset_timeout_s`` a few trial calls may pass
(half-open); one success closes the circuit, one failure opens it again.

Listeners registered with :meth:`CircuitBreaker.on_change` hear every change of state (the gateway
feeds per-source gRPC health from them). The open → half-open change happens when the state is
next read after ``reset_timeout_s``; a listener that needs it on time reads ``state`` then.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from adapters.resilience._clock import Clock

__all__ = ["CircuitBreaker", "CircuitState"]


class CircuitState(enum.StrEnum):
    """Where the breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures; every call :meth:`allow` let through must be reported."""

    def __init__(
        self,
        clock: Clock,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        half_open_max_calls: int = 1,
    ) -> None:
        self._clock = clock
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.half_open_max_calls = half_open_max_calls
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self.times_opened = 0
        self._listeners: list[Callable[[CircuitState], None]] = []

    @property
    def state(self) -> CircuitState:
        """The current state (an open circuit turns half-open once its reset time has passed)."""
        if self._state is CircuitState.OPEN and self._reset_due():
            self._trials = 0
            self._enter(CircuitState.HALF_OPEN)
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go to the department now (reserves a trial slot when half-open)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and self._trials < self.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def record_success(self) -> None:
        """The department answered: close the circuit and forget past failures."""
        self._failures, self._trials = 0, 0
        self._enter(CircuitState.CLOSED)

    def record_failure(self) -> None:
        """The department failed: open the circuit at the threshold, or at once when half-open."""
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        if self._state is not CircuitState.OPEN:
            self.times_opened += 1
        self._opened_at, self._trials = self._clock.monotonic(), 0
        self._enter(CircuitState.OPEN)

    def on_change(self, listener: Callable[[CircuitState], None]) -> None:
        """Call ``listener(new_state)`` on every change of state; it must not raise."""
        self._listeners.append(listener)

    def _enter(self, state: CircuitState) -> None:
        changed, self._state = state is not self._state, state
        if changed:
            for listener in self._listeners:
                listener(state)

    def _reset_due(self) -> bool:
        return self._clock.monotonic() - self._opened_at >= self.reset_timeout_s
