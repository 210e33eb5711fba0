"""Properties: more income never lowers computed income; fewer assets never add asset findings."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st
from policy_builders import AS_OF, facts, make_policy, member
from test_policy_outcomes import bank, car, home

from adapters.records import InsuranceRecord, Record
from gateway.assessment import Trace, assess, assessment_findings
from gateway.assessment._programmes import household_income
from gateway.domain import Category, Member
from gateway.findings import FindingPolicy

A, B = member(), member(seq=456, relation="spouse", disability_grade=3)
POLICY = make_policy()
SCHEMES = ("wage", "employee_pension", "resident_pension", "unemployment")


@st.composite
def incomes(draw: st.DrawFn) -> list[Record]:
    """Up to five wage/benefit records of either member, random amounts and start dates."""
    out: list[Record] = []
    for i in range(draw(st.integers(0, 5))):
        scheme = draw(st.sampled_from(SCHEMES))
        out.append(
            InsuranceRecord(
                record_id=f"SI{i}", subject_id=draw(st.sampled_from([A, B])).id_number,
                scheme="employee_pension" if scheme == "wage" else scheme,
                role="contribution" if scheme == "wage" else "benefit",
                monthly_amount_fen=draw(st.integers(0, 2_000_000)),
                employer=f"E{i}", status="active",
                since=draw(st.dates(date(2020, 1, 1), AS_OF)),
            )
        )  # fmt: skip
    return out


def computed(records: list[Record]) -> int:
    _, per_capita = household_income(Trace(POLICY, AS_OF), facts([A, B], records), (A, B))
    return per_capita


def _pension(record_id: str, who: Member, role: str, since: date) -> InsuranceRecord:
    return InsuranceRecord(
        record_id=record_id, subject_id=who.id_number, scheme="employee_pension", role=role,
        monthly_amount_fen=1, employer=f"E{record_id}", status="active", since=since,
    )  # fmt: skip


# Found by hypothesis: a second wage of a fen raised the employment-cost deduction by a fen of
# rounding while the counted average stayed the same, so the net income fell by a fen.
ROUNDING = (
    [
        _pension("SI0", A, "contribution", date(2025, 1, 1)),
        _pension("SI1", A, "benefit", date(2025, 1, 1)),
        _pension("SI2", B, "benefit", date(2020, 1, 1)),
    ],
    [_pension("SI0", A, "contribution", date(2025, 1, 1))],
)


@settings(max_examples=60, deadline=None)
@given(incomes(), incomes())
@example(*ROUNDING)
def test_adding_income_never_lowers_computed_income(
    base: list[Record], extra: list[Record]
) -> None:
    """Any extra income records give a per-capita income at least as high."""
    renamed = [
        dataclasses.replace(r, record_id=f"X{i}", employer=f"X{i}")
        for i, r in enumerate(extra)
        if isinstance(r, InsuranceRecord)
    ]
    assert computed(base + renamed) >= computed(base)


@st.composite
def assets(draw: st.DrawFn) -> list[Record]:
    """Deposits, vehicles and dwellings of either member."""
    out: list[Record] = []
    for i in range(draw(st.integers(0, 6))):
        who = draw(st.sampled_from([A, B])).id_number
        kind = draw(st.sampled_from(["bank", "car", "moto", "home", "shop"]))
        if kind == "bank":
            out.append(bank(who, draw(st.integers(0, 5_000_000)), f"62{i}"))
        elif kind in ("car", "moto"):
            registered = draw(st.dates(date(2010, 1, 1), AS_OF))
            price = draw(st.integers(0, 20_000_000))
            v = car(who, price, registered, "car" if kind == "car" else "motorcycle")
            out.append(dataclasses.replace(v, record_id=f"V{i}"))
        else:
            usage = "residential" if kind == "home" else "commercial"
            out.append(home(who, f"U{i}", draw(st.integers(1_000, 20_000)), usage=usage))
    return out


def asset_findings(records: list[Record]) -> set[str]:
    f = facts([A, B], records, Category.DIBAO_MARGINAL)
    result = assess(f, [POLICY], AS_OF, FindingPolicy())
    codes = {"DEPOSITS", "VEHICLES", "DWELLINGS", "FLOOR_AREA", "NON_RESIDENTIAL"}
    return {x.code for x in assessment_findings(result, f.answers) if x.code[11:] in codes}


@settings(max_examples=60, deadline=None)
@given(assets(), st.data())
def test_removing_an_asset_never_creates_an_asset_finding(
    records: list[Record], data: st.DataObject
) -> None:
    """Dropping any one asset record yields a subset of the asset findings."""
    if not records:
        return
    index = data.draw(st.integers(0, len(records) - 1))
    fewer = records[:index] + records[index + 1 :]
    assert asset_findings(fewer) <= asset_findings(records)


def test_a_deduction_rounded_from_the_totals_says_so() -> None:
    """A deduction a fen above the average wage (rounding of the totals) explains where from."""
    base, _ = ROUNDING
    trace = Trace(POLICY, AS_OF)
    household_income(trace, facts([A, B], base), (A, B))
    (step,) = [s for s in trace.steps if s.step == "income.deduction.employment_cost"]
    assert step.value == 1
    assert "at most the wage 0.00 yuan → 0.01 yuan (0.06 yuan over 12 months" in step.explain
