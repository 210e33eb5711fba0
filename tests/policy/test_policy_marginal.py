"""低保边缘 (marginal) programme: the income band, its boundaries, assets, who is assessed."""

from __future__ import annotations

import pytest
from policy_builders import AS_OF, facts, make_policy, member
from test_policy_income import wage
from test_policy_outcomes import bank, status

from gateway.assessment import Decision, Outcome, Status, assess, programmes_for
from gateway.domain import Category
from gateway.findings import Facts, FindingPolicy
from gateway.policy import PolicyLibrary


def marginal(f: Facts, **changes: object) -> list[Outcome]:
    docs = [make_policy("dibao"), make_policy("dibao_marginal", **changes)]
    result = assess(f, docs, AS_OF, FindingPolicy())
    return [o for p in result.programmes for o in p.outcomes if o.programme == "dibao_marginal"]


def one(wage_fen: int, category: Category = Category.DIBAO_MARGINAL) -> Outcome:
    m = member()
    (outcome,) = marginal(facts([m], [wage(m.id_number, wage_fen)], category))
    return outcome


# 2025 standard 600 yuan; multiple 15,000 bp → limit 600 × 1.5 = 900 yuan; employment cost 500.
@pytest.mark.parametrize(
    ("wage_fen", "decision", "decided_by"),
    [
        (140_000, Decision.ELIGIBLE, None),
        (140_100, Decision.NOT_ELIGIBLE, ("INCOME_MARGINAL_LIMIT",)),
        (110_000, Decision.ELIGIBLE, None),
        (109_900, Decision.NOT_ELIGIBLE, ("INCOME_NOT_BELOW_STANDARD",)),
    ],
)
def test_income_band_boundaries(
    wage_fen: int, decision: Decision, decided_by: tuple[str, ...] | None
) -> None:
    """Net = wage − 500: 1,400 − 500 = 900 = 600 × 1.5 (at the multiple) is eligible; 901 (one
    yuan above) is not; 600 (= the standard) is eligible; 599 (below it) is 低保's, not 边缘."""
    outcome = one(wage_fen)
    assert outcome.decision is decision
    if decided_by is not None:
        assert outcome.decided_by == decided_by


def test_limit_is_exact_integer_arithmetic_with_an_odd_multiple() -> None:
    """Multiple 12,345 bp: 60,000 × 12,345 // 10,000 = 74,070 fen; net 740.70 passes, 740.71
    fails (wage = net + 500)."""
    m = member()
    at = facts([m], [wage(m.id_number, 124_070)], Category.DIBAO_MARGINAL)
    above = facts([m], [wage(m.id_number, 124_071)], Category.DIBAO_MARGINAL)
    ok = marginal(at, marginal_income_multiple_bp=12_345)[0]
    assert status(ok, "INCOME_MARGINAL_LIMIT") is Status.PASS
    bad = marginal(above, marginal_income_multiple_bp=12_345)[0]
    assert status(bad, "INCOME_MARGINAL_LIMIT") is Status.FAIL


def test_trace_records_the_limit_with_both_parameters() -> None:
    """The MARGINAL_INCOME_LIMIT step is 90,000 fen and names the standard and the multiple."""
    m = member()
    f = facts([m], [wage(m.id_number, 140_000)], Category.DIBAO_MARGINAL)
    result = assess(
        f, [make_policy("dibao"), make_policy("dibao_marginal")], AS_OF, FindingPolicy()
    )
    programme = next(p for p in result.programmes if p.programme == "dibao_marginal")
    step = next(s for s in programme.trace if s.rule == "MARGINAL_INCOME_LIMIT")
    assert step.value == 90_000
    assert [p.name for p in step.parameters] == [
        "standard_monthly_fen",
        "marginal_income_multiple_bp",
    ]
    assert programme.to_dict()["policy"]["programme"] == "dibao_marginal"


def test_assets_decide_too() -> None:
    """Income 700 is inside the band, but deposits 14,400.01 > 24 × 600 = 14,400: not eligible."""
    m = member()
    f = facts([m], [wage(m.id_number, 120_000), bank(m.id_number, 1_440_001)],
              Category.DIBAO_MARGINAL)  # fmt: skip
    (outcome,) = marginal(f)
    assert (outcome.decision, outcome.decided_by) == (Decision.NOT_ELIGIBLE, ("DEPOSITS",))


def test_unanswered_income_source_means_review() -> None:
    """Social insurance did not answer: both income checks UNKNOWN → NEEDS_REVIEW."""
    f = facts([member()], [], Category.DIBAO_MARGINAL, failed=("social_insurance",))
    (outcome,) = marginal(f)
    assert outcome.decision is Decision.NEEDS_REVIEW
    assert outcome.decided_by[:2] == ("INCOME_NOT_BELOW_STANDARD", "INCOME_MARGINAL_LIMIT")


def test_low_income_households_only_where_the_policy_lists_them() -> None:
    """LOW_INCOME: no 边缘 outcome when the document lists only DIBAO_MARGINAL; one when listed."""
    assert programmes_for(Category.LOW_INCOME) == ("dibao", "dibao_marginal")
    m = member()
    f = facts([m], [wage(m.id_number, 140_000)], Category.LOW_INCOME)
    assert marginal(f) == []
    listed = marginal(f, marginal_categories=["DIBAO_MARGINAL", "LOW_INCOME"])
    assert [o.decision for o in listed] == [Decision.ELIGIBLE]


def test_marginal_household_without_a_document_is_review() -> None:
    """DIBAO_MARGINAL always gets a 边缘 outcome: without a document, NEEDS_REVIEW by NO_POLICY."""
    result = assess(facts([member()], [], Category.DIBAO_MARGINAL), [make_policy()], AS_OF,
                    FindingPolicy())  # fmt: skip
    assert [(p.programme, p.outcomes[0].decided_by) for p in result.programmes] == [
        ("dibao", ("INCOME", "DEPOSITS", "VEHICLES", "DWELLINGS", "FLOOR_AREA", "NON_RESIDENTIAL")),
        ("dibao_marginal", ("NO_POLICY",)),
    ]
    assert [p["programme"] for p in result.pins()] == ["dibao"]


def test_shipped_files_list_low_income_for_ningxia_only() -> None:
    """Ningxia's 边缘 file lists LOW_INCOME (seed 004 二.(二).1.二); Shaanxi's does not."""
    library = PolicyLibrary.from_directory()
    nx = library.resolve("640104", "dibao_marginal", AS_OF)
    sx = library.resolve("610102", "dibao_marginal", AS_OF)
    assert nx is not None
    assert sx is not None
    assert nx.resolve("marginal_categories", AS_OF).value == ("DIBAO_MARGINAL", "LOW_INCOME")
    assert sx.resolve("marginal_categories", AS_OF).value == ("DIBAO_MARGINAL",)
    assert nx.resolve("marginal_income_multiple_bp", AS_OF).value == 15_000
