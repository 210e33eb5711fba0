"""``http``: the seven real HTTP adapters against the simulator, versus the echo baseline.

The simulator (zero latency) runs in a process of its own, the gateway in another, the client in
a third; the echo baseline is driven by the same client with a response of the same size. Target
≥ 0.10 × echo req/s.

Reported beside it, alternated with an echo sized to its own response: the contract prototype
(:mod:`bench._floor`) asking the same simulator over HTTP, the least a pipeline that keeps
DESIGN.md's contracts can do with these sources (one process, as ``--workers`` does not apply).
"""

from __future__ import annotations

import dataclasses
import tempfile

from bench._cases import serialised_requests
from bench._common import Options, gateway_database, load_factory, throughput_round
from bench._floor import floor_main
from bench._procs import ServerProcess
from bench._servers import (
    EchoSpec,
    GatewaySpec,
    SimulatorSpec,
    echo_main,
    gateway_main,
    simulator_main,
)
from bench.harness import Result, Rounds, Target, alternate
from bench.pipeline import profile_round, response_size, throughput_results

__all__ = ["NAME", "run"]

NAME = "http"


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    sim_spec = SimulatorSpec(event_loop=opts.event_loop)
    with (
        tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp,
        gateway_database(opts, tmp, NAME) as url,
        ServerProcess(simulator_main, sim_spec) as sim,
    ):
        spec = GatewaySpec(
            tmp, url, base_url=sim.address, event_loop=opts.event_loop, workers=opts.workers
        )
        size = response_size(dataclasses.replace(spec, workers=1), requests)
        echo = EchoSpec(size, event_loop=opts.event_loop, workers=opts.workers)
        load = load_factory(opts, requests, NAME, tmp)

        rounds = alternate(
            opts.rounds,
            lambda: throughput_round(gateway_main, spec, load()),
            lambda: throughput_round(echo_main, echo, load()),
        )
        floor_spec = dataclasses.replace(spec, workers=1)
        floor_echo = EchoSpec(
            response_size(floor_spec, requests, floor_main), event_loop=opts.event_loop
        )
        floor = alternate(
            opts.rounds,
            lambda: throughput_round(floor_main, floor_spec, load()),
            lambda: throughput_round(echo_main, floor_echo, load()),
        )
        if opts.profile:
            profile_round(NAME, spec, load(), opts)
    results = throughput_results(NAME, rounds, Target("ratio_at_least", 0.10), echo.response_bytes)
    return [*results, *_floor_results(floor, floor_echo.response_bytes)]


def _floor_results(rounds: Rounds, size: int) -> list[Result]:
    s, b, load = rounds.subject, rounds.baseline, rounds.load
    note = f"bench/_floor.py over HTTP, one process; echo response {size} bytes"
    report = Target("report")
    return [
        Result(
            NAME, "contract prototype throughput", "req/s", s["rps"], report, b["rps"], "echo",
            load, note,
        ),
        Result(
            NAME, "contract prototype server CPU", "cores", s["server_cores"], report,
            b["server_cores"], "echo", load,
        ),
        Result(
            NAME, "contract prototype errors", "count", s["errors"], Target("at_most", 0),
            b["errors"], "echo", load,
        ),
    ]  # fmt: skip
