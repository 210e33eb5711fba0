"""``selftest``: the harness on a trivial subject, so the smoke test can run it in a second.

Subject and baseline both time a small pure-Python loop; not part of ``python -m bench``.
"""

from __future__ import annotations

import time

from bench._common import Options
from bench.harness import Result, Target, alternate

__all__ = ["NAME", "run"]

NAME = "selftest"


def _loop() -> dict[str, float]:
    started = time.perf_counter()
    total = sum(range(20_000))
    elapsed = time.perf_counter() - started
    return {"rate": 20_000 / elapsed, "checksum": float(total)}


def run(opts: Options) -> list[Result]:
    rounds = alternate(opts.rounds, _loop, _loop)
    return [
        Result(
            NAME,
            "loop",
            "iterations/s",
            rounds.subject["rate"],
            Target("ratio_at_least", 0.1),
            rounds.baseline["rate"],
            "same loop",
            rounds.load,
        )
    ]
