"""``prototype``: issue 6's minimal prototype beside the echo, and the gateway beside both.

Issue 6 grounds its pipeline target (0.30 × echo) on a minimal prototype that reached it on
this machine: seven in-process sources, Ed25519 signing, one SQLite append per request
(:mod:`bench._prototype`). This benchmark measures that prototype against the same bare echo
the ``pipeline`` benchmark uses (sized to the prototype's response), and then the gateway
against the prototype, in the same run with the same closed-loop client. It answers two
questions the ``pipeline`` figure alone cannot: does the prototype still reach 0.30 × echo
here today, and what share of it does the full pipeline keep.
"""

from __future__ import annotations

import tempfile

from bench._cases import serialised_requests
from bench._common import Options, load_factory, throughput_round
from bench._prototype import prototype_main
from bench._servers import EchoSpec, GatewaySpec, echo_main, gateway_main
from bench.harness import Result, Target, alternate
from bench.pipeline import response_size

__all__ = ["NAME", "run"]

NAME = "prototype"
REPORT = Target("report")


def run(opts: Options) -> list[Result]:
    requests = serialised_requests()
    with tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp:
        spec = GatewaySpec(tmp, f"sqlite:///{tmp}/hedui.db", uvloop=opts.uvloop)
        size = response_size(spec, requests, prototype_main)
        echo = EchoSpec(size, uvloop=opts.uvloop)
        load = load_factory(opts, requests, NAME, tmp)
        proto = alternate(
            opts.rounds,
            lambda: throughput_round(prototype_main, spec, load()),
            lambda: throughput_round(echo_main, echo, load()),
        )
        gateway = alternate(opts.rounds, lambda: throughput_round(gateway_main, spec, load()), None)
        gateway_size = response_size(spec, requests)
    p, e, g = proto.subject, proto.baseline, gateway.subject
    return [
        Result(
            NAME, "prototype throughput", "req/s", p["rps"], REPORT, e["rps"], "echo",
            proto.load, f"issue 6: the prototype reached 0.30 × echo; response {size} bytes",
        ),
        Result(
            NAME, "prototype server CPU", "cores", p["server_cores"], REPORT,
            e["server_cores"], "echo", proto.load,
        ),
        Result(
            NAME, "gateway throughput", "req/s", g["rps"], REPORT, p["rps"], "prototype",
            gateway.load, f"the full pipeline; response {gateway_size} bytes",
        ),
        Result(
            NAME, "gateway server CPU", "cores", g["server_cores"], REPORT,
            p["server_cores"], "prototype", gateway.load,
        ),
        Result(
            NAME, "errors", "count", [a + b for a, b in zip(p["errors"], g["errors"], strict=True)],
            Target("at_most", 0),
            e["errors"], "echo", proto.load,
        ),
    ]  # fmt: skip
