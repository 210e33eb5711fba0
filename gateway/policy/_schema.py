"""The parameters a policy file may (and must) set: name, kind, allowed range, programmes.

The ranges here are the bounds the regulations themselves set (e.g. the employment-cost deduction
of 20 %–30 % of the minimum wage, seed 004 二.(一).1.三); the values inside those bounds are data
in the policy files, never constants in the assessment code.
"""

from __future__ import annotations

import dataclasses
import enum

__all__ = ["INCOME_KINDS", "PARAMETERS", "PROGRAMMES", "Kind", "ParamSpec", "Programme"]


class Programme(enum.StrEnum):
    """Assistance programmes a policy file is written for."""

    DIBAO = "dibao"  # 最低生活保障
    TEKUN = "tekun"  # 特困人员救助供养
    DIBAO_MARGINAL = "dibao_marginal"  # 低保边缘家庭


PROGRAMMES = frozenset(p.value for p in Programme)


class Kind(enum.StrEnum):
    """How a parameter's value is written and checked."""

    FEN = "fen"  # integer amount of money in fen (分)
    BP = "bp"  # integer basis points (1/100 of a percent)
    MONTHS = "months"
    YEARS = "years"
    COUNT = "count"
    DM2 = "dm2"  # square decimetres (1 m² = 100 dm²)
    BOOL = "bool"
    GRADES = "grades"  # list of disability grades 1–4
    NAMES = "names"  # list of short identifiers


@dataclasses.dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter: its kind, its allowed range (ints) and the programmes that need it."""

    kind: Kind
    low: int = 0
    high: int = 10**12
    programmes: frozenset[str] = PROGRAMMES
    help: str = ""


_ALL = PROGRAMMES  # 低保, 特困 and 低保边缘 share the income, asset and tolerance rules
_DIBAO = frozenset({Programme.DIBAO.value})
_TEKUN = frozenset({Programme.TEKUN.value})
_MARGINAL = frozenset({Programme.DIBAO_MARGINAL.value})

PARAMETERS: dict[str, ParamSpec] = {
    "standard_monthly_fen": ParamSpec(Kind.FEN, 1, 10**7, _ALL, "local 低保 standard per person"),
    "minimum_wage_monthly_fen": ParamSpec(Kind.FEN, 1, 10**7, _ALL, "local minimum wage"),
    "employment_cost_rate_bp": ParamSpec(
        Kind.BP, 2_000, 3_000, _ALL, "deduction for an ordinary working member (20–30 %)"
    ),
    "employment_cost_disabled_rate_bp": ParamSpec(
        Kind.BP, 0, 5_000, _ALL, "deduction for a disabled working member (up to 50 %)"
    ),
    "assessment_period_months": ParamSpec(Kind.MONTHS, 1, 12, _ALL, "income averaged over"),
    "deposit_months": ParamSpec(Kind.MONTHS, 1, 120, _ALL, "deposits per capita ≤ N standards"),
    "max_dwellings": ParamSpec(Kind.COUNT, 0, 10, _ALL, "residential dwellings allowed"),
    "max_floor_area_per_capita_dm2": ParamSpec(Kind.DM2, 1, 10**6, _ALL, "dwelling area/capita"),
    "max_non_residential": ParamSpec(Kind.COUNT, 0, 10, _ALL, "commercial/other real estate"),
    "vehicles_allowed": ParamSpec(Kind.COUNT, 0, 10, _ALL, "non-exempt vehicles allowed"),
    "vehicle_exempt_types": ParamSpec(Kind.NAMES, 0, 20, _ALL, "vehicle types always exempt"),
    "vehicle_exempt_value_fen": ParamSpec(Kind.FEN, 0, 10**9, _ALL, "exempt at or below value"),
    "vehicle_depreciation_bp_per_year": ParamSpec(Kind.BP, 0, 10_000, _ALL, "straight line"),
    "gradual_exit_months": ParamSpec(Kind.MONTHS, 0, 36, _DIBAO, "渐退 grace length"),
    "single_person_categories": ParamSpec(Kind.NAMES, 0, 10, _DIBAO, "单人户 applies to"),
    "serious_disability_grades": ParamSpec(Kind.GRADES, 0, 4, _DIBAO, "重度残疾 grades"),
    "no_work_capacity_age_min": ParamSpec(Kind.YEARS, 50, 80, _TEKUN, "elderly from age"),
    "no_work_capacity_age_below": ParamSpec(Kind.YEARS, 0, 18, _TEKUN, "minors below age"),
    "no_work_capacity_disability_grades": ParamSpec(Kind.GRADES, 0, 4, _TEKUN, "grades"),
    "seriously_ill_no_work_capacity": ParamSpec(Kind.BOOL, 0, 1, _TEKUN, "provincial addition"),
    "supporter_income_limit_bp": ParamSpec(
        Kind.BP, 0, 100_000, _TEKUN, "a legal supporter at or above this share is able"
    ),
    "marginal_income_multiple_bp": ParamSpec(
        Kind.BP, 10_000, 30_000, _MARGINAL, "per-capita income ≤ standard × this (低保边缘)"
    ),
    "marginal_categories": ParamSpec(Kind.NAMES, 0, 10, _MARGINAL, "also assessed as 低保边缘"),
    # Declared-versus-verified tolerances, read from the household's primary document.
    "income_tolerance_fen": ParamSpec(Kind.FEN, 0, 10**7, _ALL, "declared monthly income ±"),
    "deposit_tolerance_fen": ParamSpec(Kind.FEN, 0, 10**9, _ALL, "declared deposits ±"),
}

# Income kinds an exclusion may name: the kinds the sources report (wages, insurance benefits by
# scheme) and the kinds the national rules exclude although no source reports them yet.
INCOME_KINDS = frozenset(
    {
        "wage",
        "employee_pension",
        "resident_pension",
        "unemployment",
        "medical",
        "business",
        "property_income",
        "preferential_care",  # 优待抚恤金
        "family_planning_reward",  # 计划生育奖励与扶助金
        "scholarship",  # 奖学金
        "bravery_award",  # 见义勇为等奖励性补助
        "social_assistance",  # 社会救助金
    }
)
