"""Which programmes a household is assessed for, and which policy documents that pins.

特困 households → 特困; new applicants → 低保 and 特困; 低保边缘 households → 低保 (for the
单人户 rule) and 低保边缘; other low-income households → 低保, and 低保边缘 where the region's
低保边缘 document lists their category (``marginal_categories``; seed 004 二.(二).1.二 counts
低保边缘 among the low-income households). Everyone else → 低保.

A programme the household's category always gets is assessed even without a document (and then
says NO_POLICY); an optional one (低保边缘 for LOW_INCOME) only when its document says so — so the
pinned documents alone decide the programmes again on replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from gateway.domain import Category, Household
from gateway.policy import PolicyDocument, PolicyError

__all__ = ["applies", "assessed_documents", "programmes_for"]

_MARGINAL = "dibao_marginal"


def programmes_for(category: Category) -> tuple[str, ...]:
    """The programmes a household of ``category`` may be assessed for, primary first."""
    if category is Category.TEKUN:
        return ("tekun",)
    if category is Category.APPLICANT:
        return ("dibao", "tekun")
    if category in (Category.DIBAO_MARGINAL, Category.LOW_INCOME):
        return ("dibao", _MARGINAL)
    return ("dibao",)


def applies(programme: str, household: Household, doc: PolicyDocument | None, day: date) -> bool:
    """Whether ``household`` is assessed for ``programme`` (see the module docstring)."""
    if programme != _MARGINAL or household.category is Category.DIBAO_MARGINAL:
        return True
    if doc is None:
        return False
    try:
        listed = doc.resolve("marginal_categories", day).value
    except PolicyError:
        return True  # assessed, so the outcome says POLICY_INCOMPLETE rather than nothing
    return isinstance(listed, tuple) and household.category.value in listed


def assessed_documents(
    household: Household, documents: Sequence[PolicyDocument], day: date
) -> list[PolicyDocument]:
    """The documents of the programmes ``household`` is assessed for, in programme order."""
    by_programme = {d.programme: d for d in documents}
    found = (by_programme.get(name) for name in programmes_for(household.category))
    return [d for d in found if d is not None and applies(d.programme, household, d, day)]
