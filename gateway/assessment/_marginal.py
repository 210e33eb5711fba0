"""低保边缘家庭 (households on the margin of 低保): income above 低保, below a multiple of it.

Seed 000 二.(一).4 and seed 004 二.(二).1.二 / 二.(三).2.一 name these households; neither gives the
income band, so it is a policy parameter (``marginal_income_multiple_bp``, illustrative 1.5 × in
the shipped files). A household qualifies by income when its per-capita income is **not below**
the local 低保 standard (it does not meet 低保's 低于 test: at or above it) and **not above**
``standard × multiple``; the asset tests are the programme's own thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.assessment._assets import answered, asset_checks
from gateway.assessment._outcome import Check, Outcome, Status, decide
from gateway.assessment._programmes import Evaluation, household_income
from gateway.assessment._trace import Step, Trace, yuan
from gateway.findings import Facts

__all__ = ["MARGINAL_INCOME", "evaluate_marginal"]

MARGINAL_INCOME = (
    "低保边缘家庭 (seed 000 二.(一).4; seed 004 二.(二).1.二): 人均收入不低于当地低保标准、"
    "不高于其规定倍数"
)


def evaluate_marginal(trace: Trace, facts: Facts, alerts: Sequence[str]) -> Evaluation:
    """低保边缘 for the household: the income band, then the asset tests."""
    members = facts.household.assessed
    incomes, per_capita = household_income(trace, facts, members)
    checks = (*_income_checks(trace, facts, per_capita), *asset_checks(trace, facts, members))
    decision, decided_by = decide(checks, alerts)
    outcome = Outcome("dibao_marginal", "household", "", decision, decided_by, checks)
    return Evaluation(incomes, per_capita, checks, (outcome,))


def _income_checks(trace: Trace, facts: Facts, per_capita: int) -> tuple[Check, Check]:
    """``INCOME_NOT_BELOW_STANDARD`` (else 低保 applies) and ``INCOME_MARGINAL_LIMIT``."""
    standard, p_std = trace.int_param("standard_monthly_fen")
    multiple, p_mult = trace.int_param("marginal_income_multiple_bp")
    limit = standard * multiple // 10_000  # per_capita ≤ limit ⟺ per_capita × 10,000 ≤ std × bp
    trace.add(
        Step(
            "income.marginal_limit",
            "MARGINAL_INCOME_LIMIT",
            limit,
            f"{yuan(standard)} × {multiple} bp // 10,000 = {yuan(limit)}",
            "",
            (p_std, p_mult),
        )
    )
    known = answered(facts, "social_insurance") and answered(facts, "housing_fund")
    above = per_capita >= standard
    within = per_capita <= limit
    pc = yuan(per_capita)
    return (
        Check(
            "INCOME_NOT_BELOW_STANDARD",
            _status(above, known),
            f"{MARGINAL_INCOME}; {p_std.reference}",
            f"per-capita income {pc} vs 低保 standard {yuan(standard)}: "
            + ("not below it" if above else "below it — the household is assessed for 低保"),
        ),
        Check(
            "INCOME_MARGINAL_LIMIT",
            _status(within, known),
            f"{MARGINAL_INCOME}; {p_mult.reference}",
            f"per-capita income {pc} vs {multiple} bp × standard = {yuan(limit)}: "
            + ("does not exceed it" if within else "exceeds it"),
        ),
    )


def _status(ok: bool, known: bool) -> Status:
    """UNKNOWN when an income source did not answer, never PASS."""
    if not known:
        return Status.UNKNOWN
    return Status.PASS if ok else Status.FAIL
