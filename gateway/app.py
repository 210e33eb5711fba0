"""Composition: settings → engine, migrations, keys, audit log, adapters, pipeline.

:class:`Gateway` owns every long-lived resource and closes them in reverse order. The gRPC
server (``gateway.server``) and the CLI build one; tests build one on port 0.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import Adapter
from audit.events import KeyCreated, entry_bytes
from audit.sql import SqlStorage
from gateway import migrate
from gateway.config import Settings
from gateway.config_audit import record_config_changes
from gateway.config_view import adapter_digests
from gateway.db import create_engine
from gateway.fanout import observe_answers
from gateway.integrator_process import IntegratorProcess, make_integrator
from gateway.keyring import KeyRing
from gateway.metrics import Metrics, MetricsEndpoint
from gateway.pipeline import Pipeline
from gateway.policy import PolicyLibrary
from gateway.registry import LoadedAdapter
from gateway.sources import build_sources
from gateway.store import Store

__all__ = ["Gateway", "code_version"]

log = structlog.get_logger(__name__)


def code_version() -> str:
    """``hedui <version>`` of the installed distribution."""
    try:
        return f"hedui {version('hedui')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "hedui unknown"


class Gateway:
    """Everything a running gateway holds; build with :meth:`open`, release with :meth:`close`."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        keys: KeyRing,
        audit_log: SqlStorage,
        adapters: Sequence[LoadedAdapter],
        pipeline: Pipeline,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.keys = keys
        self.audit_log = audit_log
        self.adapters = list(adapters)
        self.pipeline = pipeline
        self._tasks: list[asyncio.Task[None]] = []
        self.resuming: asyncio.Task[None] | None = None  # set by start_background
        self._stop = asyncio.Event()
        self.metrics = Metrics()
        self.metrics.watch_sources(self.adapters)
        pipeline.store.observe_commits(self.metrics.observe_commit)
        for item in self.adapters:
            observe_answers(item.adapter, self.metrics.observe_answer)
        self.metrics_endpoint = MetricsEndpoint(self.metrics)
        # passes on this loop: at close, in tests, and with integrator_process = false
        self.integrator = make_integrator(
            audit_log, keys.private_key("checkpoint"), settings, pipeline.clock
        )
        self.integrator_process: IntegratorProcess | None = None  # set by start_background

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        adapters: Sequence[Adapter] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Gateway:
        """Connect, migrate, load keys and adapters (``adapters`` overrides discovery).

        Whatever was opened is closed again when a later step fails.
        """
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine)
            keys = KeyRing(settings.key_dir, clock)
            loaded = build_sources(settings, adapters)
        except BaseException:
            await engine.dispose()
            raise
        try:
            return await cls._compose(settings, engine, keys, loaded, clock)
        except BaseException:
            for item in loaded:
                with contextlib.suppress(Exception):
                    await item.adapter.aclose()
            await engine.dispose()
            raise

    @classmethod
    async def _compose(
        cls,
        settings: Settings,
        engine: AsyncEngine,
        keys: KeyRing,
        loaded: Sequence[LoadedAdapter],
        clock: Callable[[], datetime],
    ) -> Gateway:
        audit_log = SqlStorage(engine)
        pipeline = Pipeline(
            store=Store(engine, audit_log),
            adapters=[item.adapter for item in loaded],
            signer=keys.signer("report"),
            salt=keys.salt,
            clock=clock,
            code_version=code_version(),
            policies=PolicyLibrary.from_directory(settings.policy_dir),
            versions={item.adapter.name: item.version_label for item in loaded},
            # a request cannot outlive the longest deadline plus signing and storing it
            in_flight_s=2 * settings.max_deadline_s,
        )
        await _record_new_keys(audit_log, keys)
        await record_config_changes(engine, audit_log, adapter_digests(settings, loaded), clock)
        log.info(
            "gateway_opened",
            database=engine.url.render_as_string(),
            adapters=[i.adapter.name for i in loaded],
        )
        return cls(settings, engine, keys, audit_log, loaded, pipeline)

    async def start_background(self) -> None:
        """Finish requests a crash interrupted; integrate and checkpoint the log; in the background.

        Resuming runs beside serving (``self.resuming``): a restart after a crash with many
        requests in flight, some waiting on a hung source, must not keep the gateway down.
        The log is integrated in a child process (gateway/integrator_process.py), or on this
        loop with ``integrator_process = false``.
        """
        self.resuming = asyncio.create_task(self._resume())
        self._tasks += [self.resuming, asyncio.create_task(self._resume_periodically())]
        in_child = self.settings.integrator_process
        if in_child and not IntegratorProcess.possible():
            log.warning("integrator_on_loop", reason="a daemonic process may not start one")
            in_child = False
        if in_child:
            key = self.keys.private_key("checkpoint")
            child = IntegratorProcess(self.settings, key, self.metrics.integrator_restarts.inc)
            self.integrator_process = child
            child.start()
            if not await child.ready():  # supervise() starts it again; the log only waits
                log.error("integrator_process_not_ready", pid=child.pid)
            self._tasks.append(asyncio.create_task(child.supervise(self._stop)))
        else:
            passes = self.integrator.run_periodically(
                self.settings.checkpoint_interval_s, self._stop
            )
            self._tasks.append(asyncio.create_task(passes))
        await self.start_metrics()

    async def _resume(self) -> None:
        """Finish the requests whose worker died (accepted longer than ``in_flight_s`` ago)."""
        resumed = await self.pipeline.resume_pending(self.settings.default_deadline_s)
        if resumed:
            log.warning("resumed_pending_requests", count=resumed)

    async def _resume_periodically(self) -> None:
        """Every half ``in_flight_s``: a request interrupted just before a crash is resumed
        once it is stale, by whichever replica looks first."""
        interval = self.pipeline.in_flight_s / 2
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
            if not self._stop.is_set():
                try:
                    await self._resume()
                except Exception:  # the database may be down for a while: try again later
                    log.exception("resume_pass_failed")

    async def start_metrics(self) -> None:
        """Serve Prometheus metrics on ``metrics_listen`` ("": not at all).

        A port already taken is logged, not fatal: verification matters more than metrics.
        """
        listen = self.settings.metrics_listen
        if not listen:
            return
        try:
            port = await self.metrics_endpoint.start(listen)
        except OSError as exc:
            log.error("metrics_listen_failed", listen=listen, error=str(exc))
            return
        log.info("metrics_listening", listen=listen, port=port)

    async def close(self) -> None:
        """Stop background work (one last checkpoint), close adapters, dispose of the engine."""
        self._stop.set()
        if self.resuming is not None:  # unfinished resumptions stay pending for the next start
            self.resuming.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.integrator_process is not None:
            await self.integrator_process.stop()
        await self.pipeline.store.close()  # queued writes land before the engine goes
        with contextlib.suppress(Exception):
            await self.integrator.run_once()
        await self.metrics_endpoint.stop()
        for item in self.adapters:
            await item.adapter.aclose()
        await self.engine.dispose()


async def _record_new_keys(audit_log: SqlStorage, keys: KeyRing) -> None:
    """A KeyCreated leaf for every key this start created."""
    entries = [
        entry_bytes(KeyCreated(key_id=r.keyid, algorithm="ed25519", at=r.created_at))
        for r in keys.created
    ]
    if entries:
        await audit_log.append(entries)
