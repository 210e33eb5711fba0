"""A verification request as JSON-ready data and back: how requests are stored and replayed."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import rfc8785

from gateway.domain import Authorization, Category, Household, Member, Purpose, VerificationRequest

__all__ = ["canonical_json", "request_from_dict", "request_to_dict"]


def canonical_json(data: Any) -> bytes:
    """RFC 8785 canonical JSON: the one byte form for anything hashed or signed."""
    return bytes(rfc8785.dumps(data))


def request_to_dict(req: VerificationRequest) -> dict[str, Any]:
    """The request as JSON-ready data (stored canonically; the source of truth for replay)."""
    household = req.household
    return {
        "request_id": req.request_id,
        "purpose": req.purpose.value,
        "as_of": req.as_of.isoformat(),
        "requested_by": req.requested_by,
        "authorization": {
            "consent_ref": req.authorization.consent_ref,
            "signed_on": req.authorization.signed_on.isoformat(),
            "expires_on": req.authorization.expires_on.isoformat(),
            "purposes": sorted(p.value for p in req.authorization.purposes),
        },
        "household": {
            "region_code": household.region_code,
            "address": household.address,
            "category": household.category.value,
            "members": [dataclasses.asdict(m) for m in household.members],
        },
    }


def request_from_dict(data: dict[str, Any]) -> VerificationRequest:
    """Inverse of :func:`request_to_dict` (input was validated when it was first accepted)."""
    auth = data["authorization"]
    household = data["household"]
    return VerificationRequest(
        request_id=data["request_id"],
        purpose=Purpose(data["purpose"]),
        as_of=date.fromisoformat(data["as_of"]),
        requested_by=data.get("requested_by", ""),
        authorization=Authorization(
            consent_ref=auth["consent_ref"],
            signed_on=date.fromisoformat(auth["signed_on"]),
            expires_on=date.fromisoformat(auth["expires_on"]),
            purposes=frozenset(Purpose(p) for p in auth["purposes"]),
        ),
        household=Household(
            region_code=household["region_code"],
            address=household["address"],
            category=Category(household["category"]),
            members=tuple(Member(**m) for m in household["members"]),
        ),
    )
