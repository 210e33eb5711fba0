"""``disk``: how long the gateway's SQLite transactions take on this file system, beside tmpfs.

The embedded gateway runs its SQLite statements on the event loop (:mod:`gateway.db`), so a
commit that the file system holds up holds up every request in the process, and sets the
``latency`` benchmark's p99. This benchmark isolates that: the gateway's own engine (WAL,
``synchronous=NORMAL``, the WAL checkpoint thread) commits transactions shaped like one
verification's group commit at half of saturation (nine 300-byte audit leaves and eight 2 KB
rows, then 2 ms of idle), for 20 s a round (``--quick``: 5 s), in a fresh child process.

Subject: a database in ``$TMPDIR`` (where the other benchmarks put theirs; ``/tmp`` by default).
Baseline: the same in ``/dev/shm`` (tmpfs: page cache only, no device and no journal), which
isolates what the device and the file system's journal add. Nothing is judged; compare the
tails (p99.9, max, the count of transactions over 5 ms).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from bench._common import Options
from bench._procs import in_child
from bench.harness import Result, Rounds, Target, alternate

__all__ = ["NAME", "commit_times", "run"]

NAME = "disk"
TMPFS = Path("/dev/shm")
SLOW_S = 0.005
REPORT = Target("report")


@dataclasses.dataclass(frozen=True, slots=True)
class DiskSpec:
    directory: str
    seconds: float
    leaves: int = 9  # a verification's audit leaves
    rows: int = 8  # its request, answers and report rows
    row_bytes: int = 2_000
    idle_s: float = 0.002  # between transactions: half of saturation


def run(opts: Options) -> list[Result]:
    seconds = opts.seconds(20.0, 5.0)
    here = DiskSpec(tempfile.gettempdir(), seconds)
    if not TMPFS.is_dir():
        print(f"  {TMPFS} is missing: no tmpfs baseline")
    tmpfs = DiskSpec(str(TMPFS), seconds) if TMPFS.is_dir() else None
    rounds = alternate(
        opts.rounds,
        lambda: in_child(commit_times, here),
        (lambda: in_child(commit_times, tmpfs)) if tmpfs else None,
    )
    return _results(rounds, here)


def commit_times(spec: DiskSpec) -> dict[str, float]:
    """Transaction-time percentiles (ms) and the count over 5 ms, in a fresh database."""
    with tempfile.TemporaryDirectory(prefix="hedui-disk-", dir=spec.directory) as tmp:
        times = asyncio.run(_transactions(f"sqlite:///{tmp}/disk.db", spec))
    times.sort()
    return {
        "p50": _at(times, 0.5),
        "p99": _at(times, 0.99),
        "p999": _at(times, 0.999),
        "max": times[-1] * 1000,
        "slow": sum(t > SLOW_S for t in times),
        "count": len(times),
    }


def _at(ordered: list[float], quantile: float) -> float:
    """The ``quantile`` of ``ordered`` seconds, in ms."""
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


async def _transactions(url: str, spec: DiskSpec) -> list[float]:
    from sqlalchemy import text

    from gateway.db import create_engine

    engine = create_engine(url)
    leaf = {"e": os.urandom(300)}
    row = {"v": os.urandom(spec.row_bytes)}
    times = []
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE leaves (i INTEGER PRIMARY KEY, e BLOB)"))
            await conn.execute(text("CREATE TABLE t (i INTEGER PRIMARY KEY, k TEXT, v BLOB)"))
        end = time.monotonic() + spec.seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO leaves (e) VALUES (:e)"), [leaf] * spec.leaves)
                keys = [{"k": os.urandom(16).hex(), **row} for _ in range(spec.rows)]
                await conn.execute(text("INSERT INTO t (k, v) VALUES (:k, :v)"), keys)
            times.append(time.perf_counter() - began)
            await asyncio.sleep(spec.idle_s)
    finally:
        await engine.dispose()
    return times


def _results(rounds: Rounds, spec: DiskSpec) -> list[Result]:
    s, b, load = rounds.subject, rounds.baseline, rounds.load
    note = f"{spec.directory}; {spec.leaves} leaves + {spec.rows} rows a transaction"
    out = []
    for key, metric, unit in (
        ("p50", "transaction p50", "ms"),
        ("p99", "transaction p99", "ms"),
        ("p999", "transaction p99.9", "ms"),
        ("max", "transaction max", "ms"),
        ("slow", f"transactions over {SLOW_S * 1000:g} ms", "count"),
        ("count", "transactions", "count"),
    ):
        baseline = b.get(key, [])
        name = "tmpfs" if baseline else ""
        out.append(Result(NAME, metric, unit, s[key], REPORT, baseline, name, load, note))
    return out
