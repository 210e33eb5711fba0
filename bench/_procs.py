"""Child processes for benchmarks: servers that report their address, and their memory.

Every child is started with the ``spawn`` method (no ``fork`` after gRPC channels exist, see
ECOSYSTEM.md) and talks to the parent over a pipe: it sends ``("ready", address)`` or
``("error", text)`` once, then serves until the parent sends ``"stop"``. :func:`serve_until_stopped`
is the child side, :class:`ServerProcess` the parent side. :func:`in_child` runs one function in
a fresh child and returns its result (a round that must measure its own process). Every wait is
bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import traceback
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

__all__ = [
    "LoopName",
    "ServerProcess",
    "cpu_seconds",
    "in_child",
    "main_thread_cpu_seconds",
    "rss_mib",
    "run_on",
    "serve_until_stopped",
    "spawn",
    "tree_rss_mib",
]

S = TypeVar("S")
R = TypeVar("R")
T = TypeVar("T")
#: the servers' event loop (``--loop``): the gateway serves on asyncio's; uvloop to compare
LoopName = Literal["asyncio", "uvloop"]

spawn = mp.get_context("spawn")


class ServerProcess:
    """``with ServerProcess(entry, spec) as server: server.address``; stops it on exit."""

    def __init__(self, entry: Callable[[Any, Connection], None], spec: Any, timeout_s: float = 60):
        self._parent, child = spawn.Pipe()
        # not a daemon: a gateway with several workers starts processes of its own
        self._process = spawn.Process(target=entry, args=(spec, child), daemon=False)
        self._timeout_s = timeout_s
        self.address = ""

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        self._process.start()
        if not self._parent.poll(self._timeout_s):
            self._kill()
            raise RuntimeError(f"server process did not start within {self._timeout_s}s")
        kind, value = self._parent.recv()
        if kind != "ready":
            self._kill()
            raise RuntimeError(f"server process failed to start:\n{value}")
        self.address = str(value)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with suppress(OSError):
            self._parent.send("stop")
        self._process.join(30)
        if self._process.is_alive():
            self._kill()

    def _kill(self) -> None:
        self._process.terminate()  # our own child, by its handle
        self._process.join(10)


def serve_until_stopped(
    conn: Connection,
    server: Callable[[], AbstractAsyncContextManager[str]],
    *,
    event_loop: LoopName = "asyncio",
) -> None:
    """Child side: enter ``server()`` (yielding its address), report it, wait for "stop"."""

    async def main() -> None:
        async with server() as address:
            conn.send(("ready", address))
            await _wait_for_stop(conn)

    try:
        run_on(main(), event_loop)
    except Exception:
        conn.send(("error", traceback.format_exc()))
        raise


def run_on(main: Coroutine[Any, Any, T], event_loop: LoopName = "asyncio") -> T:
    """``asyncio.run(main)`` on asyncio's loop or uvloop's (a dev dependency)."""
    if event_loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


async def _wait_for_stop(conn: Connection, limit_s: float = 24 * 3600) -> None:
    """Poll the pipe (20 times a second) until the parent says stop or goes away."""
    for _ in range(int(limit_s * 20)):
        if conn.poll():
            with suppress(EOFError):
                conn.recv()
            return
        await asyncio.sleep(0.05)


def in_child(work: Callable[[S], R], arg: S, timeout_s: float = 900) -> R:
    """``work(arg)`` in a fresh child process (both picklable); raise if it fails or hangs."""
    parent, child = spawn.Pipe(duplex=False)
    # not a daemon: a gateway in it starts its integrator process (gateway/integrator_process.py)
    process = spawn.Process(target=_child_main, args=(work, arg, child), daemon=False)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            raise RuntimeError(f"child process gave no result within {timeout_s}s")
        kind, value = parent.recv()
    except EOFError:
        raise RuntimeError("child process died without a result") from None
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()  # our own child, by its handle
            process.join(10)
    if kind != "ok":
        raise RuntimeError(f"child process failed:\n{value}")
    return cast(R, value)


def _child_main(work: Callable[[Any], Any], arg: Any, conn: Connection) -> None:
    try:
        result = ("ok", work(arg))
    except Exception:
        result = ("error", traceback.format_exc())
    conn.send(result)
    conn.close()


def rss_mib(pid: int | None = None) -> float:
    """Resident set size of a process (default: this one), in MiB, from ``/proc``."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def tree_rss_mib(pid: int) -> float:
    """Resident set size of a process and its live descendants (e.g. a gateway's integrator
    process), in MiB. Pages they share are counted once per process, as ``ps`` would."""
    total = 0.0
    for p in [pid, *_descendants(pid)]:
        with contextlib.suppress(FileNotFoundError, RuntimeError):  # exited, or a zombie
            total += rss_mib(p)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live descendants have used, from ``/proc``."""
    return sum(_stat_cpu_seconds(f"/proc/{p}/stat") for p in [pid, *_descendants(pid)])


def main_thread_cpu_seconds(pid: int) -> float:
    """The same for the main thread of each of those processes only: their event loops.

    In a server, the main thread runs the event loop, the others are gRPC's and the WAL
    checkpointer's; the loop's share is what a request waits behind.
    """
    return sum(_stat_cpu_seconds(f"/proc/{p}/task/{p}/stat") for p in [pid, *_descendants(pid)])


def _stat_cpu_seconds(stat: str) -> float:
    """utime + stime of a ``/proc/…/stat`` file (a process's or one thread's), in seconds."""
    try:
        fields = Path(stat).read_text().rpartition(")")[2].split()
    except FileNotFoundError:  # exited meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren, … of ``pid`` (e.g. a gateway's worker processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found
