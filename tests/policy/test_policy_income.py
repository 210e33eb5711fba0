"""Income: wages, benefits, exclusions by date, employment-cost deductions, the period average."""

from __future__ import annotations

from datetime import date

from policy_builders import AS_OF, facts, make_policy, member

from adapters.records import HousingFundAccount, InsuranceRecord
from gateway.assessment import Trace, months_active
from gateway.assessment._programmes import household_income
from gateway.findings import FindingPolicy, income_discrepancy


def wage(
    subject: str, fen: int, since: date = date(2010, 1, 1), rid: str = "SI1"
) -> InsuranceRecord:
    return InsuranceRecord(
        record_id=rid, subject_id=subject, scheme="employee_pension", role="contribution",
        monthly_amount_fen=fen, employer="某公司", since=since, status="active",
    )  # fmt: skip


def benefit(subject: str, scheme: str, fen: int, rid: str = "SI2") -> InsuranceRecord:
    return InsuranceRecord(
        record_id=rid, subject_id=subject, scheme=scheme, role="benefit",
        monthly_amount_fen=fen, employer="", since=date(2015, 1, 1), status="active",
    )  # fmt: skip


def per_capita(f: object, day: date = AS_OF) -> tuple[int, Trace]:
    trace = Trace(make_policy(), day)
    assert hasattr(f, "household")
    _, value = household_income(trace, f, f.household.assessed)  # type: ignore[arg-type]
    return value, trace


def test_wage_minus_employment_cost() -> None:
    """Wage 3,000 yuan; deduction 2,000 × 25 % = 500; net 2,500 a month for one person."""
    m = member()
    value, trace = per_capita(facts([m], [wage(m.id_number, 300_000)]))
    assert value == 250_000
    step = next(s for s in trace.steps if s.rule == "DEDUCTION_EMPLOYMENT_COST")
    assert step.value == 50_000
    assert {p.name for p in step.parameters} == {
        "employment_cost_rate_bp",
        "minimum_wage_monthly_fen",
    }


def test_disabled_member_deduction_is_fifty_percent_capped_at_the_wage() -> None:
    """Disabled (grade 3) wage 800 yuan; cap 2,000 × 50 % = 1,000 → deduct 800; net 0."""
    m = member(disability_grade=3)
    value, _ = per_capita(facts([m], [wage(m.id_number, 80_000)]))
    assert value == 0


def test_disabled_member_deduction_full_cap() -> None:
    """Disabled wage 3,000 yuan; deduction 2,000 × 50 % = 1,000; net 2,000."""
    m = member(disability_grade=4)
    value, _ = per_capita(facts([m], [wage(m.id_number, 300_000)]))
    assert value == 200_000


def test_housing_fund_base_when_no_contribution() -> None:
    """No contribution record: fund deposit base 2,400 yuan is the wage; − 500 → 1,900."""
    m = member()
    fund = HousingFundAccount(
        record_id="GJJ1", subject_id=m.id_number, employer="某公司", deposit_base_fen=240_000,
        monthly_deposit_fen=24_000, balance_fen=1, status="active",
    )  # fmt: skip
    value, _ = per_capita(facts([m], [fund]))
    assert value == 190_000


def test_partial_period_average() -> None:
    """Wage 3,000 yuan since 1 April, as of 30 June: 3 of 12 months → 9,000 // 12 = 750;
    deduction min(750, 500) = 500; net 250."""
    m = member()
    value, _ = per_capita(facts([m], [wage(m.id_number, 300_000, date(2025, 4, 1))]))
    assert value == 25_000


def test_months_active_counts_months_begun() -> None:
    """Months of the period in which a record was active, capped at the period."""
    assert months_active(date(2025, 4, 1), AS_OF, 12) == 3
    assert months_active(date(2025, 6, 30), AS_OF, 12) == 1
    assert months_active(date(2025, 7, 1), AS_OF, 12) == 0
    assert months_active(date(2000, 1, 1), AS_OF, 12) == 12
    assert months_active(None, AS_OF, 12) == 12


def test_resident_pension_excluded_during_the_14th_five_year_plan() -> None:
    """2025: the residents' basic pension (300 yuan) is excluded → 0; 2026: counted → 300."""
    m = member(birth="19500101")
    f = facts([m], [benefit(m.id_number, "resident_pension", 30_000)])
    in_plan, trace = per_capita(f, date(2025, 6, 30))
    after, _ = per_capita(f, date(2026, 1, 31))
    assert (in_plan, after) == (0, 30_000)
    assert any(s.rule == "INCOME_EXCLUDED" for s in trace.steps)


def test_pensions_and_unemployment_are_counted_without_deduction() -> None:
    """Employee pension 2,000 + unemployment 1,200 = 3,200 yuan; no wage, no deduction."""
    m = member()
    records = [
        benefit(m.id_number, "employee_pension", 200_000),
        benefit(m.id_number, "unemployment", 120_000, "SI3"),
    ]
    value, _ = per_capita(facts([m], records))
    assert value == 320_000


def test_household_per_capita_floor_division() -> None:
    """Wages 3,000 + 1,001 yuan, deductions 500 + 500 → 3,001 // 2 = 1,500.50 yuan."""
    a, b = member(), member(seq=456, relation="spouse")
    records = [wage(a.id_number, 300_000), wage(b.id_number, 100_100, rid="SI9")]
    value, _ = per_capita(facts([a, b], records))
    assert value == 150_050


def test_supporters_are_not_household_members() -> None:
    """A supporter's wage is not the household's: the applicant alone has 0 income."""
    a, s = member(), member(birth="19700101", seq=456, relation="other", supporter=True)
    value, _ = per_capita(facts([a, s], [wage(s.id_number, 500_000)]))
    assert value == 0


def test_income_discrepancy_ignores_excluded_kinds() -> None:
    """Undeclared residents' pension (excluded) is no discrepancy; an undeclared wage is."""
    m = member(birth="19500101", declared_monthly_income_fen=0)
    pension = facts([m], [benefit(m.id_number, "resident_pension", 30_000)])
    policy = FindingPolicy(income_exclusions=(("resident_pension", "14th FYP"),))
    assert list(income_discrepancy(pension, policy)) == []
    assert [f.code for f in income_discrepancy(pension, FindingPolicy())] == ["INCOME_DISCREPANCY"]
    wages = facts([m], [wage(m.id_number, 300_000)])
    found = list(income_discrepancy(wages, policy))
    assert [f.code for f in found] == ["INCOME_DISCREPANCY"]
    assert "14th FYP" in found[0].rule


def test_declaring_an_excluded_income_is_no_discrepancy_either() -> None:
    """Declared 300 yuan pension + nothing else; verified countable 0: no finding."""
    m = member(birth="19500101", declared_monthly_income_fen=30_000)
    f = facts([m], [benefit(m.id_number, "resident_pension", 30_000)])
    policy = FindingPolicy(income_exclusions=(("resident_pension", "14th FYP"),))
    assert list(income_discrepancy(f, policy)) == []
