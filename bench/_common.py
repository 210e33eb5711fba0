"""What every benchmark shares: its options, and one throughput round against one server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench._load import LoadResult, LoadSpec, percentile, run_load
from bench._procs import LoopName, ServerProcess, cpu_seconds

__all__ = [
    "POSTGRES_ADMIN_URL",
    "Options",
    "ThroughputLoad",
    "gateway_database",
    "latency_sample",
    "load_factory",
    "throughput_round",
]

RESULTS_DIR = Path(__file__).parent / "results"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def gateway_database(opts: Options, tmp: str, name: str) -> Iterator[str]:
    """The gateway's database URL: a SQLite file in ``tmp``, or with ``--postgres`` a fresh
    PostgreSQL database ``hedui_bench_<name>`` on the local server, dropped afterwards."""
    if not opts.postgres:
        yield f"sqlite:///{tmp}/hedui.db"
        return
    database = f"hedui_bench_{name}"
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    asyncio.run(_admin(f"CREATE DATABASE {database}"))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))


async def _admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    """Command-line options, as every benchmark's ``run`` receives them."""

    rounds: int = 3
    quick: bool = False
    soak_seconds: float = 60.0
    profile: bool = False
    event_loop: LoopName = "asyncio"  # every server's, baselines too (--loop)
    concurrency: int = 32
    workers: int = 1  # server processes, for the gateway and its echo baseline alike
    postgres: bool = False  # the gateway on a fresh PostgreSQL database instead of SQLite
    channels: int = 1  # client channels (connections); give each worker at least one
    rate: float | None = None  # latency: a fixed open-loop rate instead of half of saturation
    results_dir: Path = RESULTS_DIR

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full


@dataclasses.dataclass(frozen=True, slots=True)
class ThroughputLoad:
    """The closed-loop load of a throughput round."""

    requests: Sequence[bytes]
    duration_s: float
    warmup_s: float
    concurrency: int
    tag: str = "bench"
    channels: int = 1


def load_factory(
    opts: Options, requests: Sequence[bytes], name: str, tmp: str
) -> Callable[[], ThroughputLoad]:
    """A new closed-loop load per round (its own request-id tag), sized by ``opts``."""
    counter = iter(range(10_000))

    def load() -> ThroughputLoad:
        return ThroughputLoad(
            requests,
            opts.seconds(8, 2),
            opts.seconds(2, 0.5),
            opts.concurrency,
            f"{name}-{Path(tmp).name}-{next(counter)}",
            channels=opts.channels,
        )

    return load


def latency_sample(result: LoadResult) -> dict[str, float]:
    """Throughput, latency percentiles and errors of one load run."""
    return {
        "rps": result.rps,
        "p50_ms": percentile(result.latencies_ms, 0.50),
        "p99_ms": percentile(result.latencies_ms, 0.99),
        "errors": float(sum(result.errors.values())),
    }


def throughput_round(
    entry: Callable[[Any, Connection], None],
    spec: Any,
    load: ThroughputLoad,
    on_started: Callable[[int], Callable[[], None]] | None = None,
) -> dict[str, float]:
    """Start the server, drive it with the closed-loop load, stop it; ``latency_sample`` of it.

    ``on_started(pid)`` (e.g. a profiler) runs once the server listens; what it returns is
    called when the load is over.
    """
    from bench._servers import gateway_main

    with ServerProcess(entry, spec) as server:
        finish = on_started(server.pid) if on_started else None
        cpu, wall = cpu_seconds(server.pid), time.perf_counter()
        result = run_load(
            LoadSpec(
                server.address,
                load.requests,
                duration_s=load.duration_s,
                warmup_s=load.warmup_s,
                concurrency=load.concurrency,
                tag=load.tag,
                channels=load.channels,
                # the gateway's departments must really answer (see LoadSpec), checked on a
                # sample so that the client spends about the same CPU as on the echo
                check_sources=64 if entry is gateway_main else 0,
            )
        )
        cores = (cpu_seconds(server.pid) - cpu) / (time.perf_counter() - wall)
        if finish:
            finish()
    if result.errors:
        print(f"  errors during the round: {result.errors}")
    return {**latency_sample(result), "server_cores": cores}
