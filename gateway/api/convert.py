"""Protobuf ⇄ domain, in one place. The core never sees a generated type.

Parsing collects a :class:`FieldViolation` for every field it cannot turn into a domain value
(unparsable dates, unspecified enums) and substitutes a neutral value, so that validation can
still run over the rest and every problem is reported at once.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.domain import Authorization, Category, Household, Member, Purpose, VerificationRequest
from gateway.errors import FieldViolation

__all__ = [
    "report_fields",
    "report_to_proto",
    "request_from_proto",
    "timestamp",
    "timestamp_of",
    "to_datetime",
]

_E = TypeVar("_E", bound=enum.Enum)


def _date(value: str, field: str, out: list[FieldViolation], default: date) -> date:
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        out.append(FieldViolation(field, f"must be a date as YYYY-MM-DD, got {value[:40]!r}"))
        return default


def _bad_date(value: str) -> date:
    raise ValueError(value)


@dataclasses.dataclass(frozen=True, slots=True)
class _ProtoEnum(Generic[_E]):
    """A protobuf enum's numbers as members of the domain enum of the same names.

    Built once, at import: ``enum_type.values()`` builds a list and a domain enum call costs a
    microsecond, on every enum field of every request otherwise. (A protobuf name the domain
    enum lacks now fails the import rather than the first request that uses it.)
    """

    members: dict[int, _E]  # every number but the ``_UNSPECIFIED`` one
    choices: str  # the names a violation lists

    @classmethod
    def of(cls, enum_type: Any, prefix: str, domain: type[_E]) -> _ProtoEnum[_E]:
        names: list[str] = enum_type.keys()  # a protobuf EnumTypeWrapper, not a dict
        named = [n for n in names if not n.endswith("_UNSPECIFIED")]
        members = {enum_type.Value(n): domain(n.removeprefix(prefix)) for n in named}
        return cls(members, ", ".join(named))


_CATEGORIES = _ProtoEnum.of(pb.Category, "CATEGORY_", Category)
_PURPOSES = _ProtoEnum.of(pb.Purpose, "PURPOSE_", Purpose)


def _enum(value: int, enum: _ProtoEnum[_E], field: str, out: list[FieldViolation]) -> _E | None:
    member = enum.members.get(value)
    if member is None:
        out.append(FieldViolation(field, f"must be one of {enum.choices}"))
    return member


def _member(m: pb.Member) -> Member:
    return Member(
        id_number=m.id_number.strip().upper(),
        name=m.name,
        relation=m.relation,
        disability_grade=m.disability_grade,
        seriously_ill=m.seriously_ill,
        declared_monthly_income_fen=m.declared_monthly_income_fen,
        declared_deposits_fen=m.declared_deposits_fen,
        declared_vehicles=m.declared_vehicles,
        declared_properties=m.declared_properties,
        supporter=m.supporter,
    )


def request_from_proto(
    msg: pb.SubmitVerificationRequest, today: date, requested_by: str = ""
) -> tuple[VerificationRequest, list[FieldViolation]]:
    """The domain request and the violations found while parsing."""
    out: list[FieldViolation] = []
    if not msg.HasField("household"):
        out.append(FieldViolation("household", "is required"))
    if not msg.HasField("authorization"):
        out.append(FieldViolation("authorization", "is required"))
    h, a = msg.household, msg.authorization
    category = _enum(h.category, _CATEGORIES, "household.category", out)
    purpose = _enum(msg.purpose, _PURPOSES, "purpose", out)
    purposes = _purposes(a.purposes, out)
    request = VerificationRequest(
        request_id=msg.request_id,
        purpose=purpose or Purpose.APPLICATION,
        as_of=_date(msg.as_of, "as_of", out, today) if msg.as_of else today,
        requested_by=requested_by,
        authorization=_authorization(a, today, purposes, out),
        household=Household(
            region_code=h.region_code,
            address=h.address,
            category=category or Category.APPLICANT,
            members=tuple(_member(m) for m in h.members),
            gradual_exit_since=(
                _date(h.gradual_exit_since, "household.gradual_exit_since", out, today)
                if h.gradual_exit_since
                else None
            ),
        ),
    )
    return request, out


def _authorization(
    a: pb.Authorization, today: date, purposes: frozenset[Purpose], out: list[FieldViolation]
) -> Authorization:
    """The 授权书; an empty ``expires_on`` is allowed when it is valid while assisted."""
    open_ended = a.while_assisted and not a.expires_on
    return Authorization(
        consent_ref=a.consent_ref,
        signed_on=_date(a.signed_on, "authorization.signed_on", out, today),
        expires_on=None
        if open_ended
        else _date(a.expires_on, "authorization.expires_on", out, today),
        purposes=purposes,
        signed_by=tuple(s.strip().upper() for s in a.signed_by),
        sources=frozenset(a.sources),
        members_digest=a.members_digest,
        while_assisted=a.while_assisted,
    )


def _purposes(values: Iterable[int], out: list[FieldViolation]) -> frozenset[Purpose]:
    found = set()
    for i, value in enumerate(values):
        purpose = _enum(value, _PURPOSES, f"authorization.purposes[{i}]", out)
        if purpose:
            found.add(purpose)
    return frozenset(found)


def timestamp(iso: str) -> Timestamp:
    """A protobuf Timestamp from an RFC 3339 string ("" → unset)."""
    return Timestamp(**_timestamp_fields(iso))


# Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, in seconds since the epoch.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp_fields(iso: str) -> dict[str, int]:
    """The fields of the Timestamp of an RFC 3339 string ("" → none: unset).

    The same seconds and nanos as ``Timestamp.FromDatetime`` (naive → UTC) for a quarter of the
    cost; out of Timestamp's range it defers to ``FromDatetime`` and its errors.
    """
    if not iso:
        return {}
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    since = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - _EPOCH
    seconds = since.days * 86_400 + since.seconds
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        ts = Timestamp()
        ts.FromDatetime(moment)
        return {"seconds": ts.seconds, "nanos": ts.nanos}
    return {"seconds": seconds, "nanos": since.microseconds * 1000}


def timestamp_of(moment: datetime) -> Timestamp:
    """A protobuf Timestamp from a datetime (naive values are UTC, as SQLite returns them)."""
    ts = Timestamp()
    ts.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return ts


def to_datetime(ts: Timestamp) -> datetime:
    """An aware UTC datetime from a protobuf Timestamp."""
    return ts.ToDatetime(tzinfo=UTC)


# The report is built as nested dicts and lists, with enum values as labels, and turned into
# messages by one constructor at the top: upb copies a message assigned to a field (about 1 µs a
# small one, 10 µs a report) but builds a sub-message from a dict in place.


def report_fields(report: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``pb.Report`` for a signed report payload (parsed JSON), as plain data.

    ``pb.Report(**report_fields(r))`` is :func:`report_to_proto`; a response that carries a report
    takes ``report=report_fields(r)`` and so builds it in place.
    """
    auth = report["authorization"]
    return {
        "report_id": report["report_id"],
        "request_id": report["request_id"],
        "created_at": _timestamp_fields(report["created_at"]),
        "purpose": "PURPOSE_" + report["purpose"],
        "as_of": report["as_of"],
        "consent_ref": auth["consent_ref"],
        "household": _household(report["household"]),
        "sources": [_source(s) for s in report["sources"]],
        "findings": [_finding(f) for f in report["findings"]],
        "complete": report["complete"],
        "policy_version": report["policy_version"],
        "code_version": report["code_version"],
        "policies": report.get("policies", []),  # {version, digest, …}: PolicyPin's own fields
        "outcomes": _outcomes(report.get("assessment")),
        "authorization": _report_authorization(auth),
    }


def report_to_proto(report: dict[str, Any]) -> pb.Report:
    """The typed view of a signed report payload (parsed JSON)."""
    return pb.Report(**report_fields(report))


def _source(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": s["source"],
        "category": s["category"],
        "department": s["department"],
        "status": "SOURCE_STATUS_" + s["status"],
        "error": s["error"],
        "as_of": s["as_of"],
        "fetched_at": _timestamp_fields(s["fetched_at"]),
        "latency_us": s["latency_us"],
        "raw_digest": s["raw_digest"],
        "records": [_record(r) for r in s["records"]],
        "attempts": s["attempts"],
        "circuit_open": s.get("circuit_open", False),
        "throttled": s.get("throttled", False),
        "adapter_version": s["adapter_version"],
    }


def _record(data: dict[str, Any]) -> dict[str, Any]:
    """``{kind, record_id, subject_id, …}`` → Record with the rest under its ``kind`` field."""
    fields = data.copy()
    kind = fields.pop("kind")
    return {
        "record_id": fields.pop("record_id"),
        "subject_id": fields.pop("subject_id"),
        kind: fields,
    }


def _finding(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": f["code"],
        "severity": "SEVERITY_" + f["severity"],
        "subject_id": f["subject_id"],
        "message": f["message"],
        "rule": f.get("rule", ""),
        "evidence": [
            {
                "source": e["source"],
                "record_ids": e["record_ids"],
                "fetched_at": _timestamp_fields(e["fetched_at"]),
                "as_of": e["as_of"],
            }
            for e in f["evidence"]
        ],
    }


def _household(h: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_code": h["region_code"],
        "address": h["address"],
        "category": "CATEGORY_" + h["category"],
        "members": h["members"],  # {id_number, name, …}: Member's own fields
        "gradual_exit_since": h.get("gradual_exit_since", ""),
    }


def _report_authorization(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "consent_ref": a["consent_ref"],
        "signed_on": a["signed_on"],
        "expires_on": a["expires_on"],
        "purposes": ["PURPOSE_" + p for p in a["purposes"]],
        "signed_by": a.get("signed_by", []),
        "sources": a.get("sources", []),
        "members_digest": a.get("members_digest", ""),
        "while_assisted": a.get("while_assisted", False),
    }


def _outcomes(assessment: dict[str, Any] | None) -> list[dict[str, Any]]:
    programmes = assessment["programmes"] if assessment else []
    return [
        {
            "programme": o["programme"],
            "unit": o["unit"],
            "subject_id": o["subject_id"],
            "decision": o["decision"],
            "decided_by": o["decided_by"],
            "grace_start": o["grace"]["start"] if o["grace"] else "",
            "grace_end": o["grace"]["end"] if o["grace"] else "",
        }
        for p in programmes
        for o in p["outcomes"]
    ]
