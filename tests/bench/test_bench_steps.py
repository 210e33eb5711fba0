"""The steps benchmark times every step of every request (structure only: no figure asserted)."""

from __future__ import annotations

import gateway.pipeline as pipeline_module
from bench._procs import in_child
from bench._steps import QUANTILES, STEPS, StepsSpec, _timed, measure
from gateway.pipeline import Pipeline
from gateway.writer import Writer


def test_a_round_reports_each_step_for_every_counted_request() -> None:
    """A short round in its own process gives every step's quantiles over the counted requests."""
    sample = in_child(measure, StepsSpec(rate=40, duration_s=1.0, warmup_s=0.25))
    assert sample["requests"] == 40
    for step in STEPS:
        assert all(f"{step}_{q}" in sample for q in QUANTILES)
    assert sample["excess_p50"] > 0  # a request ends after its slowest source, never before
    assert sample["fan_out_p50"] >= 0
    for step in ("accept", "record", "build", "transaction"):
        assert sample[f"{step}_p50"] > 0, step
    assert sample["excess_p99"] >= sample["excess_p50"]


def test_the_wrapped_steps_are_put_back() -> None:
    """After a round the pipeline, its module and the writer are the originals again."""
    before = (Pipeline._accept, Pipeline._record, pipeline_module.fan_out)
    before += (pipeline_module.build_report, Writer._commit)
    with _timed({}, []):
        assert Pipeline._accept is not before[0]
    after = (Pipeline._accept, Pipeline._record, pipeline_module.fan_out)
    after += (pipeline_module.build_report, Writer._commit)
    assert after == before
