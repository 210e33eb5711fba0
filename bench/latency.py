"""``latency``: how much the gateway adds to the slowest source, at half of saturation.

Seven in-process sources, each sleeping a uniform 5–50 ms per call. A request cannot be faster
than the slowest of its seven answers, so the baseline is the distribution of that maximum, drawn
from the same distribution the sources use (as many draws as answered requests). The load is
open-loop at half the saturation throughput measured first (closed loop), or at ``--rate`` (to
compare two versions at the same load; the verdict is then at that rate). Targets: p50 ≤
baseline p50 + 3 ms, p99 ≤ baseline p99 + 15 ms. Then one source hangs: p99 must stay within the
source timeout the gateway derives from the client's deadline (+ the same 15 ms).

Alternated with the gateway's rounds, the contract prototype (:mod:`bench._floor`: only what
DESIGN.md's contracts require, with the same sources) serves the same load: its excess over the
slowest source is what any pipeline keeping the contracts would add here (reported, no target;
it always stores in SQLite and runs in one process, whatever ``--postgres`` and ``--workers`` say).
Both report the server's CPU per request at that load: "half of saturation" is half of the
gateway's *throughput* at saturation, where group commit puts 16–19 writes in a transaction; at
half of it most transactions hold one write, so the loop is busier than half (session 13 in
docs/BENCHMARKS.md), and the time a request waits for the loop follows from that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import tempfile
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from bench._cases import serialised_requests
from bench._common import Options, gateway_database
from bench._floor import floor_main
from bench._load import LoadResult, LoadSpec, percentile, run_load
from bench._procs import ServerProcess, cpu_seconds, main_thread_cpu_seconds
from bench._servers import GatewaySpec, gateway_main
from bench.harness import Result, Rounds, Target, alternate

__all__ = ["NAME", "run"]

NAME = "latency"
SOURCE_MS = (5.0, 50.0)
SOURCES = 7
CLIENT_TIMEOUT_S = 1.0
# gateway/api/verification.py: sources get 90 % of the deadline minus 50 ms
SOURCE_TIMEOUT_MS = CLIENT_TIMEOUT_S * 1000 * 0.9 - 50
Entry = Callable[[GatewaySpec, Connection], None]  # a server process's main


def slowest_of_seven(count: int, seed: int) -> list[float]:
    """``count`` draws of the slowest of seven sources' latencies (ms)."""
    rng = random.Random(seed)
    return [max(rng.uniform(*SOURCE_MS) for _ in range(SOURCES)) for _ in range(count)]


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    with tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp:
        spec = GatewaySpec(
            tmp, "", latency_ms=SOURCE_MS, event_loop=opts.event_loop, workers=opts.workers
        )
        hung = dataclasses.replace(spec, hang="bank")
        if opts.rate is not None:  # --rate: the same load for two versions compared
            rate = opts.rate
            note = f"open loop at {rate:.0f} req/s (--rate; saturation not measured)"
        else:
            with _fresh_database(opts, tmp, "saturation") as url:
                spec_now = dataclasses.replace(spec, database_url=url)
                saturation = _saturation(spec_now, requests, opts)
            rate = saturation / 2
            note = f"open loop at {rate:.0f} req/s (saturation {saturation:.0f})"
        print(f"  {note}")
        counter = iter(range(10_000))

        def round_(server: GatewaySpec, entry: Entry = gateway_main) -> Served:
            # A fresh database each round: requests left in flight by the last round would be
            # resumed at start-up, one by one, each waiting for the hung source.
            n = next(counter)
            with _fresh_database(opts, tmp, str(n)) as url:
                fresh = dataclasses.replace(server, database_url=url)
                tag = f"{NAME}-{Path(tmp).name}-{n}"
                return _open_loop(fresh, requests, rate, opts, tag, entry)

        rounds = alternate(
            opts.rounds, lambda: _sample(round_(spec)), lambda: _sample(round_(spec, floor_main))
        )
        hang = alternate(opts.rounds, lambda: _sample(round_(hung)), None)
    return _results(rounds, hang, note)


@contextlib.contextmanager
def _fresh_database(opts: Options, tmp: str, name: str) -> Iterator[str]:
    """A new SQLite file in ``tmp``, or with ``--postgres`` a new PostgreSQL database."""
    if not opts.postgres:
        yield f"sqlite:///{tmp}/round-{name}.db"
        return
    with gateway_database(opts, tmp, f"{NAME}_{name}") as url:
        yield url


def _saturation(spec: GatewaySpec, requests: list[bytes], opts: Options) -> float:
    with ServerProcess(gateway_main, spec) as server:
        load = LoadSpec(
            server.address,
            requests,
            duration_s=opts.seconds(5, 2),
            warmup_s=opts.seconds(1, 0.5),
            concurrency=64,
            timeout_s=CLIENT_TIMEOUT_S * 5,
            tag="saturation",
            channels=opts.channels,
        )
        return run_load(load).rps


@dataclasses.dataclass(frozen=True, slots=True)
class Served:
    """One open-loop round: what the client measured, and the server's CPU meanwhile."""

    result: LoadResult
    cpu_ms_per_request: float  # all the server's processes and threads, warm-up included
    loop_cpu_ms_per_request: float  # their main threads only (the event loops)


def _open_loop(
    spec: GatewaySpec,
    requests: list[bytes],
    rate: float,
    opts: Options,
    tag: str,
    entry: Entry = gateway_main,
) -> Served:
    with ServerProcess(entry, spec) as server:
        load = LoadSpec(
            server.address,
            requests,
            duration_s=opts.seconds(10, 3),
            warmup_s=opts.seconds(1, 0.5),
            rate=rate,
            timeout_s=CLIENT_TIMEOUT_S,
            # the contract prototype's report cites digests only: no per-source latencies
            parse=entry is gateway_main,
            # every report's sources must have answered, but for the one made to hang
            check_sources=1 if entry is gateway_main and not spec.hang else 0,
            tag=tag,
            channels=opts.channels,
        )
        cpu, loops = cpu_seconds(server.pid), main_thread_cpu_seconds(server.pid)
        result = run_load(load)
        cpu = cpu_seconds(server.pid) - cpu
        loops = main_thread_cpu_seconds(server.pid) - loops
    # the open loop sends at ``rate`` through the warm-up and the measured window alike
    sent = rate * (load.warmup_s + load.duration_s)
    return Served(result, 1000 * cpu / sent, 1000 * loops / sent)


def _sample(served: Served) -> dict[str, float]:
    result = served.result
    base = slowest_of_seven(max(result.completed, 1), seed=result.completed)
    return {
        "cpu_ms": served.cpu_ms_per_request,
        "loop_cpu_ms": served.loop_cpu_ms_per_request,
        "p50_ms": percentile(result.latencies_ms, 0.50),
        "p99_ms": percentile(result.latencies_ms, 0.99),
        "base_p50_ms": percentile(base, 0.50),
        "base_p99_ms": percentile(base, 0.99),
        "measured_slowest_p50_ms": percentile(result.slowest_source_ms, 0.50),
        "rps": result.rps,
        "errors": float(sum(result.errors.values())),
    }


def _results(rounds: Rounds, hang: Rounds, note: str) -> list[Result]:
    s, h, load = rounds.subject, hang.subject, rounds.load
    f = rounds.baseline  # the contract prototype
    hung = f"bank hangs; source timeout {SOURCE_TIMEOUT_MS:.0f} ms"
    return [
        Result(
            NAME,
            "p50",
            "ms",
            s["p50_ms"],
            Target("over_baseline_at_most", 3),
            s["base_p50_ms"],
            "slowest source",
            load,
            note,
        ),
        Result(
            NAME,
            "p99",
            "ms",
            s["p99_ms"],
            Target("over_baseline_at_most", 15),
            s["base_p99_ms"],
            "slowest source",
            load,
            note,
        ),
        Result(
            NAME,
            "slowest source as the gateway measured it, p50",
            "ms",
            s["measured_slowest_p50_ms"],
            Target("report"),
            load=load,
        ),
        Result(
            NAME,
            "contract prototype p50",
            "ms",
            f["p50_ms"],
            Target("report"),
            f["base_p50_ms"],
            "slowest source",
            load,
            "bench/_floor.py: only the contracts' work, the same sources and load",
        ),
        Result(
            NAME,
            "contract prototype p99",
            "ms",
            f["p99_ms"],
            Target("report"),
            f["base_p99_ms"],
            "slowest source",
            load,
        ),
        Result(
            NAME,
            "server CPU per request at this load",
            "ms",
            s["cpu_ms"],
            Target("report"),
            f["cpu_ms"],
            "contract prototype",
            load,
            "every thread of the server, warm-up included: how busy the load keeps it",
        ),
        Result(
            NAME,
            "event loops' CPU per request at this load",
            "ms",
            s["loop_cpu_ms"],
            Target("report"),
            f["loop_cpu_ms"],
            "contract prototype",
            load,
            "the main thread of each server process: the loop a request waits behind",
        ),
        Result(NAME, "errors", "count", s["errors"], Target("at_most", 0), load=load),
        Result(
            NAME,
            "one source hung: p99",
            "ms",
            h["p99_ms"],
            Target("at_most", SOURCE_TIMEOUT_MS + 15),
            load=hang.load,
            note=hung,
        ),
        Result(
            NAME,
            "one source hung: errors",
            "count",
            h["errors"],
            Target("at_most", 0),
            load=hang.load,
        ),
    ]
