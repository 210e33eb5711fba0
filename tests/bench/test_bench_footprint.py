"""The footprint benchmark measures a round end to end (structure only: no figure is asserted)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench._footprint import FootprintSpec, logical_bytes, measure, sign_and_hash
from bench._procs import in_child


def test_a_round_reports_cpu_and_bytes_and_stores_one_report_per_verification() -> None:
    """A tiny round in its own process has CPU, bytes written and logical bytes, all reports."""
    sample = in_child(measure, FootprintSpec(n=20, warmup=5))
    assert sample["cpu_ms"] > 0
    assert sample["wchar"] > 0
    assert sample["logical"] > 0
    assert sample["payload_bytes"] > 0
    assert sample["reports"] == sample["verifications"] == 25


def test_the_baseline_signs_and_hashes_a_payload() -> None:
    """The sign-and-hash baseline reports CPU per verification."""
    assert sign_and_hash(FootprintSpec(n=20, warmup=2, payload_bytes=5_000))["cpu_ms"] > 0


def test_logical_bytes_count_every_text_and_blob_column_found_in_the_schema(tmp_path: Path) -> None:
    """Columns come from the schema: UTF-8 text and blobs count, numbers and NULLs do not."""
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE reports (report_id TEXT, payload BLOB, size INTEGER, new TEXT)")
        conn.execute("INSERT INTO reports VALUES ('ab', x'000102', 7, '户')")
        conn.execute("INSERT INTO reports VALUES ('cd', x'00', 8, NULL)")
        conn.execute("CREATE TABLE elsewhere (text TEXT)")  # not a gateway table
        conn.execute("INSERT INTO elsewhere VALUES ('ignored')")
    conn.close()
    assert logical_bytes(db) == (2 + 3 + 3 + 2 + 1, 2)
