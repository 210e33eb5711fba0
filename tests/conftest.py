"""Shared fixtures: database URLs for both backends.

``db_url`` is parametrised over SQLite (a file in the test's tmp dir) and PostgreSQL. PostgreSQL
tests get a database of their own, created for this pytest session and dropped at its end, so
several test runs can share one server. When the server is absent they skip, unless
``HEDUI_REQUIRE_POSTGRES=1`` (set by CI) turns the absence into a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Tests make no timing assertions (speed is the benchmarks' business), and hypothesis's own
# clocks — the per-example deadline and the "input generation is slow" check — failed CI runs
# on a busy 2-core machine. Both are off for the whole suite; example counts stay per test.
settings.register_profile("hedui", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hedui")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test on asyncio's loop; those marked ``both_loops`` on uvloop's too: the
    adapters and the gRPC edge must work on any asyncio loop, and uvloop is the usual other."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    if item.get_closest_marker("both_loops"):
        try:
            import uvloop  # a dev dependency everywhere but Windows, where it does not build
        except ImportError:
            return factories
        factories["uvloop"] = uvloop.new_event_loop
    return factories


POSTGRES_ADMIN_URL = os.environ.get(
    "HEDUI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this session (``postgresql://…/hedui_t_xxx``), or None."""
    import asyncio

    import asyncpg

    name = f"hedui_t_{uuid.uuid4().hex[:12]}"
    dsn = POSTGRES_ADMIN_URL

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("HEDUI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required (HEDUI_REQUIRE_POSTGRES=1) but unavailable: {exc}")
        yield None
        return
    base = dsn.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _reset_postgres(url: str) -> None:
    """Empty the session database: drop and recreate the public schema."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database as a SQLAlchemy async URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hedui.db'}"
    base: str | None = request.getfixturevalue("postgres_base_url")
    if base is None:
        pytest.skip("PostgreSQL not reachable (set HEDUI_REQUIRE_POSTGRES=1 to fail instead)")
    _reset_postgres(base)
    return base.replace("postgresql://", "postgresql+asyncpg://", 1)
