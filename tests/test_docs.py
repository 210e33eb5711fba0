"""docs/operations.md documents every setting and every metric (as datasette's test_docs does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from adapters.declarative import FieldSpec, HttpJsonSourceSpec, SqlViewSourceSpec
from gateway.config import AdapterSettings, ResilienceSettings, Settings
from gateway.metrics import Metrics

OPERATIONS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"


def documented() -> set[str]:
    """Every `code span` of the operations page, and each part of a `a.b` or `a` / `b` span."""
    text = OPERATIONS.read_text()
    spans = set(re.findall(r"`([^`\n]+)`", text))
    return spans | {part for span in spans for part in re.split(r"[./ ]+", span) if part}


def setting_names() -> list[str]:
    """Every key an operator can write in the configuration."""
    models: list[type[BaseModel]] = [Settings, AdapterSettings, ResilienceSettings]
    models += [HttpJsonSourceSpec, SqlViewSourceSpec, FieldSpec]
    return sorted({name for model in models for name in model.model_fields})


def metric_names() -> list[str]:
    """Every exported metric, as it appears on /metrics (counters with ``_total``)."""
    metrics, names = Metrics(), set()
    metrics.watch_sources([])  # the gauges read from the sources are families even with none
    for family in metrics.registry.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return sorted(names)


@pytest.mark.parametrize("setting", setting_names())
def test_every_setting_is_documented(setting: str) -> None:
    """Each settings key appears in docs/operations.md."""
    assert setting in documented(), f"`{setting}` is not documented in {OPERATIONS.name}"


@pytest.mark.parametrize("metric", metric_names())
def test_every_metric_is_documented(metric: str) -> None:
    """Each metric appears, with its type, in the metrics table of docs/operations.md."""
    pattern = rf"^\| `{metric}` \| (counter|gauge|histogram) \|"
    row = re.search(pattern, OPERATIONS.read_text(), re.M)
    assert row, f"`{metric}` has no row in the metrics table of {OPERATIONS.name}"


def test_metrics_are_found_at_all() -> None:
    """The metric list is not empty (the documentation test cannot pass vacuously)."""
    assert len(metric_names()) >= 10
