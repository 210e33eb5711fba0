"""Assets, thresholds, gradual exit, 单人户 and 特困: one hand-computed case per rule."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from policy_builders import AS_OF, facts, make_policy, member
from test_policy_income import wage

from adapters.records import BankAccount, PropertyRecord, VehicleRecord
from gateway.assessment import Decision, Outcome, Status, assess, depreciated_value
from gateway.domain import Category, Member
from gateway.findings import Facts, FindingPolicy


def outcomes(f: Facts, day: date = AS_OF, alerts: tuple[str, ...] = ()) -> list[Outcome]:
    docs = [make_policy("dibao"), make_policy("tekun")]
    return [o for p in assess(f, docs, day, FindingPolicy(), alerts).programmes for o in p.outcomes]


def household(f: Facts, programme: str = "dibao", **kw: Any) -> Outcome:
    return next(o for o in outcomes(f, **kw) if o.programme == programme and o.unit == "household")


def status(outcome: Outcome, code: str) -> Status:
    return next(c.status for c in outcome.checks if c.code == code)


def bank(subject: str, fen: int, rid: str = "62001") -> BankAccount:
    return BankAccount(record_id=rid, subject_id=subject, bank="银行", account_type="demand",
                       balance_fen=fen, balance_date=AS_OF)  # fmt: skip


def car(subject: str, price: int, registered: date, kind: str = "car") -> VehicleRecord:
    return VehicleRecord(record_id="LVIN1", subject_id=subject, plate="陕A12345", vehicle_type=kind,
                         brand="x", registered_on=registered, purchase_price_fen=price,
                         status="registered")  # fmt: skip


def home(
    subject: str, unit: str, area: int, share: int = 100, usage: str = "residential"
) -> PropertyRecord:
    return PropertyRecord(record_id=f"{unit}/1", subject_id=subject, certificate_number="c",
                          address="a", usage=usage, floor_area_dm2=area, share_percent=share,
                          registered_on=date(2010, 1, 1))  # fmt: skip


def pair() -> tuple[Member, Member]:
    return member(), member(seq=456, relation="spouse")


# 2025 standard: 600 yuan (60,000 fen); employment cost 500 yuan (2,000 × 25 %).
@pytest.mark.parametrize(
    ("wage_fen", "expected"),
    [(109_999, Status.PASS), (110_000, Status.FAIL), (110_100, Status.FAIL)],
)
def test_applicant_income_boundary(wage_fen: int, expected: Status) -> None:
    """Wage − 500 yuan vs standard 600: 599.99 passes; exactly 600 is not *below* (fails);
    601 (one yuan above) fails."""
    m = member()
    assert status(household(facts([m], [wage(m.id_number, wage_fen)])), "INCOME") is expected


@pytest.mark.parametrize(("wage_fen", "grace"), [(110_000, False), (110_100, True)])
def test_recipient_at_standard_stays_one_yuan_above_enters_gradual_exit(
    wage_fen: int, grace: bool
) -> None:
    """Recipient: net 600 (= standard) does not exceed it → eligible without grace; net 601
    exceeds → 渐退 from 2025-06-30 for 6 months to 2025-12-30, still eligible."""
    m = member()
    out = household(facts([m], [wage(m.id_number, wage_fen)], Category.DIBAO))
    assert out.decision is Decision.ELIGIBLE
    assert (out.grace is not None) is grace
    if out.grace:
        assert (out.grace.start, out.grace.end) == (AS_OF, date(2025, 12, 30))
        assert out.decided_by == ("GRADUAL_EXIT",)


def test_gradual_exit_ends_after_its_length() -> None:
    """In 渐退 since 2024-11-30 for 6 months → ended 2025-05-30 < 2025-06-30: not eligible."""
    m = member()
    f = facts(
        [m], [wage(m.id_number, 300_000)], Category.DIBAO, gradual_exit_since=date(2024, 11, 30)
    )
    out = household(f)
    assert out.decision is Decision.NOT_ELIGIBLE
    assert out.decided_by == ("INCOME", "GRADUAL_EXIT_ENDED")
    assert out.grace is not None
    assert out.grace.end == date(2025, 5, 30)


def test_standard_changes_by_effective_date() -> None:
    """Net 550 yuan: 2024 standard 500 → fails; 2025 standard 600 → passes."""
    m = member()
    f = facts([m], [wage(m.id_number, 105_000)])
    assert status(household(f, day=date(2024, 12, 31)), "INCOME") is Status.FAIL
    assert status(household(f, day=date(2025, 1, 1)), "INCOME") is Status.PASS


def test_deposits_at_and_above_the_limit() -> None:
    """Limit 24 × 600 = 14,400 yuan per capita; two members: 28,800 passes, 28,800.02 fails."""
    a, b = pair()
    at = facts([a, b], [bank(a.id_number, 2_880_000)])
    above = facts([a, b], [bank(a.id_number, 2_880_002)])
    assert status(household(at), "DEPOSITS") is Status.PASS
    assert status(household(above), "DEPOSITS") is Status.FAIL


def test_vehicle_depreciation_and_exemptions() -> None:
    """Car 50,000 yuan: 5 years × 10 % → 25,000 > 20,000 counted (fails); 6 years → 20,000
    exempt; a motorcycle is always exempt."""
    assert depreciated_value(5_000_000, date(2020, 6, 30), AS_OF, 1_000) == 2_500_000
    assert depreciated_value(5_000_000, date(2019, 6, 30), AS_OF, 1_000) == 2_000_000
    m = member()
    new = facts([m], [car(m.id_number, 5_000_000, date(2020, 6, 30))])
    old = facts([m], [car(m.id_number, 5_000_000, date(2019, 6, 30))])
    moto = facts([m], [car(m.id_number, 9_000_000, date(2025, 1, 1), "motorcycle")])
    assert status(household(new), "VEHICLES") is Status.FAIL
    assert status(household(old), "VEHICLES") is Status.PASS
    assert status(household(moto), "VEHICLES") is Status.PASS


def test_dwellings_count_and_floor_area() -> None:
    """One flat of 90 m² shared 50/50 by two: 9,000 // 2 = 4,500 dm² > 4,000 fails; a second
    flat fails the count; a shop fails the non-residential rule."""
    a, b = pair()
    shared = facts([a, b], [home(a.id_number, "U1", 9_000, 50),
                            home(b.id_number, "U1", 9_000, 50)])  # fmt: skip
    two = facts([a, b], [home(a.id_number, "U1", 3_000), home(a.id_number, "U2", 3_000)])
    shop = facts([a, b], [home(a.id_number, "U3", 2_000, usage="commercial")])
    assert status(household(shared), "FLOOR_AREA") is Status.FAIL
    assert status(household(shared), "DWELLINGS") is Status.PASS
    assert status(household(two), "DWELLINGS") is Status.FAIL
    assert status(household(shop), "NON_RESIDENTIAL") is Status.FAIL


def test_single_person_household_for_seriously_ill_member_of_marginal_household() -> None:
    """Marginal household: wage 4,000 − 500 = 3,500 // 2 = 1,750 > 600 → not eligible; the
    seriously ill spouse alone has 0 < 600 → eligible as a 单人户."""
    a, b = member(), member(seq=456, relation="spouse", seriously_ill=True)
    f = facts([a, b], [wage(a.id_number, 400_000)], Category.DIBAO_MARGINAL)
    found = outcomes(f)
    assert found[0].decision is Decision.NOT_ELIGIBLE
    single = next(o for o in found if o.unit == "single_person")
    assert (single.subject_id, single.decision) == (b.id_number, Decision.ELIGIBLE)


def test_single_person_rule_only_for_listed_categories() -> None:
    """LOW_INCOME is not listed in the test policy: no 单人户 outcome."""
    a, b = member(), member(seq=456, relation="spouse", disability_grade=1)
    f = facts([a, b], [wage(a.id_number, 400_000)], Category.LOW_INCOME)
    assert all(o.unit == "household" for o in outcomes(f))


def test_tekun_elderly_without_income_or_supporter_is_eligible() -> None:
    """Aged 75 (≥ 60): no work capacity; income 0 < 600; no supporter → eligible."""
    m = member(birth="19500101")
    assert household(facts([m], [], Category.TEKUN), "tekun").decision is Decision.ELIGIBLE


def test_tekun_working_age_member_fails_work_capacity() -> None:
    """Aged 45, no disability: able to work → not eligible by NO_WORK_CAPACITY."""
    out = household(facts([member()], [], Category.TEKUN), "tekun")
    assert out.decided_by == ("NO_WORK_CAPACITY",)


@pytest.mark.parametrize(("fen", "expected"), [(139_999, Status.PASS), (140_000, Status.FAIL)])
def test_tekun_able_supporter(fen: int, expected: Status) -> None:
    """Supporter limit 600 × 150 % = 900 yuan; wage 1,399.99 − 500 = 899.99 < 900 passes;
    wage 1,400 − 500 = 900 ≥ 900: an able supporter, fails."""
    m = member(birth="19500101")
    s = member(birth="19750101", seq=456, relation="other", supporter=True)
    f = facts([m, s], [wage(s.id_number, fen)], Category.TEKUN)
    assert status(household(f, "tekun"), "NO_ABLE_SUPPORTER") is expected


def test_unanswered_source_means_review_not_pass() -> None:
    """The bank did not answer: deposits UNKNOWN → NEEDS_REVIEW."""
    out = household(facts([member()], [], failed=("bank",)))
    assert (out.decision, out.decided_by) == (Decision.NEEDS_REVIEW, ("DEPOSITS",))


def test_alert_findings_mean_review() -> None:
    """A listed member recorded as deceased (an ALERT) sends an eligible household to review."""
    out = household(facts([member()], []), alerts=("MEMBER_DECEASED",))
    assert out.decision is Decision.NEEDS_REVIEW


def test_no_policy_for_region_is_review() -> None:
    """No document pinned for the programme: NEEDS_REVIEW by NO_POLICY."""
    result = assess(facts([member()], [], Category.DIBAO), [], AS_OF, FindingPolicy())
    assert result.programmes[0].outcomes[0].decided_by == ("NO_POLICY",)


def test_trace_names_parameter_reference_and_record() -> None:
    """The deduction step names both parameters; the wage step names its record."""
    m = member()
    result = assess(
        facts([m], [wage(m.id_number, 300_000)]), [make_policy()], AS_OF, FindingPolicy()
    )
    steps = result.programmes[0].trace
    wage_step = next(s for s in steps if s.rule == "INCOME_WAGE")
    assert wage_step.inputs[0].record_id == "SI1"
    assert wage_step.inputs[0].source == "social_insurance"
    deduction = next(s for s in steps if s.rule == "DEDUCTION_EMPLOYMENT_COST")
    assert all(p.reference for p in deduction.parameters)
