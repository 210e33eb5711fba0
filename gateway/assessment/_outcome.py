"""Tests, decisions and outcomes: what each rule concluded and which rules decided.

A programme's outcome is never a bare boolean: it is a :class:`Decision` with the tests that
decided it (each naming its rule and reference) and, for a recipient household whose income rose
above the standard, the gradual-exit (渐退) grace period with its start and end dates.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from datetime import date
from typing import Any

from gateway.assessment._trace import Input

__all__ = ["Check", "Decision", "Grace", "Outcome", "Status", "decide"]


class Status(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"  # a source needed for the test did not answer


class Decision(enum.StrEnum):
    ELIGIBLE = "ELIGIBLE"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NEEDS_REVIEW = "NEEDS_REVIEW"


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One test of one rule: its status, why, and the facts it rests on."""

    code: str
    status: Status
    reference: str
    explain: str
    subject_id: str = ""
    inputs: tuple[Input, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status.value,
            "reference": self.reference,
            "explain": self.explain,
            "subject_id": self.subject_id,
            "inputs": [i.to_dict() for i in self.inputs],
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Grace:
    """A gradual-exit (渐退) period: assistance continues from ``start`` to ``end``."""

    start: date
    end: date
    reference: str

    def to_dict(self) -> dict[str, str]:
        return {
            "state": "GRADUAL_EXIT",
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "reference": self.reference,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """The advisory outcome of one programme for the household or one member (单人户)."""

    programme: str
    unit: str  # "household" | "single_person"
    subject_id: str
    decision: Decision
    decided_by: tuple[str, ...]
    checks: tuple[Check, ...]
    grace: Grace | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "unit": self.unit,
            "subject_id": self.subject_id,
            "decision": self.decision.value,
            "decided_by": list(self.decided_by),
            "checks": [c.to_dict() for c in self.checks],
            "grace": self.grace.to_dict() if self.grace else None,
        }


def decide(checks: Sequence[Check], alerts: Sequence[str] = ()) -> tuple[Decision, tuple[str, ...]]:
    """Any failed test → not eligible; else any unknown test or alert → review; else eligible."""
    failed = tuple(c.code for c in checks if c.status is Status.FAIL)
    if failed:
        return Decision.NOT_ELIGIBLE, failed
    unknown = tuple(c.code for c in checks if c.status is Status.UNKNOWN)
    if unknown or alerts:
        return Decision.NEEDS_REVIEW, unknown + tuple(alerts)
    return Decision.ELIGIBLE, tuple(c.code for c in checks)
