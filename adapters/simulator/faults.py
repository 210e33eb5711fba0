"""Per-department behaviour: latency, random errors, and fault modes switchable at run time.

Static settings (:class:`DepartmentSettings`) give each department a latency (fixed, or a
``(min, max)`` range in ms) and an error rate (the fraction of requests answered HTTP 500).
A fault mode changes behaviour until switched off, over HTTP::

    PUT /_sim/departments/{name}/faults   {"mode": "hang"}            (any subset of the keys)
    GET /_sim/departments/{name}/faults → {"department": "bank", "mode": "none",
        "extra_latency_ms": 1000, "retry_after_s": 1, "latency_ms": [0, 0], "error_rate": 0.0}

========================  =================================================================
mode                      effect
========================  =================================================================
``none``                  normal answers
``slow``                  ``extra_latency_ms`` more latency
``hang``                  never answers (until the client gives up or the simulator stops)
``http_500``              HTTP 500 with a JSON error
``http_503``              HTTP 503 with a JSON error (a retryable 5xx)
``malformed_json``        HTTP 200 whose body is not JSON
``truncated_body``        HTTP 200 with the JSON cut in half (correct Content-Length)
``wrong_schema``          HTTP 200, valid JSON of another shape
``status_429``            HTTP 429 with ``Retry-After: retry_after_s``
``flapping``              every other request fails (HTTP 500), the first after switching on
========================  =================================================================

Random draws (latency, error rate) come from an RNG seeded with the simulator seed and the
department name, so a given sequence of requests meets the same delays and errors every run.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from typing import Any

__all__ = ["Action", "DepartmentSettings", "DepartmentState", "FaultMode", "Plan"]


class FaultMode(enum.StrEnum):
    """A fault that stays switched on until switched off."""

    NONE = "none"
    SLOW = "slow"
    HANG = "hang"
    HTTP_500 = "http_500"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED_BODY = "truncated_body"
    WRONG_SCHEMA = "wrong_schema"
    STATUS_429 = "status_429"
    FLAPPING = "flapping"
    HTTP_503 = "http_503"


class Action(enum.StrEnum):
    """What the server does with one request."""

    ANSWER = "answer"
    HANG = "hang"
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    STATUS_429 = "status_429"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED_BODY = "truncated_body"
    WRONG_SCHEMA = "wrong_schema"


_PASS_THROUGH = {FaultMode.HANG, FaultMode.HTTP_500, FaultMode.HTTP_503, FaultMode.STATUS_429}
_BODY_FAULTS = {FaultMode.MALFORMED_JSON, FaultMode.TRUNCATED_BODY, FaultMode.WRONG_SCHEMA}


@dataclasses.dataclass(frozen=True, slots=True)
class DepartmentSettings:
    """Latency in ms (``(n, n)`` is fixed) and the fraction of requests answered HTTP 500."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0

    def __post_init__(self) -> None:
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(
                f"latency_ms must be (min, max) with 0 <= min <= max: {self.latency_ms}"
            )
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within [0, 1]: {self.error_rate}")


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one request: wait ``delay_s``, then do ``action``."""

    delay_s: float
    action: Action


class DepartmentState:
    """The live settings and fault of one department in a running simulator."""

    def __init__(self, name: str, settings: DepartmentSettings, seed: int) -> None:
        self.name = name
        self.settings = settings
        self.mode = FaultMode.NONE
        self.extra_latency_ms = 1_000
        self.retry_after_s = 1
        self.requests = 0
        self._since_switch = 0  # requests since the mode last changed (flapping counts these)
        self._rng = random.Random(f"hedui-sim:{seed}:{name}")

    def plan(self) -> Plan:
        """Decide what happens to the next request (advances the RNG and the request count)."""
        self.requests += 1
        self._since_switch += 1
        low, high = self.settings.latency_ms
        delay_ms = low if low == high else self._rng.uniform(low, high)
        if self.mode is FaultMode.SLOW:
            delay_ms += self.extra_latency_ms
        return Plan(delay_ms / 1000, self._action())

    def _action(self) -> Action:
        """The action for this request under the current mode and error rate."""
        if self.mode in _PASS_THROUGH or self.mode in _BODY_FAULTS:
            return Action(self.mode.value)
        if self.mode is FaultMode.FLAPPING and self._since_switch % 2 == 1:
            return Action.HTTP_500
        rate = self.settings.error_rate
        if rate and self._rng.random() < rate:
            return Action.HTTP_500
        return Action.ANSWER

    def to_json(self) -> dict[str, Any]:
        """The department's state as served by ``GET …/faults``."""
        return {
            "department": self.name,
            "mode": self.mode.value,
            "extra_latency_ms": self.extra_latency_ms,
            "retry_after_s": self.retry_after_s,
            "latency_ms": list(self.settings.latency_ms),
            "error_rate": self.settings.error_rate,
            "requests": self.requests,
        }

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``PUT …/faults``; raises ``ValueError`` (changing nothing) on a bad value."""
        unknown = set(changes) - {
            "mode",
            "extra_latency_ms",
            "retry_after_s",
            "latency_ms",
            "error_rate",
        }
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        mode = FaultMode(changes.get("mode", self.mode))
        extra = _non_negative_int(changes.get("extra_latency_ms", self.extra_latency_ms))
        retry = _non_negative_int(changes.get("retry_after_s", self.retry_after_s))
        latency = changes.get("latency_ms", self.settings.latency_ms)
        if not isinstance(latency, list | tuple):
            latency = (latency, latency)
        low, high = (_number(v) for v in latency)
        settings = DepartmentSettings(
            (low, high), _number(changes.get("error_rate", self.settings.error_rate))
        )
        self.mode, self.extra_latency_ms, self.retry_after_s, self.settings = (
            mode,
            extra,
            retry,
            settings,
        )

    def reset(self) -> None:
        """Switch the fault off (settings stay)."""
        self.mode, self._since_switch = FaultMode.NONE, 0


def _number(value: Any) -> float:
    """``value`` as a float, or ``ValueError`` (range checks are DepartmentSettings')."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number: {value!r}")
    return float(value)


def _non_negative_int(value: Any) -> int:
    """``value`` as a non-negative int, or ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer: {value!r}")
    return value
