"""The embedded SQLite database's WAL is copied into its file by a thread, not by commits."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from gateway.db import create_engine
from gateway.sqlite_checkpoint import BACKSTOP_PAGES, WalCheckpointer

ROW_BYTES = 8_000
ROWS = 150  # ≈ 1.2 MB: about 300 pages, far below the automatic checkpoint (1,000 pages)


def _checkpoint_threads(path: Path | None = None) -> set[threading.Thread]:
    """Live checkpoint threads (of ``path``'s database only, if given)."""
    name = f"wal-checkpoint:{path}" if path else "wal-checkpoint:"
    return {t for t in threading.enumerate() if t.name.startswith(name)}


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.asyncio
async def test_commits_reach_the_database_file_without_an_automatic_checkpoint(
    tmp_path: Path,
) -> None:
    """Rows committed in WAL mode land in the main file well before SQLite would copy them."""
    path = tmp_path / "hedui.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)"))
        for i in range(ROWS):
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO blobs (id, body) VALUES (:i, randomblob(:n))"),
                    {"i": i, "n": ROW_BYTES},
                )
        copied = await _until(lambda: path.stat().st_size >= ROWS * ROW_BYTES)
        assert copied, f"the database file has {path.stat().st_size} bytes after 10 s"
        async with engine.connect() as conn:
            backstop = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()
        assert backstop == BACKSTOP_PAGES
    finally:
        await engine.dispose()
    assert not _checkpoint_threads(path), "disposing of the engine leaves no checkpoint thread"
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM blobs").fetchone() == (ROWS,)


def test_a_failing_checkpoint_is_logged_and_the_thread_goes_on(tmp_path: Path) -> None:
    """A file that is not a database makes each pass fail with a warning, never the thread."""
    path = tmp_path / "not-a-database"
    path.write_bytes(b"this is not an SQLite file, " * 200)
    checkpointer = WalCheckpointer(str(path), interval_s=0.0)
    with capture_logs() as logs:
        checkpointer.start()
        try:
            for _ in range(3):
                checkpointer.committed()
                time.sleep(0.05)
            assert _checkpoint_threads(path), "the thread survives its failures"
        finally:
            checkpointer.stop()
    failures = [e for e in logs if e["event"] == "wal_checkpoint_failed"]
    assert failures, logs
    assert "not a database" in failures[0]["error"]
    assert checkpointer.checkpoints == 0
    assert not _checkpoint_threads(path)


@pytest.mark.parametrize("commits", [0, 5])
def test_stop_ends_the_thread_whether_or_not_it_ever_ran(tmp_path: Path, commits: int) -> None:
    """``stop`` returns with the thread gone, after any number of commits."""
    path = tmp_path / "hedui.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    checkpointer = WalCheckpointer(str(path), interval_s=0.01)
    checkpointer.start()
    for _ in range(commits):
        checkpointer.committed()
        time.sleep(0.02)
    checkpointer.stop()
    assert not _checkpoint_threads(path)
    assert (checkpointer.checkpoints > 0) == (commits > 0)


def test_a_database_that_cannot_be_opened_ends_the_thread_with_a_warning(tmp_path: Path) -> None:
    """No connection, no checkpoints: a warning, the thread ends, nothing is raised."""
    path = tmp_path / "missing-directory" / "hedui.db"
    checkpointer = WalCheckpointer(str(path))
    with capture_logs() as logs:
        checkpointer.start()
        checkpointer.stop()
    assert [e["event"] for e in logs] == ["wal_checkpoint_failed"]
    assert "unable to open" in logs[0]["error"]
    assert not _checkpoint_threads(path)
