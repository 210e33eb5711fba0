"""Declared versus verified, for every declared item of every member.

Each item (monthly income, deposits, vehicles, properties) gets a row: what was declared, what the
sources show, and a status — MATCH (within the tolerance of :class:`FindingPolicy`), MORE_FOUND,
LESS_FOUND, or UNKNOWN when the source did not answer. Income is compared as *countable* income:
kinds the policy excludes on the as-of date (e.g. the residents' basic pension during the 14th
Five-Year Plan) are left out of the verified side, so declaring or omitting them changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from adapters.records import BankAccount, PropertyRecord, VehicleRecord
from gateway.assessment._assets import answered
from gateway.domain import Member
from gateway.findings import Facts, FindingPolicy, verified_monthly_income

__all__ = ["DeclaredItem", "declared_items"]


@dataclasses.dataclass(frozen=True, slots=True)
class DeclaredItem:
    subject_id: str
    item: str
    declared: int
    verified: int
    status: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "item": self.item,
            "declared": self.declared,
            "verified": self.verified,
            "status": self.status,
            "sources": list(self.sources),
        }


def _status(declared: int, verified: int, tolerance: int, known: bool) -> str:
    if not known:
        return "UNKNOWN"
    if verified - declared > tolerance:
        return "MORE_FOUND"
    if declared - verified > tolerance:
        return "LESS_FOUND"
    return "MATCH"


def declared_items(
    facts: Facts, policy: FindingPolicy, excluded: Mapping[str, str]
) -> list[DeclaredItem]:
    """One row per member and declared item, in member order."""
    ok = {c: answered(facts, c) for c in _CATEGORIES}
    left_out = frozenset(excluded)
    return [
        row for m in facts.household.members for row in _member_rows(facts, policy, m, left_out, ok)
    ]


_CATEGORIES = ("social_insurance", "housing_fund", "bank", "vehicle", "property")


def _member_rows(
    facts: Facts,
    policy: FindingPolicy,
    m: Member,
    excluded: frozenset[str],
    ok: Mapping[str, bool],
) -> list[DeclaredItem]:
    """``ok``: whether the source of each category answered (the same for every member)."""
    income, _ = verified_monthly_income(facts, m, excluded)
    deposits = sum(
        r.balance_fen
        for _, r in facts.records(BankAccount, m.id_number)
        if isinstance(r, BankAccount)
    )
    vehicles = sum(
        1
        for _, r in facts.records(VehicleRecord, m.id_number)
        if isinstance(r, VehicleRecord) and r.status == "registered"
    )
    properties = len(facts.records(PropertyRecord, m.id_number))
    income_known = ok["social_insurance"] and ok["housing_fund"]
    rows = (
        ("monthly_income_fen", m.declared_monthly_income_fen, income, policy.income_tolerance_fen,
         income_known, ("social_insurance", "housing_fund")),
        ("deposits_fen", m.declared_deposits_fen, deposits, policy.deposit_tolerance_fen,
         ok["bank"], ("bank",)),
        ("vehicles", m.declared_vehicles, vehicles, 0, ok["vehicle"], ("vehicle",)),
        ("properties", m.declared_properties, properties, 0, ok["property"], ("property",)),
    )  # fmt: skip
    return [
        DeclaredItem(m.id_number, item, declared, found, _status(declared, found, tol, known), src)
        for item, declared, found, tol, known, src in rows
    ]
