"""Limits a department imposes or deserves: a bulkhead, a rate limit and a daily quota.

All three are in-process, per gateway replica: with N replicas, give each 1/N of the
department's rate and quota (see ``docs/operations.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, timedelta, timezone

from adapters.resilience._clock import Clock

__all__ = ["Bulkhead", "DailyQuota", "TokenBucket"]


class Bulkhead:
    """At most ``limit`` calls in flight (0: unlimited); waiting for a slot is bounded.

    :meth:`enter` / :meth:`leave` are the hot path (a free slot costs no timer);
    :meth:`slot` is the same as a context manager.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._slots = asyncio.Semaphore(limit) if limit else None

    async def enter(self, wait_s: float) -> bool:
        """Take a slot: True at once when one is free, else after waiting at most ``wait_s``."""
        slots = self._slots
        if slots is not None:
            if not slots.locked():
                await slots.acquire()  # a free slot: returns without suspending, so no timer
            elif not await _wait_for_slot(slots, wait_s):
                return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        """Give back a slot that :meth:`enter` granted."""
        self.in_flight -= 1
        if self._slots is not None:
            self._slots.release()

    @contextlib.asynccontextmanager
    async def slot(self, wait_s: float) -> AsyncIterator[bool]:
        """Yield True holding a slot, or False when none came free within ``wait_s``."""
        got = await self.enter(wait_s)
        try:
            yield got
        finally:
            if got:
                self.leave()


async def _wait_for_slot(slots: asyncio.Semaphore, wait_s: float) -> bool:
    """Wait at most ``wait_s`` for a slot of a full ``slots``; whether one came free."""
    try:
        async with asyncio.timeout(max(wait_s, 0.0)):
            return await slots.acquire()
    except TimeoutError:
        return False


class TokenBucket:
    """``rate_per_s`` tokens a second, at most ``burst`` saved; a call takes one token.

    A caller reserves its token at once (the balance may go negative) and then waits for it,
    so concurrent callers queue fairly without re-checking.
    """

    def __init__(self, clock: Clock, rate_per_s: float, burst: int) -> None:
        self._clock = clock
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._at = clock.monotonic()

    @property
    def tokens(self) -> float:
        """Tokens available now (negative: already promised to waiting callers)."""
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
        self._at = now
        return self._tokens

    async def acquire(self, wait_limit_s: float) -> bool:
        """Take a token, waiting for it if that fits in ``wait_limit_s``; False otherwise."""
        wait = max(0.0, (1.0 - self.tokens) / self.rate_per_s)
        if wait > wait_limit_s:
            return False
        self._tokens -= 1.0
        if wait:
            await self._clock.sleep(wait)
        return True


class DailyQuota:
    """``limit`` calls per calendar day in the department's time zone (UTC+``offset_h``)."""

    def __init__(self, clock: Clock, limit: int, offset_h: int = 8) -> None:
        self._clock = clock
        self.limit = limit
        self._zone = timezone(timedelta(hours=offset_h))
        self._day: date | None = None
        self._used = 0

    def _roll(self) -> None:
        today = self._clock.now().astimezone(self._zone).date()
        if today != self._day:
            self._day, self._used = today, 0

    @property
    def used(self) -> int:
        """Calls counted today."""
        self._roll()
        return self._used

    @property
    def left(self) -> int:
        """Calls left today."""
        return max(0, self.limit - self.used)

    def take(self) -> bool:
        """Count one call; False (counting nothing) when today's quota is used up."""
        if self.left <= 0:
            return False
        self._used += 1
        return True
