"""Findings: facts in the answers that a caseworker must look at, each explaining itself.

Every rule has the same signature, ``rule(facts, policy) -> Iterable[Finding]``, does one job and
is tested alone. Findings are advisory: they state what was declared, what was found, where.
Amount tolerances are parameters of :class:`FindingPolicy`, never constants in a rule.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from adapters.base import AnswerStatus
from adapters.records import (
    BankAccount,
    DeathRecord,
    HousingFundAccount,
    InsuranceRecord,
    PropertyRecord,
    Record,
    RegistrationRecord,
    VehicleRecord,
)
from gateway.domain import Household, Member
from gateway.fanout import Answer

__all__ = [
    "RULES",
    "Evidence",
    "Facts",
    "Finding",
    "FindingPolicy",
    "Severity",
    "Tolerance",
    "find_all",
    "verified_monthly_income",
]


class Severity(enum.StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    ALERT = "ALERT"


@dataclasses.dataclass(frozen=True, slots=True)
class Evidence:
    """Which source said it, in which records, fetched when, as of when."""

    source: str
    record_ids: tuple[str, ...]
    fetched_at: datetime
    as_of: date | None


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    subject_id: str  # "" = the household
    message: str
    evidence: tuple[Evidence, ...]
    rule: str = ""  # the seed or regulation the rule implements


@dataclasses.dataclass(frozen=True, slots=True)
class Tolerance:
    """Where one tolerance's value came from: a policy parameter or the code default."""

    name: str  # "income_tolerance_fen" | "deposit_tolerance_fen"
    value: int
    reference: str
    illustrative: bool
    origin: str  # "policy <version>" | "default <FindingPolicy.version>"

    def to_dict(self) -> dict[str, str | int | bool]:
        return {
            "name": self.name,
            "value": self.value,
            "reference": self.reference,
            "illustrative": self.illustrative,
            "origin": self.origin,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class FindingPolicy:
    """Tolerances for declared-versus-found comparisons (fen).

    The amounts here are the code defaults, used only where no policy document in force gives
    ``income_tolerance_fen`` / ``deposit_tolerance_fen``; the report builder fills in the region's
    values and their origin (:func:`gateway.assessment.finding_policy`)."""

    version: str = "findings-2026.2"  # 2026.2: tolerances are policy parameters
    income_tolerance_fen: int = 10_000  # 100 yuan a month
    deposit_tolerance_fen: int = 100_000  # 1,000 yuan
    # Income kinds (``wage`` or an insurance scheme) the region's policy excludes on the as-of
    # date, with the reference that excludes them: filled in from the pinned policy document.
    income_exclusions: tuple[tuple[str, str], ...] = ()
    # Where the two tolerances above came from, for the report; empty = not resolved yet.
    tolerances: tuple[Tolerance, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Facts:
    """The answers of one verification, indexed for the rules."""

    household: Household
    answers: tuple[Answer, ...]
    # The rules ask for one category's answer and one subject's records dozens of times per
    # report, so the answers are indexed once, here: the first answer of each category, and the
    # (answer, record) pairs of each subject in answer then record order.
    _by_category: dict[str, Answer] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _by_subject: dict[str, list[tuple[Answer, Record]]] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for a in self.answers:
            self._by_category.setdefault(a.category, a)
            for r in a.records:
                self._by_subject.setdefault(r.subject_id, []).append((a, r))

    def answer(self, category: str) -> Answer | None:
        """The first answer from a source of ``category``."""
        return self._by_category.get(category)

    def records(self, kind: type[Record], subject_id: str) -> list[tuple[Answer, Record]]:
        """Records of ``kind`` about ``subject_id``, with the answer they came from."""
        return [(a, r) for a, r in self._by_subject.get(subject_id, ()) if isinstance(r, kind)]


Rule = Callable[[Facts, FindingPolicy], Iterable[Finding]]


def _evidence(pairs: Sequence[tuple[Answer, Record]]) -> tuple[Evidence, ...]:
    """Group records by the answer they came from."""
    by_source: dict[str, tuple[Answer, list[str]]] = {}
    for answer, record in pairs:
        by_source.setdefault(answer.source, (answer, []))[1].append(record.record_id)
    return tuple(
        Evidence(a.source, tuple(ids), a.fetched_at, a.as_of) for a, ids in by_source.values()
    )


def _yuan(fen: int) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d} yuan"


_COMPOSITION = (
    "民发〔2021〕57号: 共同生活的家庭成员 (household composition checked against 户籍/殡葬)"
)
_DECLARED = "民发〔2021〕57号: 申请人如实申报家庭收入和财产 (declared versus verified)"
_SOURCES = "DESIGN.md: an incomplete report says which source did not answer"


def member_not_registered(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """A member household registration (户籍) does not know, when that source answered."""
    answer = facts.answer("household_registration")
    if answer is None or answer.status not in (AnswerStatus.OK, AnswerStatus.NOT_FOUND):
        return
    for m in facts.household.members:
        if not facts.records(RegistrationRecord, m.id_number):
            evidence = (Evidence(answer.source, (), answer.fetched_at, answer.as_of),)
            yield Finding(
                "MEMBER_NOT_REGISTERED",
                Severity.ALERT,
                m.id_number,
                "household registration has no record of this member",
                evidence,
                _COMPOSITION,
            )


def member_deceased(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """A listed member with a death/cremation record or registered as deceased."""
    for m in facts.household.members:
        pairs = facts.records(DeathRecord, m.id_number) + [
            (a, r)
            for a, r in facts.records(RegistrationRecord, m.id_number)
            if isinstance(r, RegistrationRecord) and r.status == "deceased"
        ]
        if pairs:
            dates = sorted(
                {r.date_of_death.isoformat() for _, r in pairs if isinstance(r, DeathRecord)}
            )
            when = f" (date of death {', '.join(dates)})" if dates else ""
            yield Finding(
                "MEMBER_DECEASED",
                Severity.ALERT,
                m.id_number,
                f"a listed member is recorded as deceased{when}",
                _evidence(pairs),
                _COMPOSITION,
            )


def undeclared_vehicles(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """More registered vehicles than the member declared."""
    for m in facts.household.members:
        pairs = [
            (a, r)
            for a, r in facts.records(VehicleRecord, m.id_number)
            if isinstance(r, VehicleRecord) and r.status == "registered"
        ]
        if len(pairs) > m.declared_vehicles:
            yield Finding(
                "UNDECLARED_VEHICLE",
                Severity.WARNING,
                m.id_number,
                f"declared {m.declared_vehicles} vehicle(s), found {len(pairs)} registered",
                _evidence(pairs),
                _DECLARED,
            )


def undeclared_property(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """More registered real estate than the member declared."""
    for m in facts.household.members:
        pairs = facts.records(PropertyRecord, m.id_number)
        if len(pairs) > m.declared_properties:
            yield Finding(
                "UNDECLARED_PROPERTY",
                Severity.WARNING,
                m.id_number,
                f"declared {m.declared_properties} property(ies), found {len(pairs)} registered",
                _evidence(pairs),
                _DECLARED,
            )


def deposits_discrepancy(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """Bank balances above the declared deposits by more than the tolerance."""
    for m in facts.household.members:
        pairs = facts.records(BankAccount, m.id_number)
        found = sum(r.balance_fen for _, r in pairs if isinstance(r, BankAccount))
        if found - m.declared_deposits_fen > policy.deposit_tolerance_fen:
            yield Finding(
                "DEPOSITS_DISCREPANCY",
                Severity.WARNING,
                m.id_number,
                f"declared deposits {_yuan(m.declared_deposits_fen)}, found {_yuan(found)} "
                f"(tolerance {_yuan(policy.deposit_tolerance_fen)})",
                _evidence(pairs),
                _DECLARED,
            )


def verified_monthly_income(
    facts: Facts, member: Member, excluded: frozenset[str] = frozenset()
) -> tuple[int, list[tuple[Answer, Record]]]:
    """Wages (social-insurance contribution base, else housing-fund deposit base) plus benefits,
    leaving out the income kinds in ``excluded`` (``wage`` or an insurance scheme)."""
    insurance = [
        (a, r)
        for a, r in facts.records(InsuranceRecord, member.id_number)
        if isinstance(r, InsuranceRecord)
        and r.status == "active"
        and ("wage" if r.role == "contribution" else r.scheme) not in excluded
    ]
    wages = {
        r.employer: r.monthly_amount_fen
        for _, r in insurance
        if isinstance(r, InsuranceRecord) and r.role == "contribution"
    }
    used: list[tuple[Answer, Record]] = list(insurance)
    if not wages and "wage" not in excluded:
        funds = [
            (a, r)
            for a, r in facts.records(HousingFundAccount, member.id_number)
            if isinstance(r, HousingFundAccount) and r.status == "active"
        ]
        wages = {
            r.employer: r.deposit_base_fen for _, r in funds if isinstance(r, HousingFundAccount)
        }
        used += funds
    benefits = sum(
        r.monthly_amount_fen
        for _, r in insurance
        if isinstance(r, InsuranceRecord) and r.role == "benefit"
    )
    return sum(wages.values()) + benefits, used


def income_discrepancy(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """Verified countable monthly income above the declared income by more than the tolerance.

    Kinds the policy excludes (e.g. the residents' basic pension during the 14th Five-Year Plan)
    are left out of the verified side: an excluded income cannot make a discrepancy, whether the
    household declared it or not."""
    excluded = dict(policy.income_exclusions)
    note = "; not counted: " + ", ".join(sorted(excluded)) if excluded else ""
    for m in facts.household.members:
        found, pairs = verified_monthly_income(facts, m, frozenset(excluded))
        if found - m.declared_monthly_income_fen > policy.income_tolerance_fen:
            yield Finding(
                "INCOME_DISCREPANCY",
                Severity.WARNING,
                m.id_number,
                f"declared monthly income {_yuan(m.declared_monthly_income_fen)}, "
                f"verified countable income {_yuan(found)} "
                f"(tolerance {_yuan(policy.income_tolerance_fen)}){note}",
                _evidence(pairs),
                "; ".join([_DECLARED, *sorted(set(excluded.values()))]),
            )


def source_missing(facts: Facts, policy: FindingPolicy) -> Iterable[Finding]:
    """A source that did not answer: the report is incomplete."""
    for a in facts.answers:
        if a.status not in (AnswerStatus.OK, AnswerStatus.NOT_FOUND):
            yield Finding(
                "SOURCE_" + a.status.value,
                Severity.INFO,
                "",
                f"{a.source} ({a.department}) did not answer: {a.error}",
                (Evidence(a.source, (), a.fetched_at, a.as_of),),
                _SOURCES,
            )


RULES: tuple[Rule, ...] = (
    member_not_registered,
    member_deceased,
    undeclared_vehicles,
    undeclared_property,
    deposits_discrepancy,
    income_discrepancy,
    source_missing,
)


def find_all(facts: Facts, policy: FindingPolicy, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Run every rule in order; the order is part of the report's bytes."""
    return [f for rule in rules for f in rule(facts, policy)]
