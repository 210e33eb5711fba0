"""The calculation trace: every number the assessment computes, with its parameter and facts.

A :class:`Step` names the rule, the parameters it read (value and legal reference), the facts it
used (source, record id, as-of date) and its result. The trace is part of the signed report, so
``hedui policy explain`` can print it years later without re-running anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from typing import Any

from adapters.records import Record
from gateway.fanout import Answer
from gateway.policy import PolicyDocument, Resolved

__all__ = ["Input", "Step", "Trace", "inputs_of", "resolved_to_dict", "yuan"]


@dataclasses.dataclass(frozen=True, slots=True)
class Input:
    """One fact a step used: which source said it, in which record, as of when."""

    source: str
    record_id: str
    as_of: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "record_id": self.record_id, "as_of": self.as_of}


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One computation: ``value`` for ``subject_id`` under ``rule``, explained."""

    step: str
    rule: str
    value: int | str | bool
    explain: str
    subject_id: str = ""
    parameters: tuple[Resolved, ...] = ()
    inputs: tuple[Input, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "rule": self.rule,
            "subject_id": self.subject_id,
            "value": self.value,
            "explain": self.explain,
            "parameters": [resolved_to_dict(p) for p in self.parameters],
            "inputs": [i.to_dict() for i in self.inputs],
        }


def resolved_to_dict(p: Resolved) -> dict[str, Any]:
    value = list(p.value) if isinstance(p.value, tuple) else p.value
    return {
        "name": p.name,
        "value": value,
        "reference": p.reference,
        "illustrative": p.illustrative,
    }


class Trace:
    """Parameters read from one policy document on one day, and the steps recorded so far."""

    def __init__(self, document: PolicyDocument, day: date) -> None:
        self.document = document
        self.day = day
        self.steps: list[Step] = []

    def param(self, name: str) -> Resolved:
        """The parameter in force on the as-of day (raises ``PolicyError`` when none is)."""
        return self.document.resolve(name, self.day)

    def int_param(self, name: str) -> tuple[int, Resolved]:
        resolved = self.param(name)
        value = resolved.value
        assert isinstance(value, int), f"{name} is not an integer parameter"
        return int(value), resolved

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step


def inputs_of(pairs: Iterable[tuple[Answer, Record]]) -> tuple[Input, ...]:
    """The facts behind ``pairs`` of (answer, record)."""
    return tuple(
        Input(a.source, r.record_id, a.as_of.isoformat() if a.as_of else "") for a, r in pairs
    )


def yuan(fen: int) -> str:
    """``1,234.50 yuan`` from fen, exactly (no floating point)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} yuan"
