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
from audit.sql import SqlStorage
from gateway import migrate
from gateway.config import Settings
from gateway.db import create_engine
from gateway.keyring import KeyRing
from gateway.pipeline import Pipeline
from gateway.registry import LoadedAdapter, load_adapters
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

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        adapters: Sequence[Adapter] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Gateway:
        """Connect, migrate, load keys and adapters. ``adapters`` overrides entry-point discovery."""
        engine = create_engine(settings.database_url)
        await migrate.upgrade(engine)
        keys = KeyRing(settings.key_dir, clock)
        audit_log = SqlStorage(engine)
        loaded = (
            [LoadedAdapter(a, "in-process", "0") for a in adapters]
            if adapters is not None
            else load_adapters(settings)
        )
        pipeline = Pipeline(
            store=Store(engine, audit_log),
            adapters=[item.adapter for item in loaded],
            signer=keys.signer("report"),
            salt=keys.salt,
            clock=clock,
            code_version=code_version(),
            versions={item.adapter.name: item.version_label for item in loaded},
        )
        log.info("gateway_opened", database=engine.url.render_as_string(), adapters=[i.adapter.name for i in loaded])
        return cls(settings, engine, keys, audit_log, loaded, pipeline)

    def spawn(self, coro: object) -> None:
        """Run a background task owned by the gateway (cancelled at close)."""
        self._tasks.append(asyncio.ensure_future(coro))  # type: ignore[arg-type]

    async def close(self) -> None:
        """Stop background work, close adapters, dispose of the engine."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for item in self.adapters:
            await item.adapter.aclose()
        await self.engine.dispose()
