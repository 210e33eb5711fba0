"""``steps``: where a verification's latency beyond its slowest source goes, step by step.

The ``latency`` benchmark says how much the gateway adds to its slowest source; this one says
where. In-process (no gRPC), with the ``latency`` benchmark's sources (uniform 5–50 ms per call),
an open loop of ``pipeline.submit`` at 250 requests/s (below half of the in-process
saturation), each round in a fresh child process and database (:mod:`bench._steps`). Reported
per step, p50/p90/p99 in ms: the whole request beyond the slowest of its own seven draws, the
work before the accept, the accept and the record (each from being queued to being committed,
so the writer's turns of the event loop are in them), the fan-out beyond the slowest draw (late
timers of a busy loop, the guards), ``build_report``, signing, and one group-commit
transaction. Nothing is judged; session 9 found half of the excess this way
(docs/BENCHMARKS.md).
"""

from __future__ import annotations

from bench._common import Options
from bench._procs import in_child
from bench._steps import QUANTILES, STEPS, StepsSpec, measure
from bench.harness import Result, Target, alternate

__all__ = ["NAME", "run"]

NAME = "steps"
RATE = 250.0
REPORT = Target("report")


def run(opts: Options) -> list[Result]:
    spec = StepsSpec(RATE, opts.seconds(10, 3), opts.seconds(2, 0.5), event_loop=opts.event_loop)
    rounds = alternate(opts.rounds, lambda: in_child(measure, spec), None)
    note = f"in-process, {RATE:g} req/s open loop, sources 5–50 ms"
    return [
        Result(
            NAME,
            f"{label}, {q}",
            "ms",
            rounds.subject[f"{step}_{q}"],
            REPORT,
            load=rounds.load,
            note=note,
        )
        for step, label in STEPS.items()
        for q in QUANTILES
    ]
