"""The child side of ``steps``: where a request's time beyond its slowest source goes.

:func:`measure` opens the gateway in-process as :mod:`bench._footprint` does (same settings,
keys, background integrator and SQLite), with the ``latency`` benchmark's sources: each call
sleeps a uniform 5–50 ms, and the draw is recorded under its request id. It drives
``pipeline.submit`` as an open loop at ``rate`` requests/s and times every step of every request
by wrapping the pipeline's steps in this process (a child of its own, so nothing leaks). A step
is timed from the moment it is called to the moment its caller resumes, so the turns of the
event loop it waits for are in it. The excess is measured over the request's own slowest
*actual* draw, not over the distribution.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

from bench._footprint import _requests
from bench._load import percentile
from bench._procs import LoopName, run_on
from bench._servers import BenchAdapter, GatewaySpec, _fakes, _settings

__all__ = ["STEPS", "StepsSpec", "measure"]

SOURCE_MS = (5.0, 50.0)  # as bench.latency's sources
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}

# key → what it measures (see _durations)
STEPS: dict[str, str] = {
    "excess": "whole request beyond its slowest source",
    "before_accept": "validation and request JSON, before the accept",
    "accept": "accept: queued until committed",
    "fan_out": "fan-out beyond the slowest source's draw",
    "build": "build_report (findings, assessment, report)",
    "sign": "signing, until the record starts",
    "record": "record: queued until committed",
    "transaction": "one group-commit transaction (per transaction)",
}


@dataclasses.dataclass(frozen=True, slots=True)
class StepsSpec:
    """An open loop of ``rate`` requests/s for ``duration_s``, after ``warmup_s`` not counted."""

    rate: float
    duration_s: float
    warmup_s: float
    event_loop: LoopName = "asyncio"  # --loop


def measure(spec: StepsSpec) -> dict[str, float]:
    """Each step's p50, p90 and p99 in ms (``<step>_<q>``), and how many requests were timed."""
    from gateway.logging import configure_logging

    configure_logging(json=True, level="WARNING", file=open(os.devnull, "w"))  # noqa: SIM115
    with tempfile.TemporaryDirectory(prefix="hedui-steps-") as tmp:
        gateway_spec = GatewaySpec(tmp, f"sqlite:///{tmp}/hedui.db", latency_ms=SOURCE_MS)
        return run_on(_measure(spec, gateway_spec), spec.event_loop)


async def _measure(spec: StepsSpec, gateway_spec: GatewaySpec) -> dict[str, float]:
    from gateway.app import Gateway
    from gateway.server import freeze_startup_heap

    marks: dict[str, dict[str, float]] = {}
    drawn: dict[str, list[float]] = {}
    transactions: list[float] = []
    adapters = _fakes(gateway_spec)
    for adapter in adapters:
        if isinstance(adapter, BenchAdapter):
            adapter.drawn = drawn
    total = int((spec.warmup_s + spec.duration_s) * spec.rate)
    requests = list(_requests(total))
    gateway = await Gateway.open(_settings(gateway_spec), adapters=adapters)
    try:
        await gateway.start_background()
        freeze_startup_heap()
        with _timed(marks, transactions):
            await _open_loop(gateway, requests, spec.rate, marks)
    finally:
        await gateway.close()
    counted = requests[int(spec.warmup_s * spec.rate) :]
    rows = [(marks[r.request_id], max(drawn[r.request_id])) for r in counted]
    return _summary(rows, transactions)


async def _open_loop(
    gateway: Any, requests: list[Any], rate: float, marks: dict[str, dict[str, float]]
) -> None:
    async def one(request: Any) -> None:
        mark = marks[request.request_id] = {"start": time.perf_counter()}
        await gateway.pipeline.submit(request, 0.85)  # the latency benchmark's source budget
        mark["end"] = time.perf_counter()

    tasks = []
    began = time.perf_counter()
    for i, request in enumerate(requests):
        if (delay := began + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request)))
    await asyncio.gather(*tasks)


@contextlib.contextmanager
def _timed(marks: dict[str, dict[str, float]], transactions: list[float]) -> Iterator[None]:
    """Wrap the pipeline's steps (and the writer's transaction) while the block runs."""
    import gateway.pipeline as pipeline_module
    from gateway.pipeline import Pipeline
    from gateway.writer import Writer

    with contextlib.ExitStack() as stack:
        # each takes the request (or the query) as its second positional argument
        for owner, name, step in (
            (Pipeline, "_accept", "accept"),
            (pipeline_module, "fan_out", "fan_out"),
            (Pipeline, "_record", "record"),
        ):
            wrapper = _marking(getattr(owner, name), marks, step)
            stack.enter_context(mock.patch.object(owner, name, wrapper))
        build = _marking_build(pipeline_module.build_report, marks)
        stack.enter_context(mock.patch.object(pipeline_module, "build_report", build))
        commit = _timing_commit(Writer._commit, transactions)
        stack.enter_context(mock.patch.object(Writer, "_commit", commit))
        yield


def _marking(original: Any, marks: dict[str, dict[str, float]], step: str) -> Any:
    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark = marks[args[1].request_id]
        mark[step + "0"] = time.perf_counter()
        result = await original(*args, **kwargs)
        mark[step + "1"] = time.perf_counter()
        return result

    return wrapper


def _marking_build(original: Any, marks: dict[str, dict[str, float]]) -> Any:
    @functools.wraps(original)
    def wrapper(**kwargs: Any) -> Any:
        mark = marks[kwargs["request"].request_id]
        mark["build0"] = time.perf_counter()
        result = original(**kwargs)
        mark["build1"] = time.perf_counter()
        return result

    return wrapper


def _timing_commit(original: Any, transactions: list[float]) -> Any:
    @functools.wraps(original)
    async def wrapper(self: Any, jobs: Any) -> Any:
        began = time.perf_counter()
        result = await original(self, jobs)
        transactions.append(time.perf_counter() - began)
        return result

    return wrapper


def _durations(mark: dict[str, float], slowest: float) -> dict[str, float]:
    """One request's steps in seconds, from its marks and its slowest source's draw."""
    return {
        "excess": mark["end"] - mark["start"] - slowest,
        "before_accept": mark["accept0"] - mark["start"],
        "accept": mark["accept1"] - mark["accept0"],
        "fan_out": mark["fan_out1"] - mark["fan_out0"] - slowest,
        "build": mark["build1"] - mark["build0"],
        "sign": mark["record0"] - mark["build1"],
        "record": mark["record1"] - mark["record0"],
    }


def _summary(
    rows: list[tuple[dict[str, float], float]], transactions: list[float]
) -> dict[str, float]:
    per_step: dict[str, list[float]] = {"transaction": transactions}
    for mark, slowest in rows:
        for step, seconds in _durations(mark, slowest).items():
            per_step.setdefault(step, []).append(seconds)
    out = {"requests": float(len(rows))}
    for step, values in per_step.items():
        for name, q in QUANTILES.items():
            out[f"{step}_{name}"] = 1000 * percentile(values, q)
    return out
