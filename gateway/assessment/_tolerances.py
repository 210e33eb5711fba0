"""Declared-versus-verified tolerances: policy parameters of the primary document, else defaults.

``income_tolerance_fen`` and ``deposit_tolerance_fen`` are read from the household's primary
policy document (the first programme assessed) on the as-of date, like every other parameter.
Where no document is in force, or it has no value on that day, the code defaults of
:class:`~gateway.findings.FindingPolicy` apply; either way the report lists each value with where it
came from, so a finding can always be explained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from gateway.assessment._scope import assessed_documents
from gateway.domain import Household
from gateway.findings import FindingPolicy, Tolerance
from gateway.policy import PolicyDocument, PolicyError

__all__ = ["TOLERANCES", "finding_policy", "resolve_tolerances"]

TOLERANCES = ("income_tolerance_fen", "deposit_tolerance_fen")


def resolve_tolerances(
    defaults: FindingPolicy, document: PolicyDocument | None, day: date
) -> tuple[Tolerance, ...]:
    """Each tolerance from ``document`` on ``day``, or the code default saying why."""
    return tuple(_one(name, defaults, document, day) for name in TOLERANCES)


def _one(name: str, defaults: FindingPolicy, doc: PolicyDocument | None, day: date) -> Tolerance:
    if doc is None:
        why = f"no policy file is in force for the household's region on {day}"
    else:
        try:
            found = doc.resolve(name, day)
        except PolicyError:
            why = f"policy {doc.version} has no {name} in force on {day}"
        else:
            assert isinstance(found.value, int)
            origin = f"policy {doc.version}"
            return Tolerance(name, int(found.value), found.reference, found.illustrative, origin)
    value = int(getattr(defaults, name))
    reference = f"code default of gateway.findings.FindingPolicy: {why} — ILLUSTRATIVE"
    return Tolerance(name, value, reference, True, f"default {defaults.version}")


def finding_policy(
    defaults: FindingPolicy, household: Household, documents: Sequence[PolicyDocument], day: date
) -> FindingPolicy:
    """``defaults`` with the primary document's income exclusions and tolerances on ``day``.

    The primary document is the first of the programmes the household is assessed for — one of
    the pinned documents, so replay resolves the same values."""
    assessed = assessed_documents(household, documents, day)
    primary = assessed[0] if assessed else None
    excluded = primary.excluded(day) if primary else {}
    tolerances = resolve_tolerances(defaults, primary, day)
    values = {t.name: t.value for t in tolerances}
    return dataclasses.replace(
        defaults,
        income_tolerance_fen=values["income_tolerance_fen"],
        deposit_tolerance_fen=values["deposit_tolerance_fen"],
        income_exclusions=tuple(sorted(excluded.items())),
        tolerances=tolerances,
    )
