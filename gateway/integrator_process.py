"""The audit log's integrator in a process of its own (``integrator_process = true``, the default).

Appending leaves is part of each request's transaction; integrating them into the Merkle tree
and signing a checkpoint is a periodic pass (:mod:`audit.integrate`), separate by design, as
in Trillian and Tessera. On the serving loop every pass holds up the requests in flight: a
second's worth of leaves takes milliseconds of CPU, and on SQLite a statement never yields.
With the integrator switched off (bench ``latency``, issue 6, two alternated pairs) the p99
over the slowest source fell by 8–11 ms. So the gateway runs the passes in a child process
instead, on the machine's other core. Measured against the same passes on the loop (five
alternated pairs at a fixed load, docs/BENCHMARKS.md, session 14): the p99 lower in all five,
the p50 unchanged within the noise, the CPU per request of both processes together 1–12 %
higher (SQLite's lock and page cache are shared with a second writer).

1. :meth:`IntegratorProcess.start` spawns the child (``spawn``: gRPC must not be forked). It
   opens its own engine on the same database and integrates every ``checkpoint_interval_s``
   in chunks of :data:`CHUNK` leaves, signing with the checkpoint key the parent hands it (the
   child never creates keys). A pass reads and hashes without the integration lock and takes it
   only to write its nodes (:meth:`audit.storage.TreeStore.integrate`), so on SQLite the
   serving process's commits wait for the database lock only while nodes are written.
2. :meth:`IntegratorProcess.supervise` restarts a child that died, after a pause, and logs it:
   the log only waits. A child whose parent is gone stops by itself (:func:`stop_when_orphaned`).
3. :meth:`IntegratorProcess.stop` asks the child to finish its pass and exit, and terminates
   it if it has not within the grace period. The gateway then runs one last pass itself.

Passes of several integrators never conflict: the store serialises their writes (SQLite's
write lock, PostgreSQL's advisory lock) and a pass that was overtaken writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from audit.integrate import Integrator
from audit.note import NoteSigner
from audit.storage import LogStorage
from gateway.config import Settings

__all__ = ["CHUNK", "PAUSE_RATIO", "IntegratorProcess", "make_integrator"]

log = structlog.get_logger(__name__)

_SPAWN = multiprocessing.get_context("spawn")
# Leaves per integration transaction. On the serving loop (``integrator_process = false``),
# 256 leaves hold it for about 2.4 ms on SQLite, and a pause of three times that after each
# keeps the integrator under a quarter of the loop (a second's worth of leaves at half of
# saturation took 16 ms in one; audit/integrate.py). In the child process the same chunks keep
# each write of nodes, and so each wait of the serving process for SQLite's lock, short.
CHUNK = 256
PAUSE_RATIO = 3.0
RESTART_PAUSE_S = 1.0  # after the child died, before it is started again
STOP_GRACE_S = 10.0
READY_S = 60.0  # for the child to import the gateway and open the database


def make_integrator(
    store: LogStorage, key: Ed25519PrivateKey, settings: Settings, clock: Callable[[], datetime]
) -> Integrator:
    """The gateway's integrator, on the serving loop or in the child: the same passes."""
    return Integrator(
        store=store,
        signer=NoteSigner(settings.log_origin, key),
        origin=settings.log_origin,
        clock=clock,
        chunk=CHUNK,
        pause_ratio=PAUSE_RATIO,
    )


class IntegratorProcess:
    """One child process integrating the log of ``settings.database_url``; see the module."""

    def __init__(
        self,
        settings: Settings,
        key: Ed25519PrivateKey,
        on_restart: Callable[[], object] | None = None,
    ) -> None:
        self._settings = settings
        self._on_restart = on_restart  # e.g. the hedui_integrator_restarts counter
        self._key = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        self._stop = _SPAWN.Event()
        self._ready = _SPAWN.Event()  # set by the child once it has opened the database
        self._process: BaseProcess | None = None
        self.restarts = 0  # children started again after dying, for tests and diagnostics

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before start or after stop)."""
        return self._process.pid if self._process is not None else None

    @staticmethod
    def possible() -> bool:
        """Whether this process may start one (a daemonic process may have no children)."""
        return not multiprocessing.current_process().daemon

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Start the child; it integrates until :meth:`stop`."""
        self._stop.clear()
        self._ready.clear()
        self._process = _SPAWN.Process(
            target=_child_main,
            args=(self._settings, self._key, self._stop, self._ready, os.getpid()),
            name="hedui-integrator",
            daemon=True,  # never outlives this process, whatever happens to it
        )
        self._process.start()
        log.info("integrator_process_started", pid=self._process.pid)

    async def ready(self, timeout_s: float = READY_S) -> bool:
        """Wait until the child has started (imports, database) or died; whether it started.

        The gateway waits for this before it serves, so a child that cannot start is seen at
        start-up, and its start-up does not compete with the first requests for the CPU.
        """
        while self.alive():
            if await asyncio.to_thread(self._ready.wait, min(timeout_s, 0.5)):
                return True
            timeout_s -= 0.5
            if timeout_s <= 0:
                break
        return self._ready.is_set()

    async def supervise(self, stopping: asyncio.Event, poll_s: float = 0.5) -> None:
        """Until ``stopping`` is set: start the child again whenever it died."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=poll_s)
            if stopping.is_set() or self.alive():
                continue
            code = self._process.exitcode if self._process is not None else None
            log.error("integrator_process_died", exitcode=code, restart_in_s=RESTART_PAUSE_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=RESTART_PAUSE_S)
            if not stopping.is_set():
                self.restarts += 1
                if self._on_restart is not None:
                    self._on_restart()
                self.start()

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Ask the child to finish its pass and exit; terminate it after ``grace_s``."""
        process, self._process = self._process, None
        if process is None:
            return
        self._stop.set()
        await asyncio.to_thread(process.join, grace_s)
        if process.is_alive():
            log.warning("integrator_process_terminated", pid=process.pid, grace_s=grace_s)
            process.terminate()
            await asyncio.to_thread(process.join, 5.0)


def _child_main(settings: Settings, key: bytes, stop: Event, ready: Event, parent: int) -> None:
    """The child: integrate until ``stop`` is set, SIGTERM arrives or the parent is gone."""
    from gateway.logging import configure_logging

    # Ctrl-C in a terminal reaches the whole process group; the parent stops us through `stop`
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(_integrate_until_stopped(settings, key, stop, ready, parent))


async def _integrate_until_stopped(
    settings: Settings, key: bytes, stop: Event, ready: Event, parent: int
) -> None:
    from audit.sql import SqlStorage
    from gateway.db import create_engine
    from gateway.workers import stop_when_orphaned

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    watchers = [
        asyncio.create_task(_set_when(stop, stopping)),
        asyncio.create_task(stop_when_orphaned(parent)),  # SIGTERM: stopping is set
    ]
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        store = SqlStorage(engine)
        integrator = make_integrator(
            store, Ed25519PrivateKey.from_private_bytes(key), settings, lambda: datetime.now(UTC)
        )
        await store.integrated_size()  # the database answers
        ready.set()
        await integrator.run_periodically(settings.checkpoint_interval_s, stopping)
    finally:
        for task in watchers:
            task.cancel()
        await engine.dispose()


async def _set_when(flag: Event, event: asyncio.Event, poll_s: float = 0.1) -> None:
    """Set ``event`` once the cross-process ``flag`` is set (polled: it has no awaitable)."""
    while not flag.is_set():  # noqa: ASYNC110 (a multiprocessing Event cannot be awaited)
        await asyncio.sleep(poll_s)
    event.set()
