"""WAL checkpoints of the embedded SQLite database, on a thread of their own.

In WAL mode every commit appends pages to the ``-wal`` file, and a *checkpoint* copies them back
into the database file (and syncs it). SQLite runs one by itself inside the commit that takes the
log past ``wal_autocheckpoint`` pages; our statements run on the event loop
(:mod:`gateway.db`), so that commit stalled every request in the process for the whole copy and
its ``fsync`` (8–12 ms, against 0.5 ms for a commit without one; docs/BENCHMARKS.md, session 5).

:class:`WalCheckpointer` moves that work off the loop: the serving connection tells it after
each commit, and a thread with its own connection runs ``PRAGMA wal_checkpoint(PASSIVE)`` at
most every ``interval_s``. Python's ``sqlite3`` releases the GIL while SQLite works, so the copy
and the ``fsync`` overlap the loop on the other core. A PASSIVE checkpoint never waits for a
lock and never blocks a writer or a reader; it copies what no reader still needs, and the next
writer after a complete one starts the log from its beginning again (SQLite does this itself),
so the file stops growing.

If the thread falls behind or fails, SQLite's own automatic checkpoint is still there, at a
larger threshold (:data:`BACKSTOP_PAGES`): the log stays bounded whatever happens here.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

__all__ = ["BACKSTOP_PAGES", "WalCheckpointer"]

log = structlog.get_logger(__name__)

# The serving connection's own ``wal_autocheckpoint`` while a checkpointer runs (SQLite's default
# is 1,000 pages): it only acts when the thread has not kept the log below this.
BACKSTOP_PAGES = 16_000


class WalCheckpointer:
    """One thread checkpointing ``database`` after commits, at most once per ``interval_s``."""

    def __init__(self, database: str, interval_s: float = 0.25) -> None:
        self._database = database
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint:{database}", daemon=True
        )
        self.checkpoints = 0  # passes that ran, for tests and diagnostics

    def start(self) -> None:
        self._thread.start()

    def committed(self) -> None:
        """Called by the writing connection after each commit: there may be pages to copy."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the pass under way (if any) and end the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._database, check_same_thread=True)
        except sqlite3.Error as exc:  # SQLite's own checkpoints go on as without the thread
            log.warning("wal_checkpoint_failed", database=self._database, error=str(exc))
            return
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                self._wake.clear()
                if self._stopping.is_set():
                    break
                self._checkpoint(conn)
                self._stopping.wait(self._interval_s)  # commits meanwhile only set _wake
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the backstop still bounds the log; say so and go on
            log.warning("wal_checkpoint_failed", database=self._database, error=str(exc))
        else:
            self.checkpoints += 1
