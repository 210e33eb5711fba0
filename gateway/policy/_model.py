"""A policy document: parameters with effective-date ranges and their legal references.

A :class:`PolicyDocument` is what one TOML file says, parsed and checked. Its digest is the
SHA-256 of its canonical form (RFC 8785 JSON of :meth:`PolicyDocument.canonical`), so comments
and layout do not change it but any value, date or reference does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from typing import Any

from audit.canonical import canonical_json
from gateway.regions import jurisdiction_prefix

__all__ = ["DatedValue", "Exclusion", "PolicyDocument", "PolicyError", "Resolved", "Value"]

Value = int | bool | tuple[str, ...] | tuple[int, ...]


class PolicyError(ValueError):
    """A policy file is invalid, or a parameter has no value in force; names file, key, reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}")


@dataclasses.dataclass(frozen=True, slots=True)
class DatedValue:
    """A value in force from ``start`` to ``end`` inclusive (``None``: open-ended)."""

    value: Value
    start: date
    end: date | None
    reference: str
    illustrative: bool

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def canonical(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "value": value,
            "from": self.start.isoformat(),
            "until": self.end.isoformat() if self.end else "",
            "reference": self.reference,
            "illustrative": self.illustrative,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Exclusion:
    """An income kind not counted as income while the rule is in force."""

    kind: str
    start: date
    end: date | None
    reference: str

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def canonical(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from": self.start.isoformat(),
            "until": self.end.isoformat() if self.end else "",
            "reference": self.reference,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Resolved:
    """One parameter's value on one day, with where it comes from (for the calculation trace)."""

    name: str
    value: Value
    reference: str
    illustrative: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDocument:
    """One region's rules for one programme."""

    file: str
    region: str  # six-digit GB/T 2260 code; matches households by its non-zero prefix
    programme: str
    version: str
    issued: date
    title: str
    parameters: dict[str, tuple[DatedValue, ...]]
    exclusions: tuple[Exclusion, ...]
    # the digest, computed on first use: every report pins its documents by digest, and
    # canonicalising a whole document per report cost more than the rest of the assessment
    _digest: str = dataclasses.field(default="", init=False, repr=False, compare=False)

    @property
    def prefix(self) -> str:
        """The jurisdiction prefix: ``610000`` → ``61``, ``610100`` → ``6101``."""
        return jurisdiction_prefix(self.region)

    def canonical(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "programme": self.programme,
            "version": self.version,
            "issued": self.issued.isoformat(),
            "title": self.title,
            "parameters": {
                name: [v.canonical() for v in values]
                for name, values in sorted(self.parameters.items())
            },
            "exclusions": [e.canonical() for e in self.exclusions],
        }

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical form."""
        if not self._digest:
            digest = "sha256:" + hashlib.sha256(canonical_json(self.canonical())).hexdigest()
            object.__setattr__(self, "_digest", digest)  # a cache: frozen to everyone else
        return self._digest

    def resolve(self, name: str, day: date) -> Resolved:
        """The value of ``name`` in force on ``day``; :class:`PolicyError` when there is none."""
        for dated in self.parameters.get(name, ()):
            if dated.covers(day):
                return Resolved(name, dated.value, dated.reference, dated.illustrative)
        raise PolicyError(self.file, f"parameter.{name}", f"no value in force on {day}")

    def excluded(self, day: date) -> dict[str, str]:
        """Income kinds excluded on ``day``, each with the reference that excludes it."""
        return {e.kind: e.reference for e in self.exclusions if e.covers(day)}
