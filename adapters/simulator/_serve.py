"""Ways to run the simulator outside an ``async with``: blocking, or in a background thread.

* :func:`serve` blocks until SIGINT/SIGTERM; ``hedui sim`` wires its options to it.
* :func:`simulator_in_thread` runs one on its own event loop in a daemon thread, for synchronous
  code (gRPC end-to-end tests with blocking clients, benchmarks driving another loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

from adapters.simulator.faults import DepartmentSettings
from adapters.simulator.server import Simulator, SimulatorSettings, run_simulator

__all__ = ["serve", "simulator_in_thread"]


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    seed: int = 7,
    households: int = 1000,
    settings: SimulatorSettings | None = None,
    latency_ms: float | tuple[float, float] = 0.0,
    error_rate: float = 0.0,
    on_ready: Callable[[Simulator], None] | None = None,
) -> None:
    """Serve the simulator until interrupted; ``on_ready(sim)`` runs once it listens.

    ``latency_ms`` (fixed, or a ``(min, max)`` range) and ``error_rate`` set every department's
    default behaviour when no ``settings`` are given.
    """
    if settings is None:
        low, high = latency_ms if isinstance(latency_ms, tuple) else (latency_ms, latency_ms)
        settings = SimulatorSettings(default=DepartmentSettings((low, high), error_rate))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        async with run_simulator(
            host=host, port=port, seed=seed, households=households, settings=settings
        ) as sim:
            if on_ready is not None:
                on_ready(sim)
            await stop.wait()

    asyncio.run(main())


@contextlib.contextmanager
def simulator_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 7,
    households: int = 200,
    settings: SimulatorSettings | None = None,
) -> Iterator[Simulator]:
    """A simulator served from a background thread while the block runs.

    ``sim.set_fault`` may be called from the calling thread: it only sets attributes.
    """
    started: concurrent.futures.Future[tuple[Simulator, asyncio.AbstractEventLoop, asyncio.Event]]
    started = concurrent.futures.Future()

    async def main() -> None:
        stop = asyncio.Event()
        try:
            async with run_simulator(
                host=host, port=port, seed=seed, households=households, settings=settings
            ) as sim:
                started.set_result((sim, asyncio.get_running_loop(), stop))
                await stop.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="hedui-sim", daemon=True)
    thread.start()
    sim, loop, stop = started.result(timeout=30)
    try:
        yield sim
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
