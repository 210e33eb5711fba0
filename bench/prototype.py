"""``prototype``: issue 6's minimal prototype beside the echo, and the gateway beside both.

Issue 6 grounds its pipeline target (0.30 × echo) on a minimal prototype that reached it on
this machine: seven in-process sources, Ed25519 signing, one SQLite append per request
(:mod:`bench._prototype`). This benchmark measures, in the same run with the same closed-loop
client:

1. that prototype against the bare echo the ``pipeline`` benchmark uses (sized to the
   prototype's response): does the target's premise hold here today?
2. the *contract prototype* (:mod:`bench._floor`: the prototype plus the work DESIGN.md's
   contracts require — the request stored before the fan-out, a leaf per request, answer and
   report, the raw answers stored, the Merkle tree integrated and checkpointed) against an echo
   sized to its response: what can any pipeline that keeps the contracts reach here?
3. the gateway against the contract prototype: what share of that floor the full pipeline keeps.
"""

from __future__ import annotations

import tempfile

from bench._cases import serialised_requests
from bench._common import Options, load_factory, throughput_round
from bench._floor import floor_main
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
        spec = GatewaySpec(tmp, f"sqlite:///{tmp}/hedui.db", event_loop=opts.event_loop)
        size = response_size(spec, requests, prototype_main)
        echo = EchoSpec(size, event_loop=opts.event_loop)
        load = load_factory(opts, requests, NAME, tmp)
        proto = alternate(
            opts.rounds,
            lambda: throughput_round(prototype_main, spec, load()),
            lambda: throughput_round(echo_main, echo, load()),
        )
        floor_size = response_size(spec, requests, floor_main)
        floor_echo = EchoSpec(floor_size, event_loop=opts.event_loop)
        floor = alternate(
            opts.rounds,
            lambda: throughput_round(floor_main, spec, load()),
            lambda: throughput_round(echo_main, floor_echo, load()),
        )
        gateway = alternate(
            opts.rounds,
            lambda: throughput_round(gateway_main, spec, load()),
            lambda: throughput_round(floor_main, spec, load()),
        )
        gateway_size = response_size(spec, requests)
    p, e, g = proto.subject, proto.baseline, gateway.subject
    f, fe = floor.subject, floor.baseline
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
            NAME, "contract prototype throughput", "req/s", f["rps"], REPORT, fe["rps"], "echo",
            floor.load, f"the contracts' minimum (bench/_floor.py); response {floor_size} bytes",
        ),
        Result(
            NAME, "contract prototype server CPU", "cores", f["server_cores"], REPORT,
            fe["server_cores"], "echo", floor.load,
        ),
        Result(
            NAME, "gateway throughput", "req/s", g["rps"], REPORT, gateway.baseline["rps"],
            "contract prototype", gateway.load, f"the full pipeline; response {gateway_size} bytes",
        ),
        Result(
            NAME, "gateway server CPU", "cores", g["server_cores"], REPORT,
            gateway.baseline["server_cores"], "contract prototype", gateway.load,
        ),
        Result(
            NAME, "errors", "count", _summed(p["errors"], f["errors"], g["errors"]),
            Target("at_most", 0),
            _summed(e["errors"], fe["errors"], gateway.baseline["errors"]), "echo and floor",
            proto.load,
        ),
    ]  # fmt: skip


def _summed(*per_round: list[float]) -> list[float]:
    """Round by round, the sum of several servers' counts."""
    return [sum(counts) for counts in zip(*per_round, strict=True)]
