"""Declared-versus-verified tolerances: policy parameters by date, code defaults otherwise."""

from __future__ import annotations

from datetime import date

import pytest
from policy_builders import AS_OF, facts, make_policy, member
from test_policy_outcomes import bank

from gateway.assessment import assess, finding_policy
from gateway.domain import Category
from gateway.findings import FindingPolicy, deposits_discrepancy
from gateway.policy import PolicyLibrary


def test_tolerances_come_from_the_primary_document_by_date() -> None:
    """Test policy: income tolerance 50 yuan to 2024-12-31, 200 yuan from 2025; deposits 3,000."""
    h = facts([member()], []).household
    later = finding_policy(FindingPolicy(), h, [make_policy()], AS_OF)
    earlier = finding_policy(FindingPolicy(), h, [make_policy()], date(2024, 12, 31))
    assert (later.income_tolerance_fen, later.deposit_tolerance_fen) == (20_000, 300_000)
    assert earlier.income_tolerance_fen == 5_000
    assert {t.origin for t in later.tolerances} == {"policy test-1"}
    assert all(t.reference for t in later.tolerances)


def test_no_policy_keeps_the_code_defaults_and_says_so() -> None:
    """No document in force: 100 and 1,000 yuan, origin "default findings-…", reason given."""
    h = facts([member()], []).household
    policy = finding_policy(FindingPolicy(), h, [], AS_OF)
    assert (policy.income_tolerance_fen, policy.deposit_tolerance_fen) == (10_000, 100_000)
    assert all(t.origin == f"default {FindingPolicy().version}" for t in policy.tolerances)
    assert all("no policy file is in force" in t.reference for t in policy.tolerances)
    assert all(t.illustrative for t in policy.tolerances)


@pytest.mark.parametrize(("found", "flagged"), [(300_000, False), (300_001, True)])
def test_deposit_discrepancy_at_the_policy_tolerance(found: int, flagged: bool) -> None:
    """Declared 0, tolerance 3,000 yuan: 3,000.00 found is within it; 3,000.01 is a finding."""
    m = member()
    f = facts([m], [bank(m.id_number, found)])
    policy = finding_policy(FindingPolicy(), f.household, [make_policy()], AS_OF)
    assert bool(list(deposits_discrepancy(f, policy))) is flagged
    rows = assess(f, [make_policy()], AS_OF, FindingPolicy()).declared
    deposits = next(r for r in rows if r.item == "deposits_fen")
    assert deposits.status == ("MORE_FOUND" if flagged else "MATCH")


def test_report_data_lists_tolerances_with_origin() -> None:
    """The assessment's JSON names each tolerance, its value, reference and origin."""
    result = assess(facts([member()], [], Category.DIBAO), [make_policy()], AS_OF, FindingPolicy())
    assert [(t["name"], t["value"], t["origin"]) for t in result.to_dict()["tolerances"]] == [
        ("income_tolerance_fen", 20_000, "policy test-1"),
        ("deposit_tolerance_fen", 300_000, "policy test-1"),
    ]


def test_shipped_files_keep_the_former_defaults() -> None:
    """Every shipped file sets 100 yuan (income) and 1,000 yuan (deposits), illustrative."""
    for doc in PolicyLibrary.from_directory().documents:
        income = doc.resolve("income_tolerance_fen", AS_OF)
        deposits = doc.resolve("deposit_tolerance_fen", AS_OF)
        assert (income.value, deposits.value) == (10_000, 100_000)
        assert income.illustrative
        assert deposits.illustrative


def test_explain_prints_the_tolerances() -> None:
    """``hedui policy explain`` lists each tolerance with its value and origin."""
    from gateway.policy._cli import explain_lines

    result = assess(facts([member()], [], Category.DIBAO), [make_policy()], AS_OF, FindingPolicy())
    text = "\n".join(explain_lines({"report_id": "r", "assessment": result.to_dict()}))
    assert "deposit_tolerance_fen = 300000 (policy test-1" in text
