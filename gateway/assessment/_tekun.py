"""特困 (民发〔2021〕43号《特困人员认定办法》第七–十条): every household member has no work
capacity (by age or disability grade, or a provincial addition), no source of living (income below
the standard, assets within thresholds), and no legal supporter able to support them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gateway.assessment._assets import answered, asset_checks
from gateway.assessment._income import member_income
from gateway.assessment._outcome import Check, Outcome, Status, decide
from gateway.assessment._programmes import Evaluation, household_income, income_check
from gateway.assessment._trace import Step, Trace, yuan
from gateway.domain import Member
from gateway.findings import Facts
from gateway.idnumber import parse_id_number

__all__ = ["age_on", "evaluate_tekun"]


def age_on(member: Member, day: date) -> int | None:
    try:
        born = parse_id_number(member.id_number, today=day).birth_date
    except ValueError:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _capacity(trace: Trace, member: Member) -> tuple[bool, str]:
    """Whether ``member`` has no work capacity (民发〔2021〕43号 第七条), and why."""
    old, _ = trace.int_param("no_work_capacity_age_min")
    young, _ = trace.int_param("no_work_capacity_age_below")
    grades = trace.param("no_work_capacity_disability_grades").value
    ill = trace.param("seriously_ill_no_work_capacity").value is True
    age = age_on(member, trace.day)
    if age is not None and (age >= old or age < young):
        return True, f"age {age}"
    if isinstance(grades, tuple) and member.disability_grade in grades:
        return True, f"disability grade {member.disability_grade}"
    if ill and member.seriously_ill:
        return True, "seriously ill"
    return False, f"age {age}, disability grade {member.disability_grade}"


def evaluate_tekun(trace: Trace, facts: Facts, alerts: Sequence[str]) -> Evaluation:
    """特困: no work capacity, no source of living, no able legal supporter."""
    members = facts.household.assessed
    incomes, per_capita = household_income(trace, facts, members)
    checks = [_capacity_check(trace, members)]
    checks.append(income_check(trace, facts, per_capita, False))
    checks += asset_checks(trace, facts, members)
    checks.append(_supporter_check(trace, facts))
    decision, decided_by = decide(checks, alerts)
    outcome = Outcome("tekun", "household", "", decision, decided_by, tuple(checks))
    return Evaluation(incomes, per_capita, tuple(checks), (outcome,))


def _capacity_check(trace: Trace, members: Sequence[Member]) -> Check:
    reference = trace.param("no_work_capacity_age_min").reference
    for m in members:
        none, why = _capacity(trace, m)
        trace.add(Step("tekun.work_capacity", "NO_WORK_CAPACITY", none, why, m.id_number))
        if not none:
            return Check(
                "NO_WORK_CAPACITY", Status.FAIL, reference, f"able to work: {why}", m.id_number
            )
    return Check("NO_WORK_CAPACITY", Status.PASS, reference, "no member is able to work")


def _supporter_check(trace: Trace, facts: Facts) -> Check:
    share, p_share = trace.int_param("supporter_income_limit_bp")
    standard, _ = trace.int_param("standard_monthly_fen")
    limit = standard * share // 10_000
    supporters = facts.household.supporters
    if not supporters:
        return Check(
            "NO_ABLE_SUPPORTER", Status.PASS, p_share.reference, "no legal supporter listed"
        )
    if not answered(facts, "social_insurance"):
        return Check(
            "NO_ABLE_SUPPORTER",
            Status.UNKNOWN,
            p_share.reference,
            "social insurance did not answer for the supporters",
        )
    for s in supporters:
        own = member_income(trace, facts, s).net_fen
        if own >= limit:
            return Check(
                "NO_ABLE_SUPPORTER",
                Status.FAIL,
                p_share.reference,
                f"supporter income {yuan(own)} ≥ {share} bp × {yuan(standard)} = {yuan(limit)}",
                s.id_number,
            )
    return Check(
        "NO_ABLE_SUPPORTER",
        Status.PASS,
        p_share.reference,
        f"every supporter's income is below {yuan(limit)}",
    )
