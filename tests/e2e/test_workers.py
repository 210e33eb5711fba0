"""`hedui serve --workers N`: several gateway processes on one port, one database, one log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from audit.sql import SqlStorage
from gateway.client import Client, request_from_case
from gateway.db import create_engine

HEDUI = str(Path(sys.executable).parent / "hedui")
START_S = 90.0


class Supervisor:
    """A running ``hedui serve --workers`` process and the JSON log lines it printed."""

    def __init__(self, process: asyncio.subprocess.Process, env: dict[str, str]) -> None:
        self.process = process
        self.env = env
        self.lines: list[dict[str, Any]] = []

    async def until(self, event: str, count: int = 1) -> list[dict[str, Any]]:
        """Read the log until ``count`` lines with ``event`` were printed (bounded in time)."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(START_S):
                while len(found := [e for e in self.lines if e.get("event") == event]) < count:
                    line = await self.process.stdout.readline()
                    if not line:
                        raise AssertionError(f"exited before {event!r}: {self.lines[-8:]}")
                    self.lines.append(_json_or_text(line))
        except TimeoutError:
            raise AssertionError(f"no {event!r} in {START_S} s: {self.lines[-8:]}") from None
        return found

    async def exit_code(self, timeout_s: float = 60.0) -> int:
        """Read the log to its end (a full pipe would block the writers), then the exit code."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                while line := await self.process.stdout.readline():
                    self.lines.append(_json_or_text(line))
                return await self.process.wait()
        except TimeoutError:
            raise AssertionError(f"still running after {timeout_s} s: {self.lines[-8:]}") from None


def _json_or_text(line: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(line)
    except ValueError:
        return {"event": "text", "text": line.decode(errors="replace")}
    return parsed if isinstance(parsed, dict) else {"event": "text", "text": str(parsed)}


@pytest_asyncio.fixture
async def supervisor(db_url: str, sim: Any, tmp_path: Path) -> AsyncIterator[Supervisor]:
    """``hedui serve --workers 2`` on a free port against the simulator and the test database."""
    env = {
        **os.environ,
        "HEDUI_DATABASE_URL": db_url,
        "HEDUI_KEY_DIR": str(tmp_path / "keys"),
        "HEDUI_SOURCES_BASE_URL": str(sim.base_url),
        "HEDUI_METRICS_LISTEN": "",
        "HEDUI_LOG_JSON": "true",
        "HEDUI_LOG_LEVEL": "INFO",
    }
    env.pop("HEDUI_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        HEDUI,
        *("serve", "--workers", "2", "--listen", "127.0.0.1:0"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group: the teardown can kill the workers too
    )
    running = Supervisor(process, env)
    try:
        yield running
    finally:
        await _stop_group(process)
        await _read_to_end(process)


async def _read_to_end(process: asyncio.subprocess.Process) -> None:
    """Read the log pipe to its end: only then does asyncio close the process's transport. One
    left open is closed by the collector later, in whatever test runs then, with a
    ResourceWarning that the warnings filter turns into that test's failure."""
    assert process.stdout is not None
    async with asyncio.timeout(30.0):
        await process.stdout.read()
    await asyncio.sleep(0)  # the transport closes in a callback once the pipe is at its end


async def _stop_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the supervisor's whole process group, then SIGKILL it; bounded in time.

    Python 3.11's ``Process.wait`` also waits for the stdout pipe to close, which a worker
    outliving its supervisor would hold open for ever: signalling the group ends that wait.
    """
    for sig, grace_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the whole group has exited
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s):
                await process.wait()
                return
    async with asyncio.timeout(30.0):
        await process.wait()


@pytest.mark.asyncio
async def test_workers_share_one_port_database_and_log(
    supervisor: Supervisor, cases: list[dict[str, Any]], db_url: str
) -> None:
    """Two workers listen on one port; requests over many connections land in one valid log."""
    started = (await supervisor.until("workers_started"))[0]
    listening = await supervisor.until("server_started", count=2)
    assert sorted(e["worker"] for e in listening) == [0, 1]
    address = started["listen"]

    async def submit(case: dict[str, Any], n: int) -> Any:
        async with Client(address, caller="workers-test") as client:
            request = request_from_case(case, today=date.today(), request_id=f"workers-{n}")
            return await client.submit(request, timeout=20.0)

    replies = await asyncio.gather(*(submit(c, n) for n, c in enumerate(cases[:8])))
    assert len({r.report.report_id for r in replies}) == 8
    again = await submit(cases[0], 0)  # another connection, maybe another worker
    assert again.replayed
    assert again.report.report_id == replies[0].report.report_id

    supervisor.process.send_signal(signal.SIGTERM)
    assert await supervisor.exit_code() == 0
    engine = create_engine(db_url)
    try:
        assert await SqlStorage(engine).size() >= 8 * 9  # accepted + 7 answers + signed, each
    finally:
        await engine.dispose()
    check = await asyncio.create_subprocess_exec(
        HEDUI, "audit", "verify-log", env=supervisor.env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await check.communicate()
    assert check.returncode == 0, out.decode()


@pytest.mark.asyncio
async def test_a_dead_worker_stops_the_set(supervisor: Supervisor) -> None:
    """When a worker dies, the supervisor stops the other one and exits non-zero."""
    started = (await supervisor.until("workers_started"))[0]
    await supervisor.until("server_started", count=2)
    os.kill(started["pids"][1], signal.SIGKILL)
    assert await supervisor.exit_code() == 1
    for pid in started["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.asyncio
async def test_workers_stop_when_the_supervisor_is_killed(supervisor: Supervisor) -> None:
    """SIGKILL leaves the supervisor no time to stop its workers: they notice and stop."""
    started = (await supervisor.until("workers_started"))[0]
    await supervisor.until("server_started", count=2)
    supervisor.process.kill()
    gone = await supervisor.until("supervisor_gone", count=2)
    assert sorted(e["worker"] for e in gone) == [0, 1]
    await supervisor.until("server_stopping", count=2)
    async with asyncio.timeout(60):
        while alive := [pid for pid in started["pids"] if _alive(pid)]:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert not alive


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (an exited but unreaped child counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
