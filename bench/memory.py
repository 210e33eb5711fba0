"""``memory``: the gateway's resident memory with 1,000 requests in flight, and over a soak.

In flight: every source answers after 3 s, and 1,000 callers (over 10 connections) each keep a
request open; the server's RSS (its whole process tree: the gateway and its integrator
process) is sampled from ``/proc`` while they wait. Baseline: the echo
server holding 1,000 calls for 3 s the same way. Soak: instant sources, an open-loop load of
``RATE`` requests/s for ``--soak-seconds``; the RSS at the end is compared with the RSS after
the first fifth (warm-up): target no growth (≤ 5 MiB).
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from bench._cases import serialised_requests
from bench._common import Options
from bench._load import LoadResult, LoadSpec, run_load
from bench._procs import ServerProcess, tree_rss_mib
from bench._servers import EchoSpec, GatewaySpec, echo_main, gateway_main
from bench.harness import Result, Target, alternate, load_average
from bench.pipeline import response_size

__all__ = ["NAME", "run"]

NAME = "memory"
IN_FLIGHT = 1_000
HOLD_S = 3.0
RATE = 50.0
REPORT = Target("report")


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    with tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp:
        url = f"sqlite:///{tmp}/hedui.db"
        slow = GatewaySpec(tmp, url, latency_ms=(HOLD_S * 1000, HOLD_S * 1000))
        echo = EchoSpec(response_size(GatewaySpec(tmp, url), requests), delay_s=HOLD_S)
        fresh = (
            # a database per round: the calls left in flight would be resumed at start-up
            dataclasses.replace(slow, database_url=f"sqlite:///{tmp}/held-{n}.db")
            for n in range(10_000)
        )
        rounds = alternate(
            opts.rounds,
            lambda: _in_flight(gateway_main, next(fresh), requests, "held"),
            lambda: _in_flight(echo_main, echo, requests, "held"),
        )
        soak = _soak(GatewaySpec(tmp, url), requests, opts.soak_seconds)
    s, b, load = rounds.subject, rounds.baseline, rounds.load
    answered = f"answered {statistics.median(s['answered']):.0f} of {IN_FLIGHT:,}"
    soaked = f"answered {soak['answered']:.0f}, errors {soak['errors']:.0f}"
    return [
        Result(NAME, "RSS idle", "MiB", s["idle"], REPORT, b["idle"], "echo", load),
        Result(NAME, "RSS in flight", "MiB", s["peak"], REPORT, b["peak"], "echo", load, answered),
        Result(
            NAME,
            "per request in flight",
            "KiB",
            s["per_request"],
            REPORT,
            b["per_request"],
            "echo",
            load,
        ),
        Result(
            NAME,
            f"soak {opts.soak_seconds:.0f} s at {RATE:.0f} req/s: RSS at end",
            "MiB",
            [soak["end"]],
            Target("over_baseline_at_most", 5),
            [soak["warm"]],
            "after warm-up",
            [soak["load"]],
            soaked,
        ),
    ]


def _in_flight(
    entry: Callable[[Any, Connection], None], spec: Any, requests: list[bytes], tag: str
) -> dict[str, float]:
    with ServerProcess(entry, spec) as server:
        time.sleep(0.5)
        idle = tree_rss_mib(server.pid)
        load = LoadSpec(
            server.address,
            requests,
            duration_s=HOLD_S,
            warmup_s=0.0,
            concurrency=IN_FLIGHT,
            channels=10,
            timeout_s=HOLD_S * 4,
            tag=f"{tag}-{time.monotonic_ns()}",
        )
        result, samples = _sampled(server.pid, lambda: run_load(load), every_s=0.1)
    peak = max(samples)
    return {
        "idle": idle,
        "peak": peak,
        "per_request": (peak - idle) * 1024 / IN_FLIGHT,
        "answered": float(result.completed),
    }


def _sampled(
    pid: int, work: Callable[[], LoadResult], every_s: float
) -> tuple[LoadResult, list[float]]:
    """Run ``work`` in a thread while sampling the RSS of ``pid``."""
    box: list[LoadResult] = []
    thread = threading.Thread(target=lambda: box.append(work()), daemon=True)
    samples: list[float] = []
    thread.start()
    for _ in range(100_000):
        samples.append(tree_rss_mib(pid))
        thread.join(every_s)
        if not thread.is_alive():
            break
    if not box:
        raise RuntimeError("the load generator did not finish")
    return box[0], samples


def _soak(spec: GatewaySpec, requests: list[bytes], seconds: float) -> dict[str, float]:
    print(f"  soak: {seconds:.0f} s at {RATE:.0f} req/s", flush=True)
    with ServerProcess(gateway_main, spec) as server:
        load = LoadSpec(
            server.address,
            requests,
            duration_s=seconds,
            warmup_s=0.0,
            rate=RATE,
            tag=f"soak-{time.monotonic_ns()}",
        )
        result, samples = _sampled(server.pid, lambda: run_load(load), every_s=1.0)
    fifth = max(1, len(samples) // 5)
    return {
        "warm": statistics.median(samples[fifth : 2 * fifth]),
        "end": statistics.median(samples[-fifth:]),
        "answered": float(result.completed),
        "errors": float(sum(result.errors.values())),
        "load": load_average(),
    }
