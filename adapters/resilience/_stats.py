"""A rolling window of one source's recent calls: latency percentiles and error rate."""

from __future__ import annotations

import collections
import dataclasses

__all__ = ["SourceStats", "StatsSnapshot"]


@dataclasses.dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """What the last ``calls`` calls looked like."""

    calls: int
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        """Failed calls / calls (0 with no calls)."""
        return self.errors / self.calls if self.calls else 0.0


class SourceStats:
    """Keeps the last ``size`` calls' latency and outcome."""

    def __init__(self, size: int = 512) -> None:
        self._window: collections.deque[tuple[int, bool]] = collections.deque(maxlen=size)
        self.total_calls = 0

    def record(self, latency_us: int, ok: bool) -> None:
        """Remember one call."""
        self._window.append((latency_us, ok))
        self.total_calls += 1

    def snapshot(self) -> StatsSnapshot:
        """Percentiles (nearest rank) and error count over the window."""
        latencies = sorted(lat for lat, _ in self._window)
        errors = sum(1 for _, ok in self._window if not ok)
        return StatsSnapshot(len(latencies), errors, _rank(latencies, 0.50), _rank(latencies, 0.99))


def _rank(sorted_us: list[int], q: float) -> float:
    """The nearest-rank percentile ``q`` in milliseconds (0 for no data)."""
    if not sorted_us:
        return 0.0
    index = min(len(sorted_us) - 1, max(0, int(q * len(sorted_us) + 0.5) - 1))
    return sorted_us[index] / 1000
