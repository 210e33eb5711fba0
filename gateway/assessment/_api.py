"""Run the assessment for every programme a household's category is checked for.

Which programmes: :mod:`gateway.assessment._scope`. A programme without a policy document in force
for the household's region, or whose document lacks a value on the as-of date, gets NEEDS_REVIEW
saying so — never a silent pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from gateway.assessment._declared import DeclaredItem, declared_items
from gateway.assessment._marginal import evaluate_marginal
from gateway.assessment._outcome import Check, Decision, Outcome, Status
from gateway.assessment._programmes import Evaluation, evaluate_dibao
from gateway.assessment._scope import applies, programmes_for
from gateway.assessment._tekun import evaluate_tekun
from gateway.assessment._tolerances import finding_policy
from gateway.assessment._trace import Step, Trace
from gateway.fanout import Answer
from gateway.findings import Evidence, Facts, Finding, FindingPolicy, Severity, Tolerance
from gateway.policy import PolicyDocument, PolicyError

__all__ = ["Assessment", "ProgrammeResult", "assess", "assessment_findings"]

_EVALUATORS: dict[str, Callable[[Trace, Facts, Sequence[str]], Evaluation]] = {
    "dibao": evaluate_dibao,
    "tekun": evaluate_tekun,
    "dibao_marginal": evaluate_marginal,
}
_ASSET_CODES = ("DEPOSITS", "VEHICLES", "DWELLINGS", "FLOOR_AREA", "NON_RESIDENTIAL")


@dataclasses.dataclass(frozen=True, slots=True)
class ProgrammeResult:
    """One programme: the pinned document, what was computed, the outcomes, the trace."""

    programme: str
    document: PolicyDocument | None
    evaluation: Evaluation | None
    outcomes: tuple[Outcome, ...]
    trace: tuple[Step, ...]
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        doc, ev = self.document, self.evaluation
        return {
            "programme": self.programme,
            "policy": _pin(doc) if doc else None,
            "income": _income(ev) if ev else None,
            "assets": [c.to_dict() for c in ev.checks if c.code in _ASSET_CODES] if ev else [],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "trace": [s.to_dict() for s in self.trace],
            "error": self.error,
        }


def _pin(doc: PolicyDocument) -> dict[str, str]:
    return {
        "region": doc.region,
        "programme": doc.programme,
        "version": doc.version,
        "digest": doc.digest,
    }


def _income(ev: Evaluation) -> dict[str, Any]:
    return {
        "household_size": len(ev.incomes),
        "monthly_income_fen": sum(i.net_fen for i in ev.incomes),
        "per_capita_fen": ev.per_capita_fen,
        "members": [
            {
                "subject_id": i.subject_id,
                "counted_fen": i.counted_fen,
                "wage_fen": i.wage_fen,
                "deduction_fen": i.deduction_fen,
            }
            for i in ev.incomes
        ],
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Assessment:
    as_of: date
    programmes: tuple[ProgrammeResult, ...]
    declared: tuple[DeclaredItem, ...]
    tolerances: tuple[Tolerance, ...] = ()  # the declared-vs-verified tolerances used

    def pins(self) -> list[dict[str, str]]:
        """The policy documents used: what replay must use again."""
        return [_pin(p.document) for p in self.programmes if p.document]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "programmes": [p.to_dict() for p in self.programmes],
            "declared_vs_verified": [d.to_dict() for d in self.declared],
            "tolerances": [t.to_dict() for t in self.tolerances],
        }


def assess(
    facts: Facts,
    documents: Sequence[PolicyDocument],
    as_of: date,
    policy: FindingPolicy,
    alerts: Sequence[str] = (),
) -> Assessment:
    """Assess every programme of the household's category with the pinned ``documents``.

    ``policy`` carries the income exclusions and tolerances of the primary document for the
    declared-versus-verified rows; one not yet resolved (no ``tolerances``) is resolved here."""
    household = facts.household
    if not policy.tolerances:
        policy = finding_policy(policy, household, documents, as_of)
    by_programme: Mapping[str, PolicyDocument] = {d.programme: d for d in documents}
    results = tuple(
        _programme(facts, name, by_programme.get(name), as_of, alerts)
        for name in programmes_for(household.category)
        if applies(name, household, by_programme.get(name), as_of)
    )
    declared = declared_items(facts, policy, dict(policy.income_exclusions))
    return Assessment(as_of, results, tuple(declared), policy.tolerances)


def _programme(
    facts: Facts, name: str, doc: PolicyDocument | None, day: date, alerts: Sequence[str]
) -> ProgrammeResult:
    if doc is None:
        region = facts.household.region_code
        why = f"no {name} policy in force for region {region} on {day}"
        return ProgrammeResult(name, None, None, (_review(name, "NO_POLICY", why),), (), why)
    trace = Trace(doc, day)
    try:
        evaluation = _EVALUATORS[name](trace, facts, alerts)
    except PolicyError as exc:
        outcome = _review(name, "POLICY_INCOMPLETE", str(exc))
        return ProgrammeResult(name, doc, None, (outcome,), tuple(trace.steps), exc.reason)
    return ProgrammeResult(name, doc, evaluation, evaluation.outcomes, tuple(trace.steps))


def _review(programme: str, code: str, why: str) -> Outcome:
    check = Check(code, Status.UNKNOWN, "", why)
    return Outcome(programme, "household", "", Decision.NEEDS_REVIEW, (code,), (check,))


def assessment_findings(assessment: Assessment, answers: Sequence[Answer]) -> list[Finding]:
    """A finding for every failed household test and every gradual-exit period, deduplicated."""
    fetched = {a.source: a for a in answers}
    out: dict[tuple[str, str, str], Finding] = {}
    for result in assessment.programmes:
        for outcome in result.outcomes:
            for finding in _outcome_findings(result, outcome, fetched):
                out.setdefault((finding.code, finding.subject_id, finding.message), finding)
    return list(out.values())


def _outcome_findings(
    result: ProgrammeResult, outcome: Outcome, fetched: Mapping[str, Answer]
) -> list[Finding]:
    if outcome.unit != "household":
        return []
    label = f"{result.programme} ({result.document.version if result.document else 'no policy'})"
    found = [
        Finding(f"ASSESSMENT_{c.code}", Severity.WARNING, c.subject_id,
                f"{label}: {c.explain}", _evidence(c, fetched), c.reference)
        for c in outcome.checks
        if c.status is Status.FAIL
    ]  # fmt: skip
    if outcome.grace is not None:
        g = outcome.grace
        message = f"{label}: gradual exit (渐退) from {g.start} to {g.end}"
        found.append(Finding("GRADUAL_EXIT", Severity.INFO, "", message, (), g.reference))
    return found


def _evidence(check: Check, fetched: Mapping[str, Answer]) -> tuple[Evidence, ...]:
    by_source: dict[str, list[str]] = {}
    for i in check.inputs:
        by_source.setdefault(i.source, []).append(i.record_id)
    return tuple(
        Evidence(s, tuple(ids), fetched[s].fetched_at, fetched[s].as_of)
        for s, ids in by_source.items()
        if s in fetched
    )
