"""Programme rules: 低保 (with gradual exit and the single-person rule) and 特困.

* 低保 (民发〔2021〕57号): per-capita income below the local standard and assets within the
  thresholds. A recipient household is out only when its income *exceeds* the standard, and then
  enters the gradual-exit (渐退) period (seed 004 二.(一).1.三: up to 18 months; regional length).
* 单人户 (seed 000 二.(一).4; seed 004 二.(二).1.二): a seriously ill or seriously disabled member
  of a marginal/low-income household is assessed alone, as a single-person household.

特困 is in :mod:`gateway.assessment._tekun`.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Sequence
from datetime import date

from gateway.assessment._assets import answered, asset_checks
from gateway.assessment._income import MemberIncome, member_income
from gateway.assessment._outcome import Check, Decision, Grace, Outcome, Status, decide
from gateway.assessment._trace import Step, Trace, yuan
from gateway.domain import Category, Household, Member
from gateway.findings import Facts

__all__ = ["Evaluation", "add_months", "evaluate_dibao", "household_income", "income_check"]

DIBAO_INCOME = "民发〔2021〕57号《最低生活保障审核确认办法》: 人均收入低于当地低保标准"
GRADUAL_EXIT = (
    "seed 004 宁民发〔2021〕48号 二.(一).1.三 / seed 000 陕民发〔2022〕23号 二.(二).1: 渐退"
)
RIGID = "seed 000 陕民发〔2022〕23号 二.(一).1; seed 004 二.(三).4: 刚性支出扣减"


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """What one programme concluded: the income figures, the household checks, the outcomes."""

    incomes: tuple[MemberIncome, ...]
    per_capita_fen: int
    checks: tuple[Check, ...]
    outcomes: tuple[Outcome, ...]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def household_income(
    trace: Trace, facts: Facts, members: Sequence[Member]
) -> tuple[tuple[MemberIncome, ...], int]:
    """Each member's income and the per-capita monthly income of ``members``."""
    incomes = tuple(member_income(trace, facts, m) for m in members)
    trace.add(
        Step(
            "income.deduction.rigid_expenditure",
            "DEDUCTION_RIGID_EXPENDITURE",
            0,
            f"no source answered with medical or education expenditure: 0 deducted ({RIGID})",
        )
    )
    net = sum(i.net_fen for i in incomes)
    per_capita = net // len(members)
    counted, deducted = sum(i.counted_fen for i in incomes), sum(i.deduction_fen for i in incomes)
    trace.add(
        Step(
            "income.per_capita",
            "INCOME_PER_CAPITA",
            per_capita,
            f"({yuan(counted)} − {yuan(deducted)} deductions) // {len(members)} members "
            f"= {yuan(per_capita)}",
        )
    )
    return incomes, per_capita


def income_check(
    trace: Trace, facts: Facts, per_capita: int, recipient: bool, subject: str = ""
) -> Check:
    standard, p_std = trace.int_param("standard_monthly_fen")
    ok = per_capita <= standard if recipient else per_capita < standard
    relation = "does not exceed" if recipient else "is below"
    explain = f"per-capita income {yuan(per_capita)} vs standard {yuan(standard)}: " + (
        f"{relation} the standard" if ok else f"{'exceeds' if recipient else 'is not below'} it"
    )
    sources_ok = answered(facts, "social_insurance") and answered(facts, "housing_fund")
    status = Status.UNKNOWN if not sources_ok else (Status.PASS if ok else Status.FAIL)
    return Check("INCOME", status, f"{DIBAO_INCOME}; {p_std.reference}", explain, subject)


def evaluate_dibao(trace: Trace, facts: Facts, alerts: Sequence[str]) -> Evaluation:
    """低保 for the household, then 单人户 outcomes for seriously ill/disabled members."""
    household = facts.household
    members = household.assessed
    incomes, per_capita = household_income(trace, facts, members)
    recipient = household.category is Category.DIBAO
    income = income_check(trace, facts, per_capita, recipient)
    checks = (income, *asset_checks(trace, facts, members))
    decision, decided_by = decide(checks, alerts)
    grace = _grace(trace, household, checks) if recipient else None
    if grace is not None and trace.day <= grace.end:
        decision, decided_by = Decision.ELIGIBLE, ("GRADUAL_EXIT",)
    elif grace is not None:
        decision, decided_by = Decision.NOT_ELIGIBLE, ("INCOME", "GRADUAL_EXIT_ENDED")
    outcome = Outcome("dibao", "household", "", decision, decided_by, checks, grace)
    singles = _single_person(trace, facts, incomes, alerts)
    return Evaluation(incomes, per_capita, checks, (outcome, *singles))


def _grace(trace: Trace, household: Household, checks: Sequence[Check]) -> Grace | None:
    """A recipient whose income exceeds the standard, assets in order: its 渐退 period."""
    if checks[0].status is not Status.FAIL or any(c.status is not Status.PASS for c in checks[1:]):
        return None
    months, p_months = trace.int_param("gradual_exit_months")
    if months == 0:
        return None
    start = household.gradual_exit_since or trace.day
    end = add_months(start, months)
    state = "in grace" if trace.day <= end else "grace ended"
    trace.add(
        Step(
            "household.gradual_exit",
            "GRADUAL_EXIT",
            end.isoformat(),
            f"income exceeds the standard: {months} months from {start} to {end} ({state})",
            "",
            (p_months,),
        )
    )
    return Grace(start, end, f"{GRADUAL_EXIT}; {p_months.reference}")


def _single_person(
    trace: Trace, facts: Facts, incomes: Sequence[MemberIncome], alerts: Sequence[str]
) -> list[Outcome]:
    """Seriously ill/disabled members of marginal/low-income households, assessed alone."""
    categories = trace.param("single_person_categories")
    grades = trace.param("serious_disability_grades")
    assert isinstance(categories.value, tuple)
    assert isinstance(grades.value, tuple)
    if facts.household.category.value not in categories.value:
        return []
    by_id = {i.subject_id: i for i in incomes}
    out = []
    for m in facts.household.assessed:
        if not (m.seriously_ill or m.disability_grade in grades.value):
            continue
        why = "seriously ill" if m.seriously_ill else f"disability grade {m.disability_grade}"
        rule = Check(
            "SINGLE_PERSON_HOUSEHOLD",
            Status.PASS,
            categories.reference,
            f"{why}, household category {facts.household.category.value}",
            m.id_number,
        )
        own = by_id[m.id_number].net_fen
        trace.add(
            Step(
                "household.single_person",
                "SINGLE_PERSON_HOUSEHOLD",
                own,
                f"{why}: assessed alone, own income {yuan(own)}",
                m.id_number,
                (categories, grades),
            )
        )
        checks = (
            rule,
            income_check(trace, facts, own, False, m.id_number),
            *asset_checks(trace, facts, (m,)),
        )
        decision, decided_by = decide(checks, alerts)
        out.append(Outcome("dibao", "single_person", m.id_number, decision, decided_by, checks))
    return out
