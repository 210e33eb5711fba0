"""A verification request as JSON-ready data and back: how requests are stored and replayed."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from audit.canonical import canonical_json
from gateway.domain import Authorization, Category, Household, Member, Purpose, VerificationRequest

__all__ = ["canonical_json", "request_from_dict", "request_to_dict"]

# ``canonical_json`` (RFC 8785, with its orjson fast path) lives in ``audit.canonical``: the audit
# leaves need it too, and ``audit`` never imports ``gateway``. Re-exported here for the gateway.

_MEMBER_FIELDS = tuple(f.name for f in dataclasses.fields(Member))


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
            "expires_on": _iso(req.authorization.expires_on),
            "purposes": sorted(p.value for p in req.authorization.purposes),
            **_authorization_scope(req.authorization),
        },
        "household": {
            "region_code": household.region_code,
            "address": household.address,
            "category": household.category.value,
            "members": [_member(m) for m in household.members],
            **_grace(household),
        },
    }


def _member(member: Member) -> dict[str, Any]:
    """A member's fields; ``supporter`` only when set, so older requests keep their bytes."""
    # what dataclasses.asdict gave (every field is a scalar), without its deep copy per value
    out = {name: getattr(member, name) for name in _MEMBER_FIELDS}
    if not member.supporter:
        del out["supporter"]
    return out


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _authorization_scope(auth: Authorization) -> dict[str, Any]:
    """The 授权书 fields added in v1.1, only when set: older requests keep their exact bytes."""
    out: dict[str, Any] = {}
    if auth.signed_by:
        out["signed_by"] = list(auth.signed_by)
    if auth.sources:
        out["sources"] = sorted(auth.sources)
    if auth.members_digest:
        out["members_digest"] = auth.members_digest
    if auth.while_assisted:
        out["while_assisted"] = True
    return out


def _grace(household: Household) -> dict[str, Any]:
    since = household.gradual_exit_since
    return {"gradual_exit_since": since.isoformat()} if since else {}


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
            expires_on=date.fromisoformat(auth["expires_on"]) if auth["expires_on"] else None,
            purposes=frozenset(Purpose(p) for p in auth["purposes"]),
            signed_by=tuple(auth.get("signed_by", ())),
            sources=frozenset(auth.get("sources", ())),
            members_digest=auth.get("members_digest", ""),
            while_assisted=auth.get("while_assisted", False),
        ),
        household=Household(
            region_code=household["region_code"],
            address=household["address"],
            category=Category(household["category"]),
            members=tuple(Member(**m) for m in household["members"]),
            gradual_exit_since=(
                date.fromisoformat(household["gradual_exit_since"])
                if household.get("gradual_exit_since")
                else None
            ),
        ),
    )
