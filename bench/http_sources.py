"""``http``: the seven real HTTP adapters against the simulator, versus the echo baseline.

The simulator (zero latency) runs in a process of its own, the gateway in another, the client in
a third; the echo baseline is driven by the same client with a response of the same size. Target
≥ 0.10 × echo req/s.
"""

from __future__ import annotations

import dataclasses
import tempfile

from bench._cases import serialised_requests
from bench._common import Options, gateway_database, load_factory, throughput_round
from bench._procs import ServerProcess
from bench._servers import (
    EchoSpec,
    GatewaySpec,
    SimulatorSpec,
    echo_main,
    gateway_main,
    simulator_main,
)
from bench.harness import Result, Target, alternate
from bench.pipeline import profile_round, response_size, throughput_results

__all__ = ["NAME", "run"]

NAME = "http"


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    sim_spec = SimulatorSpec(uvloop=opts.uvloop)
    with (
        tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp,
        gateway_database(opts, tmp, NAME) as url,
        ServerProcess(simulator_main, sim_spec) as sim,
    ):
        spec = GatewaySpec(tmp, url, base_url=sim.address, uvloop=opts.uvloop, workers=opts.workers)
        size = response_size(dataclasses.replace(spec, workers=1), requests)
        echo = EchoSpec(size, uvloop=opts.uvloop, workers=opts.workers)
        load = load_factory(opts, requests, NAME, tmp)

        rounds = alternate(
            opts.rounds,
            lambda: throughput_round(gateway_main, spec, load()),
            lambda: throughput_round(echo_main, echo, load()),
        )
        if opts.profile:
            profile_round(NAME, spec, load(), opts)
    return throughput_results(NAME, rounds, Target("ratio_at_least", 0.10), echo.response_bytes)
