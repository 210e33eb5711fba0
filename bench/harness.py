"""The benchmark harness: alternate subject and baseline, collect figures, print and save them.

A benchmark measures its *subject* and its *baseline* in the same process tree, alternating
(baseline first in even rounds, subject first in odd ones, so drift in the machine's load hits
both), for several rounds. Every callable returns a mapping of metric name → value for one
round. The benchmark then turns the collected rounds into :class:`Result` rows, each with a
:class:`Target`; :func:`print_table` shows them and :func:`write_json` saves them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

__all__ = [
    "Result",
    "Rounds",
    "Target",
    "alternate",
    "alternate_async",
    "load_average",
    "machine",
    "print_table",
    "uptime",
    "write_json",
]

Sample = Mapping[str, float]
TargetKind = Literal["ratio_at_least", "at_most", "at_least", "over_baseline_at_most", "report"]


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """What a metric's median must reach: absolute, or relative to the baseline's median."""

    kind: TargetKind
    value: float = 0.0

    def describe(self, unit: str) -> str:
        return {
            "ratio_at_least": f"≥ {self.value:g} × baseline",
            "at_most": f"≤ {self.value:g} {unit}",
            "at_least": f"≥ {self.value:g} {unit}",
            "over_baseline_at_most": f"≤ baseline + {self.value:g} {unit}",
            "report": "(reported)",
        }[self.kind]

    def check(self, subject: float, baseline: float | None) -> bool | None:
        """True/False when the target applies; None for figures that are only reported."""
        if self.kind == "at_most":
            return subject <= self.value
        if self.kind == "at_least":
            return subject >= self.value
        if baseline is None or self.kind == "report":
            return None
        if self.kind == "ratio_at_least":
            return baseline > 0 and subject / baseline >= self.value
        return subject - baseline <= self.value


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """One metric of one benchmark: every round's value for the subject and the baseline."""

    benchmark: str
    metric: str
    unit: str
    subject: Sequence[float]
    target: Target
    baseline: Sequence[float] = ()
    baseline_name: str = ""
    load: Sequence[float] = ()  # 1-minute load average at each round
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.subject)

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline_median
        return self.median / base if base else None

    @property
    def passed(self) -> bool | None:
        return self.target.check(self.median, self.baseline_median)

    def to_json(self) -> dict[str, Any]:
        doc = dataclasses.asdict(self)
        doc.update(
            target=self.target.describe(self.unit),
            median=self.median,
            baseline_median=self.baseline_median,
            ratio=self.ratio,
            passed=self.passed,
        )
        return doc


@dataclasses.dataclass(slots=True)
class Rounds:
    """Collected samples: metric → values, for the subject and for the baseline."""

    subject: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    baseline: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    load: list[float] = dataclasses.field(default_factory=list)

    def add(self, side: dict[str, list[float]], sample: Sample) -> None:
        for key, value in sample.items():
            side.setdefault(key, []).append(float(value))


def alternate(
    rounds: int, subject: Callable[[], Sample], baseline: Callable[[], Sample] | None
) -> Rounds:
    """Run ``rounds`` rounds, baseline and subject in alternating order."""
    collected = Rounds()
    for i in range(rounds):
        collected.load.append(load_average())
        if baseline is not None and i % 2 == 0:
            collected.add(collected.baseline, baseline())
        collected.add(collected.subject, subject())
        if baseline is not None and i % 2 == 1:
            collected.add(collected.baseline, baseline())
    return collected


async def alternate_async(
    rounds: int,
    subject: Callable[[], Awaitable[Sample]],
    baseline: Callable[[], Awaitable[Sample]] | None,
) -> Rounds:
    """:func:`alternate` for coroutine functions, on the running event loop."""
    collected = Rounds()
    for i in range(rounds):
        collected.load.append(load_average())
        if baseline is not None and i % 2 == 0:
            collected.add(collected.baseline, await baseline())
        collected.add(collected.subject, await subject())
        if baseline is not None and i % 2 == 1:
            collected.add(collected.baseline, await baseline())
        await asyncio.sleep(0)
    return collected


def load_average() -> float:
    """The 1-minute load average (other engineers share this machine)."""
    return os.getloadavg()[0]


def uptime() -> str:
    """The output of ``uptime``, or the load averages when it is missing."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import PackageNotFoundError, version

    libs = {}
    for name in ("grpcio", "protobuf", "SQLAlchemy", "aiosqlite", "asyncpg", "cryptography"):
        try:
            libs[name] = version(name)
        except PackageNotFoundError:
            libs[name] = "missing"
    mem_kb = _meminfo_kb("MemTotal")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": libs,
    }


def _meminfo_kb(key: str) -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def print_table(results: Sequence[Result], console: Console | None = None) -> None:
    """A rich table: median, min, max, baseline, ratio, target, pass/fail, load."""
    console = console or Console(width=160)
    table = Table(title="hedui benchmarks", show_lines=False)
    for col in ("benchmark", "metric", "median", "min", "max", "baseline", "ratio", "target"):
        table.add_column(col, justify="right" if col in {"median", "min", "max"} else "left")
    table.add_column("pass")
    table.add_column("load")
    for r in results:
        verdict = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "—"}[r.passed]
        base = r.baseline_median
        table.add_row(
            r.benchmark,
            f"{r.metric} ({r.unit})",
            _fmt(r.median),
            _fmt(min(r.subject)),
            _fmt(max(r.subject)),
            f"{_fmt(base)} {r.baseline_name}".strip() if base is not None else "—",
            f"{r.ratio:.3f}" if r.ratio is not None else "—",
            r.target.describe(r.unit),
            verdict,
            f"{max(r.load):.2f}" if r.load else "—",
        )
    console.print(table)


def write_json(results: Sequence[Result], path: Path, *, command: str, started: str) -> None:
    """Save every figure with the machine, the command, the date and the load."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "command": command,
        "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "uptime": uptime(),
        "machine": machine(),
        "results": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
