"""Household monthly income over the assessment period, from verified facts.

Per member (民发〔2021〕57号; seed 004 二.(一).1.三): wages from the social-insurance contribution
base (else the housing-fund deposit base), insurance benefits by scheme; an income kind the policy
excludes on the as-of date counts zero; each record counts for the months of the period it was
active. The employment-cost deduction is a share of the local minimum wage, never more than the
member's wage. All sums are fen; one floor division per average.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from adapters.records import HousingFundAccount, InsuranceRecord, Record
from gateway.assessment._trace import Step, Trace, inputs_of, yuan
from gateway.domain import Member
from gateway.fanout import Answer
from gateway.findings import Facts

__all__ = ["IncomeItem", "MemberIncome", "income_items", "member_income", "months_active"]


@dataclasses.dataclass(frozen=True, slots=True)
class IncomeItem:
    """One verified monthly income of one member, before exclusions."""

    kind: str  # "wage" or the insurance scheme of a benefit
    monthly_fen: int
    since: date | None  # None: the source gives no start date (counts the whole period)
    answer: Answer
    record: Record


@dataclasses.dataclass(frozen=True, slots=True)
class MemberIncome:
    """A member's average monthly income over the period: counted, wages, deduction."""

    subject_id: str
    counted_fen: int
    wage_fen: int
    deduction_fen: int

    @property
    def net_fen(self) -> int:
        return self.counted_fen - self.deduction_fen


def income_items(facts: Facts, member: Member) -> list[IncomeItem]:
    """Active wages (contribution base; else housing-fund base) and benefits of ``member``."""
    insurance = [
        (a, r)
        for a, r in facts.records(InsuranceRecord, member.id_number)
        if isinstance(r, InsuranceRecord) and r.status == "active"
    ]
    items = [
        IncomeItem(
            "wage" if r.role == "contribution" else r.scheme, r.monthly_amount_fen, r.since, a, r
        )
        for a, r in insurance
        if isinstance(r, InsuranceRecord)
    ]
    if not any(i.kind == "wage" for i in items):
        items += [
            IncomeItem("wage", r.deposit_base_fen, None, a, r)
            for a, r in facts.records(HousingFundAccount, member.id_number)
            if isinstance(r, HousingFundAccount) and r.status == "active"
        ]
    return items


def months_active(since: date | None, as_of: date, period: int) -> int:
    """Whole months of the ``period`` months before ``as_of`` in which the record was active."""
    if since is None:
        return period
    elapsed = (as_of.year - since.year) * 12 + (as_of.month - since.month)
    if since.day > as_of.day:
        elapsed -= 1  # the current month is not complete yet
    return max(0, min(period, elapsed + 1)) if since <= as_of else 0


def member_income(trace: Trace, facts: Facts, member: Member) -> MemberIncome:
    """Average counted income and employment-cost deduction of one member, traced."""
    period, p_period = trace.int_param("assessment_period_months")
    excluded = trace.document.excluded(trace.day)
    counted = wages = 0
    for item in income_items(facts, member):
        months = months_active(item.since, trace.day, period)
        reference = excluded.get(item.kind, "")
        total = 0 if reference else item.monthly_fen * months
        counted += total
        wages += total if item.kind == "wage" else 0
        trace.add(_item_step(item, months, period, reference, total, member, p_period))
    counted_avg, wage_avg = counted // period, wages // period
    trace.add(
        Step(
            "income.member",
            "INCOME_AVERAGE",
            counted_avg,
            f"{yuan(counted)} over {period} months // {period} = {yuan(counted_avg)} a month",
            member.id_number,
            (p_period,),
        )
    )
    deduction = _deduction(trace, member, counted, wages, period)
    return MemberIncome(member.id_number, counted_avg, wage_avg, deduction)


def _item_step(
    item: IncomeItem,
    months: int,
    period: int,
    reference: str,
    total: int,
    member: Member,
    p_period: object,
) -> Step:
    if reference:
        explain = f"{item.kind} {yuan(item.monthly_fen)}/month not counted: {reference}"
        rule = "INCOME_EXCLUDED"
    else:
        explain = (
            f"{item.kind} {yuan(item.monthly_fen)}/month × {months} of {period} months "
            f"= {yuan(total)}"
        )
        rule = "INCOME_WAGE" if item.kind == "wage" else "INCOME_BENEFIT"
    return Step(
        f"income.{item.kind}",
        rule,
        total,
        explain,
        member.id_number,
        (),
        inputs_of([(item.answer, item.record)]),
    )


def _deduction(trace: Trace, member: Member, counted: int, wages: int, period: int) -> int:
    """Employment cost: rate × minimum wage, at most the wage (seed 004 二.(一).1.三).

    ``counted`` and ``wages`` are the period's totals. The deduction is taken from the totals
    before the one floor division, and the monthly figure is what it removes from the counted
    average: so more income never gives a lower net income, not even by a fen of rounding
    (tests/policy/test_policy_properties.py). It is the cap exactly when the cap applies.
    """
    if wages <= 0:
        return 0
    disabled = member.disability_grade > 0
    name = "employment_cost_disabled_rate_bp" if disabled else "employment_cost_rate_bp"
    rate, p_rate = trace.int_param(name)
    wage, p_wage = trace.int_param("minimum_wage_monthly_fen")
    cap = wage * rate // 10_000
    wage_avg = wages // period
    total = min(wages, cap * period)
    deduction = counted // period - (counted - total) // period
    who = "disabled working member" if disabled else "working member"
    explain = (
        f"{who}: {yuan(wage)} × {rate} bp = {yuan(cap)}, at most the wage {yuan(wage_avg)}"
        f" → {yuan(deduction)}"
    )
    if deduction != min(wage_avg, cap):  # a fen of rounding: say where it comes from
        explain += (
            f" ({yuan(total)} over {period} months, taken off the counted income before"
            " its average is rounded down)"
        )
    trace.add(
        Step(
            "income.deduction.employment_cost",
            "DEDUCTION_EMPLOYMENT_COST",
            deduction,
            explain,
            member.id_number,
            (p_rate, p_wage),
        )
    )
    return deduction
