"""Per-source gRPC health: ``hedui.source.<name>`` follows that source's circuit breaker.

SERVING while the circuit is closed or half-open, NOT_SERVING while it is open. The breaker tells
us when its state changes (:meth:`~adapters.resilience.CircuitBreaker.on_change`); the only
timer is one per opening, at the moment the circuit may turn half-open (that change happens when
the state is next read, so the timer reads it). No polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from grpc_health.v1 import health, health_pb2

from adapters.resilience import CircuitState, ResilientAdapter
from gateway.registry import LoadedAdapter

__all__ = ["SOURCE_SERVICE_PREFIX", "SourceHealth", "source_service_name"]

SOURCE_SERVICE_PREFIX = "hedui.source."
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def source_service_name(name: str) -> str:
    """The health service name of source ``name``."""
    return SOURCE_SERVICE_PREFIX + name


def _status(state: CircuitState) -> int:
    return _NOT_SERVING if state is CircuitState.OPEN else _SERVING


class SourceHealth:
    """Keeps the health servicer in step with every guarded source's circuit."""

    def __init__(self, servicer: health.aio.HealthServicer, adapters: Sequence[LoadedAdapter]):
        self._servicer = servicer
        self._guards = {
            item.adapter.name: item.adapter
            for item in adapters
            if isinstance(item.adapter, ResilientAdapter)
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closed = False

    @property
    def names(self) -> list[str]:
        """The health service names this keeps."""
        return [source_service_name(name) for name in sorted(self._guards)]

    async def start(self) -> None:
        """Publish every source's status now and listen for changes."""
        for name, guard in self._guards.items():
            guard.breaker.on_change(self._listener(name))
            await self._servicer.set(source_service_name(name), _status(guard.circuit_state))

    async def close(self) -> None:
        """Stop following the circuits; every source NOT_SERVING (the server is stopping)."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            await task
        for name in self.names:
            await self._servicer.set(name, _NOT_SERVING)

    def _listener(self, name: str) -> Callable[[CircuitState], None]:
        return lambda state: self._changed(name, state)

    def _changed(self, name: str, state: CircuitState) -> None:
        """The breaker's listener: publish the new status; recheck when it may turn half-open."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._servicer.set(source_service_name(name), _status(state)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if state is CircuitState.OPEN:
            self._schedule_recheck(loop, name, self._guards[name].breaker.reset_timeout_s)

    def _schedule_recheck(self, loop: asyncio.AbstractEventLoop, name: str, delay: float) -> None:
        if name in self._timers:
            self._timers[name].cancel()
        self._timers[name] = loop.call_later(delay, self._recheck, name)

    def _recheck(self, name: str) -> None:
        """Reading the state lets an open circuit turn half-open; its listener publishes it."""
        self._timers.pop(name, None)
        guard = self._guards[name]
        if not self._closed and guard.circuit_state is CircuitState.OPEN:
            # the breaker's clock is not quite the loop's: look again a little later
            wait = max(0.01, guard.breaker.reset_timeout_s / 10)
            self._schedule_recheck(asyncio.get_running_loop(), name, wait)
