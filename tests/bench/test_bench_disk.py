"""The disk benchmark times transactions in a directory (structure only: no figure asserted)."""

from __future__ import annotations

from pathlib import Path

from bench.disk import DiskSpec, commit_times


def test_a_round_times_transactions_in_the_given_directory_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    """Each transaction is counted, the percentiles are ordered, and the database is removed."""
    sample = commit_times(DiskSpec(str(tmp_path), seconds=0.3))
    assert sample["count"] >= 10
    assert 0 < sample["p50"] <= sample["p99"] <= sample["p999"] <= sample["max"]
    assert 0 <= sample["slow"] <= sample["count"]
    assert list(tmp_path.iterdir()) == []
