"""The advisory assessment: income, assets, household rules, outcomes — with a calculation trace.

:func:`assess` is pure: facts (the answers), the pinned policy documents and the alerts the
findings raised go in; an :class:`Assessment` comes out. It never decides: each programme gets
ELIGIBLE / NOT_ELIGIBLE / NEEDS_REVIEW with the rules that decided it; people decide.
"""

from gateway.assessment._api import Assessment, ProgrammeResult, assess, assessment_findings
from gateway.assessment._assets import depreciated_value
from gateway.assessment._declared import DeclaredItem, declared_items
from gateway.assessment._income import IncomeItem, MemberIncome, income_items, months_active
from gateway.assessment._outcome import Check, Decision, Grace, Outcome, Status, decide
from gateway.assessment._programmes import add_months
from gateway.assessment._scope import assessed_documents, programmes_for
from gateway.assessment._tolerances import TOLERANCES, finding_policy, resolve_tolerances
from gateway.assessment._trace import Input, Step, Trace, yuan

__all__ = [
    "TOLERANCES",
    "Assessment",
    "Check",
    "Decision",
    "DeclaredItem",
    "Grace",
    "IncomeItem",
    "Input",
    "MemberIncome",
    "Outcome",
    "ProgrammeResult",
    "Status",
    "Step",
    "Trace",
    "add_months",
    "assess",
    "assessed_documents",
    "assessment_findings",
    "decide",
    "declared_items",
    "depreciated_value",
    "finding_policy",
    "income_items",
    "months_active",
    "programmes_for",
    "resolve_tolerances",
    "yuan",
]
