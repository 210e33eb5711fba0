"""Builders for policy and assessment tests: a round-number policy, members, answers, facts."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from adapters.base import AnswerStatus
from adapters.records import Record
from gateway.domain import Category, Household, Member
from gateway.fanout import Answer
from gateway.findings import Facts
from gateway.idnumber import check_digit
from gateway.policy import PolicyDocument, parse_policy

AS_OF = date(2025, 6, 30)
CATEGORIES = {
    "hukou": "household_registration",
    "social_insurance": "social_insurance",
    "housing_fund": "housing_fund",
    "bank": "bank",
    "vehicle": "vehicle",
    "property": "property",
    "funeral": "funeral",
}


def _entry(value: Any, start: date = date(2020, 1, 1), end: date | None = None) -> dict[str, Any]:
    out = {"value": value, "from": start, "reference": f"test reference for {value!r}"}
    return out | ({"until": end} if end else {})


# Round numbers so the arithmetic in the docstrings is easy to follow (amounts in fen).
TEST_POLICY: dict[str, Any] = {
    "policy": {
        "region": "610000",
        "programme": "dibao",
        "version": "test-1",
        "issued": date(2020, 1, 1),
        "title": "test policy",
    },
    "parameter": {
        "standard_monthly_fen": [
            _entry(50_000, end=date(2024, 12, 31)),
            _entry(60_000, date(2025, 1, 1)),
        ],
        "minimum_wage_monthly_fen": [_entry(200_000)],
        "employment_cost_rate_bp": [_entry(2_500)],
        "employment_cost_disabled_rate_bp": [_entry(5_000)],
        "assessment_period_months": [_entry(12)],
        "deposit_months": [_entry(24)],
        "max_dwellings": [_entry(1)],
        "max_floor_area_per_capita_dm2": [_entry(4_000)],
        "max_non_residential": [_entry(0)],
        "vehicles_allowed": [_entry(0)],
        "vehicle_exempt_types": [_entry(["motorcycle"])],
        "vehicle_exempt_value_fen": [_entry(2_000_000)],
        "vehicle_depreciation_bp_per_year": [_entry(1_000)],
        "gradual_exit_months": [_entry(6)],
        "single_person_categories": [_entry(["DIBAO_MARGINAL"])],
        "serious_disability_grades": [_entry([1, 2])],
        "no_work_capacity_age_min": [_entry(60)],
        "no_work_capacity_age_below": [_entry(16)],
        "no_work_capacity_disability_grades": [_entry([1, 2])],
        "seriously_ill_no_work_capacity": [_entry(False)],
        "supporter_income_limit_bp": [_entry(15_000)],
        "marginal_income_multiple_bp": [_entry(15_000)],
        "marginal_categories": [_entry(["DIBAO_MARGINAL"])],
        # not the code defaults (100 and 1,000 yuan), so a test can tell where a value came from
        "income_tolerance_fen": [
            _entry(5_000, end=date(2024, 12, 31)),
            _entry(20_000, date(2025, 1, 1)),
        ],
        "deposit_tolerance_fen": [_entry(300_000)],
    },
    "exclusion": [
        {
            "kind": "resident_pension",
            "from": date(2021, 1, 1),
            "until": date(2025, 12, 31),
            "reference": "14th Five-Year Plan exclusion",
        }
    ],
}


def policy_data(**changes: Any) -> dict[str, Any]:
    """A deep copy of the test policy; ``changes`` replace whole parameter entries."""
    data = copy.deepcopy(TEST_POLICY)
    for name, value in changes.items():
        data["parameter"][name] = [_entry(value)]
    return data


def make_policy(programme: str = "dibao", **changes: Any) -> PolicyDocument:
    data = policy_data(**changes)
    data["policy"]["programme"] = programme
    document, errors = parse_policy(data, "test.toml")
    assert document is not None, errors
    return document


def pid(birth: str, seq: int = 123) -> str:
    """A valid Xi'an resident ID number born on ``birth`` (YYYYMMDD)."""
    first = f"610102{birth}{seq:03d}"
    return first + check_digit(first)


def member(birth: str = "19800101", seq: int = 123, **changes: Any) -> Member:
    fields: dict[str, Any] = {"name": "测试", "relation": "self", **changes}
    return Member(id_number=pid(birth, seq), **fields)


def facts(
    members: Sequence[Member],
    records: Sequence[Record] = (),
    category: Category = Category.APPLICANT,
    failed: Sequence[str] = (),
    **household: Any,
) -> Facts:
    """Facts with one answer per source; sources in ``failed`` are UNAVAILABLE."""
    answers = []
    for source, cat in CATEGORIES.items():
        status = AnswerStatus.UNAVAILABLE if source in failed else AnswerStatus.OK
        answers.append(
            Answer(
                source=source,
                category=cat,
                department=f"{cat} department",
                adapter_version="test",
                status=status,
                error="",
                raw=b"{}",
                as_of=AS_OF,
                fetched_at=datetime(2025, 6, 30, 8, tzinfo=UTC),
                latency_us=1,
                attempts=1,
                records=() if status is not AnswerStatus.OK else _routed(source, records),
            )
        )
    h = Household(
        region_code="610102", address="测试地址", category=category, members=tuple(members),
        **household,
    )  # fmt: skip
    return Facts(h, tuple(answers))


_ROUTES = {
    "insurance": "social_insurance",
    "housing_fund": "housing_fund",
    "bank_account": "bank",
    "vehicle": "vehicle",
    "property": "property",
    "registration": "hukou",
    "death": "funeral",
}


def _routed(source: str, records: Sequence[Record]) -> tuple[Record, ...]:
    return tuple(r for r in records if _ROUTES[r.kind] == source)
