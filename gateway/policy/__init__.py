"""Rules as data: policy files per region and programme, with dated, referenced parameters.

The assessment (:mod:`gateway.assessment`) never holds a regulatory number itself; it asks a
:class:`PolicyDocument` for the value in force on the as-of date and records where it came from.
"""

from gateway.policy._library import SHIPPED_DIR, PolicyLibrary
from gateway.policy._load import check_policy_file, load_policy_file, parse_policy
from gateway.policy._model import (
    DatedValue,
    Exclusion,
    PolicyDocument,
    PolicyError,
    Resolved,
    Value,
)
from gateway.policy._schema import INCOME_KINDS, PARAMETERS, Kind, ParamSpec, Programme

__all__ = [
    "INCOME_KINDS",
    "PARAMETERS",
    "SHIPPED_DIR",
    "DatedValue",
    "Exclusion",
    "Kind",
    "ParamSpec",
    "PolicyDocument",
    "PolicyError",
    "PolicyLibrary",
    "Programme",
    "Resolved",
    "Value",
    "check_policy_file",
    "load_policy_file",
    "parse_policy",
]
