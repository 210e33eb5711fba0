"""The benchmark harness runs end to end (no timing is asserted: benchmarks are not tests)."""

from __future__ import annotations

import json
from pathlib import Path

import bench
from bench.__main__ import main
from bench.harness import Result, Target


def test_selftest_benchmark_runs_and_writes_json(tmp_path: Path) -> None:
    """`python -m bench selftest --quick --json PATH` exits 0 and saves one passing figure."""
    out = tmp_path / "results.json"
    assert main(["selftest", "--quick", "--rounds", "2", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    [result] = doc["results"]
    assert result["benchmark"] == "selftest"
    assert len(result["subject"]) == len(result["baseline"]) == 2
    assert result["passed"] is True
    assert doc["machine"]["nproc"]
    assert "load average" in doc["uptime"]


def test_every_benchmark_is_registered() -> None:
    """The CLI knows the issue's five benchmarks, footprint, prototype, disk, steps, selftest."""
    assert set(bench.REGISTRY) == {
        "pipeline",
        "http",
        "latency",
        "auditlog",
        "memory",
        "footprint",
        "prototype",
        "disk",
        "steps",
        "selftest",
    }


def test_unknown_benchmark_is_refused_with_exit_code_2() -> None:
    """A misspelt name fails fast instead of running everything."""
    assert main(["pipelin"]) == 2


def test_targets_compare_medians_with_the_baseline() -> None:
    """Ratio, absolute and over-baseline targets judge the median of the rounds."""
    ratio = Result("b", "m", "req/s", [30, 31, 29], Target("ratio_at_least", 0.3), [100, 100, 90])
    assert ratio.passed is True
    assert ratio.ratio == 0.3
    over = Result("b", "p50", "ms", [50.0], Target("over_baseline_at_most", 3), [46.0])
    assert over.passed is False
    assert Result("b", "x", "s", [1.0], Target("report")).passed is None
