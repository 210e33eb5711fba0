"""Time, injected: the resilience code never reads the system clock directly.

:class:`SystemClock` is the real one. :class:`FakeClock` moves only when told to or when
someone sleeps on it, so tests of backoff, circuit reset and quotas need no waiting.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Monotonic seconds for durations, wall time for calendar days, and an async sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def now(self) -> datetime:
        """The current wall time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> datetime:
        """Aware UTC now."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock for tests: :meth:`sleep` records the wait and advances time at once."""

    def __init__(self, start: datetime = datetime(2025, 6, 30, 1, 0, tzinfo=UTC)) -> None:
        self._elapsed = 0.0
        self._start = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Seconds advanced so far."""
        return self._elapsed

    def now(self) -> datetime:
        """The start time plus the seconds advanced."""
        return self._start + timedelta(seconds=self._elapsed)

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds``, advance by them, and yield to the event loop once."""
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._elapsed += max(0.0, seconds)
