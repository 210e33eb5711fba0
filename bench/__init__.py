"""hedui's benchmarks: each measures a subject beside a baseline in the same run.

``python -m bench`` runs them all; ``python -m bench NAME`` one. :data:`REGISTRY` maps each
name to its ``run(options) -> list[Result]``; the harness is :mod:`bench.harness`.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import (
    auditlog,
    disk,
    footprint,
    http_sources,
    latency,
    memory,
    pipeline,
    prototype,
    selftest,
    steps,
)
from bench._common import Options
from bench.harness import Result

__all__ = ["REGISTRY"]

REGISTRY: dict[str, Callable[[Options], list[Result]]] = {
    pipeline.NAME: pipeline.run,
    prototype.NAME: prototype.run,
    http_sources.NAME: http_sources.run,
    latency.NAME: latency.run,
    auditlog.NAME: auditlog.run,
    memory.NAME: memory.run,
    footprint.NAME: footprint.run,
    disk.NAME: disk.run,
    steps.NAME: steps.run,
    selftest.NAME: selftest.run,  # the harness smoke test; not run by default
}
