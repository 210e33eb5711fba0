"""Several gateway processes on one port: ``hedui serve --workers N``.

One Python process runs one event loop on one core; the pipeline is CPU-bound (validation,
assessment, canonical JSON, signing, storage), so a second core needs a second process. The
gateway is already stateless between requests — everything shared lives in the database, the
audit log has one writer at a time (a lock), and idempotency rests on unique keys — so N copies
of it can serve side by side:

1. the supervisor (this process) opens the gateway once and closes it again (:func:`prepare`):
   migrations, keys and the configuration leaves happen exactly once, before any worker starts;
2. it reserves the port (``SO_REUSEPORT``; port 0 picks a free one) and starts N workers with
   the ``spawn`` method (gRPC must not be forked); each worker opens the gateway and listens
   on the same port, and the kernel spreads incoming *connections* across them (a client with
   one channel talks to one worker);
3. only worker 0 runs the background work (resuming interrupted requests; starting the
   integrator process that integrates and checkpoints the log); each worker serves metrics
   on its own port (``metrics_listen`` port + worker index);
4. SIGINT/SIGTERM stop every worker gracefully; if one worker dies, the others are stopped and
   the supervisor exits non-zero, so the service manager restarts the whole set;
5. if the supervisor itself dies (SIGKILL, out of memory), each worker notices within a second
   that its parent is gone and stops gracefully, so no orphan keeps serving the port with what
   may be an old configuration.

On SQLite the workers share the file in WAL mode: write transactions take turns on the
database lock (``busy_timeout``) — fine on one machine; many machines need PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import structlog

from adapters.base import Adapter
from gateway.config import Settings

__all__ = [
    "AdapterFactory",
    "WorkerSet",
    "offset_port",
    "prepare",
    "reserve_port",
    "serve_workers",
]

log = structlog.get_logger(__name__)

AdapterFactory = Callable[[], Sequence[Adapter]]
"""Builds a worker's adapters in the worker (picklable: a module-level function or partial)."""

_SPAWN = multiprocessing.get_context("spawn")


def offset_port(listen: str, offset: int) -> str:
    """``host:port`` with the port moved by ``offset`` ("" and port 0 stay as they are)."""
    if not listen or offset == 0:
        return listen
    host, _, port = listen.rpartition(":")
    return listen if int(port) == 0 else f"{host}:{int(port) + offset}"


@contextlib.contextmanager
def reserve_port(listen: str) -> Iterator[str]:
    """Hold ``listen`` (port 0: a free port) with SO_REUSEPORT so the workers can share it.

    The socket is bound but never listens, so it takes no connections; it keeps the port from
    being handed to another program between choosing it and the workers binding it.
    """
    host, _, port = listen.rpartition(":")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind((host.strip("[]"), int(port)))
        yield f"{host}:{held.getsockname()[1]}"


PARENT_POLL_S = 1.0
"""How often a worker checks that its supervisor is still alive."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Worker:
    """What a worker process needs (pickled to it)."""

    settings: Settings
    listen: str
    index: int
    adapters: AdapterFactory | None
    supervisor: int


class WorkerSet:
    """N worker processes serving one address; a context manager that stops them on exit."""

    def __init__(
        self, settings: Settings, workers: int, adapters: AdapterFactory | None = None
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.settings = settings
        self.workers = workers
        self.adapters = adapters
        self.address = ""
        self._processes: list[BaseProcess] = []
        self._ready: list[Event] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> WorkerSet:
        try:
            self.address = self._stack.enter_context(reserve_port(self.settings.listen))
            for index in range(self.workers):
                self._start(index)
            self._wait_ready(timeout_s=120.0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def _start(self, index: int) -> None:
        ready = _SPAWN.Event()
        job = _Worker(self.settings, self.address, index, self.adapters, os.getpid())
        process = _SPAWN.Process(
            target=_worker_main, args=(job, ready), name=f"hedui-worker-{index}", daemon=False
        )
        process.start()
        self._processes.append(process)
        self._ready.append(ready)

    def _wait_ready(self, timeout_s: float) -> None:
        for process, ready in zip(self._processes, self._ready, strict=True):
            while not ready.wait(0.1):
                if not process.is_alive():
                    raise RuntimeError(f"{process.name} exited ({process.exitcode}) while starting")
                timeout_s -= 0.1
                if timeout_s <= 0:
                    raise RuntimeError(f"{process.name} did not start within its time")

    def wait(self, stop: Callable[[], bool], poll_s: float = 0.2) -> int:
        """Until ``stop()`` or a worker exits; 0, or 1 when a worker died on its own."""
        while not stop():
            for process in self._processes:
                process.join(poll_s / len(self._processes))
                if process.exitcode is not None and not stop():
                    log.error("worker_exited", worker=process.name, exitcode=process.exitcode)
                    return 1
        return 0

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM every worker (each stops gracefully), then wait; kill what hangs."""
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self._processes:
            process.join(grace_s)
            if process.is_alive():
                process.kill()  # our own child, by its handle
                process.join(5)
        self._stack.close()


def serve_workers(settings: Settings, workers: int) -> int:
    """The ``hedui serve --workers N`` supervisor; returns the exit code."""
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    asyncio.run(prepare(settings))
    with WorkerSet(settings, workers) as pool:
        log.info("workers_started", listen=pool.address, workers=workers, pids=pool.pids)
        code = pool.wait(lambda: stopping)
    log.info("workers_stopped", exitcode=code)
    return code


async def prepare(settings: Settings, adapters: AdapterFactory | None = None) -> None:
    """Migrations, keys and configuration leaves, once, before a :class:`WorkerSet` starts."""
    from gateway.app import Gateway

    gateway = await Gateway.open(settings, adapters=adapters() if adapters else None)
    await gateway.close()


def _worker_main(job: _Worker, ready: Event) -> None:
    """A worker process: the ordinary gateway and server, told to listen on the shared port."""
    from gateway.logging import configure_logging

    configure_logging(json=job.settings.log_json, level=job.settings.log_level)
    structlog.contextvars.bind_contextvars(worker=job.index)
    asyncio.run(_serve(job, ready))


async def stop_when_orphaned(supervisor: int, poll_s: float = PARENT_POLL_S) -> None:
    """SIGTERM this process (the graceful stop) once its parent is no longer ``supervisor``.

    A dead parent's children are re-parented (to init or a subreaper), so ``getppid`` changes.
    """
    while os.getppid() == supervisor:  # noqa: ASYNC110 (no event tells of a parent's death)
        await asyncio.sleep(poll_s)
    log.error("supervisor_gone", supervisor=supervisor)
    os.kill(os.getpid(), signal.SIGTERM)


async def _serve(job: _Worker, ready: Event) -> None:
    from gateway.app import Gateway
    from gateway.server import run_forever

    settings = job.settings.model_copy(
        update={"metrics_listen": offset_port(job.settings.metrics_listen, job.index)}
    )
    watchdog = asyncio.create_task(stop_when_orphaned(job.supervisor))
    gateway = await Gateway.open(settings, adapters=job.adapters() if job.adapters else None)
    try:
        if job.index == 0:
            await gateway.start_background()
        else:
            await gateway.start_metrics()
        await run_forever(gateway, job.listen, on_started=ready.set)
    finally:
        watchdog.cancel()
        await gateway.close()
