"""``pipeline``: SubmitVerification end to end versus a bare grpc.aio echo server.

Subject: the gateway (seven in-process instant sources, Ed25519 signing, audit leaves, SQLite)
behind its real grpc.aio server. Baseline: a bare grpc.aio server answering the same method
with a response of the same size. Each round starts the server in a child process and drives
it from another child process with the same closed-loop client. Target ≥ 0.30 × echo req/s.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from bench._cases import serialised_requests
from bench._common import Options, ThroughputLoad, gateway_database, load_factory, throughput_round
from bench._load import LoadSpec, run_load
from bench._procs import ServerProcess
from bench._profile import py_spy_during
from bench._servers import EchoSpec, GatewaySpec, echo_main, gateway_main
from bench.harness import Result, Rounds, Target, alternate

__all__ = ["NAME", "profile_round", "response_size", "run", "throughput_results"]

NAME = "pipeline"
REPORT = Target("report")


def response_size(
    spec: GatewaySpec,
    requests: list[bytes],
    entry: Callable[[Any, Connection], None] = gateway_main,
) -> int:
    """The size of a real SubmitVerification response (``entry``'s server: the gateway by
    default), for the echo baseline to match."""
    with ServerProcess(entry, spec) as server:
        probe = LoadSpec(server.address, requests[:1], duration_s=0.3, warmup_s=0, concurrency=1)
        return run_load(probe).response_bytes


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    with (
        tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp,
        gateway_database(opts, tmp, NAME) as url,
    ):
        spec = GatewaySpec(tmp, url, event_loop=opts.event_loop, workers=opts.workers)
        size = response_size(dataclasses.replace(spec, workers=1), requests)
        echo = EchoSpec(size, event_loop=opts.event_loop, workers=opts.workers)
        load = load_factory(opts, requests, NAME, tmp)

        rounds = alternate(
            opts.rounds,
            lambda: throughput_round(gateway_main, spec, load()),
            lambda: throughput_round(echo_main, echo, load()),
        )
        if opts.profile:
            profile_round(NAME, spec, load(), opts)
    return throughput_results(NAME, rounds, Target("ratio_at_least", 0.30), echo.response_bytes)


def profile_round(name: str, spec: GatewaySpec, load: ThroughputLoad, opts: Options) -> None:
    """One more subject round with py-spy sampling the server."""
    out = opts.results_dir / f"profile-{name}.txt"
    seconds = load.warmup_s + load.duration_s
    throughput_round(gateway_main, spec, load, lambda pid: py_spy_during(pid, out, seconds))


def throughput_results(name: str, rounds: Rounds, target: Target, size: int) -> list[Result]:
    """Throughput against the target; latency, server CPU and errors reported beside it."""
    s, b, load = rounds.subject, rounds.baseline, rounds.load
    note = f"echo response {size} bytes"
    return [
        Result(name, "throughput", "req/s", s["rps"], target, b["rps"], "echo", load, note),
        Result(name, "p50 latency", "ms", s["p50_ms"], REPORT, b["p50_ms"], "echo", load),
        Result(
            name, "server CPU", "cores", s["server_cores"], REPORT, b["server_cores"], "echo", load
        ),
        Result(
            name, "errors", "count", s["errors"], Target("at_most", 0), b["errors"], "echo", load
        ),
    ]
