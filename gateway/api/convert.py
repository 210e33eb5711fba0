"""Protobuf ⇄ domain, in one place. The core never sees a generated type.

Parsing collects a :class:`FieldViolation` for every field it cannot turn into a domain value
(unparsable dates, unspecified enums) and substitutes a neutral value, so that validation can
still run over the rest and every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.domain import Authorization, Category, Household, Member, Purpose, VerificationRequest
from gateway.errors import FieldViolation

__all__ = ["report_to_proto", "request_from_proto", "timestamp", "timestamp_of", "to_datetime"]


def _date(value: str, field: str, out: list[FieldViolation], default: date) -> date:
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
    except ValueError:
        out.append(FieldViolation(field, f"must be a date as YYYY-MM-DD, got {value[:40]!r}"))
        return default


def _bad_date(value: str) -> date:
    raise ValueError(value)


def _enum(
    value: int, enum_type: Any, prefix: str, field: str, out: list[FieldViolation]
) -> str | None:
    name = enum_type.Name(value) if value in enum_type.values() else ""
    if not name or name.endswith("_UNSPECIFIED"):
        out.append(FieldViolation(field, f"must be one of {_choices(enum_type, prefix)}"))
        return None
    return str(name.removeprefix(prefix))


def _choices(enum_type: Any, prefix: str) -> str:
    names: list[str] = enum_type.keys()  # a protobuf EnumTypeWrapper, not a dict
    return ", ".join(n for n in names if not n.endswith("_UNSPECIFIED"))


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
    category = _enum(h.category, pb.Category, "CATEGORY_", "household.category", out)
    purpose = _enum(msg.purpose, pb.Purpose, "PURPOSE_", "purpose", out)
    purposes = _purposes(a.purposes, out)
    request = VerificationRequest(
        request_id=msg.request_id,
        purpose=Purpose(purpose or "APPLICATION"),
        as_of=_date(msg.as_of, "as_of", out, today) if msg.as_of else today,
        requested_by=requested_by,
        authorization=_authorization(a, today, purposes, out),
        household=Household(
            region_code=h.region_code,
            address=h.address,
            category=Category(category or "APPLICANT"),
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
        name = _enum(value, pb.Purpose, "PURPOSE_", f"authorization.purposes[{i}]", out)
        if name:
            found.add(Purpose(name))
    return frozenset(found)


def timestamp(iso: str) -> Timestamp:
    """A protobuf Timestamp from an RFC 3339 string ("" → unset)."""
    ts = Timestamp()
    if iso:
        ts.FromDatetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))
    return ts


def timestamp_of(moment: datetime) -> Timestamp:
    """A protobuf Timestamp from a datetime (naive values are UTC, as SQLite returns them)."""
    ts = Timestamp()
    ts.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return ts


def to_datetime(ts: Timestamp) -> datetime:
    """An aware UTC datetime from a protobuf Timestamp."""
    return ts.ToDatetime(tzinfo=UTC)


def _record(data: dict[str, Any]) -> pb.Record:
    fields = {k: v for k, v in data.items() if k not in ("kind", "record_id", "subject_id")}
    return pb.Record(
        record_id=data["record_id"], subject_id=data["subject_id"], **{data["kind"]: fields}
    )


def _source(s: dict[str, Any]) -> pb.SourceResult:
    return pb.SourceResult(
        source=s["source"],
        category=s["category"],
        department=s["department"],
        status=pb.SourceStatus.Value("SOURCE_STATUS_" + s["status"]),
        error=s["error"],
        as_of=s["as_of"],
        fetched_at=timestamp(s["fetched_at"]),
        latency_us=s["latency_us"],
        raw_digest=s["raw_digest"],
        records=[_record(r) for r in s["records"]],
        attempts=s["attempts"],
        circuit_open=s.get("circuit_open", False),
        throttled=s.get("throttled", False),
        adapter_version=s["adapter_version"],
    )


def _finding(f: dict[str, Any]) -> pb.Finding:
    return pb.Finding(
        code=f["code"],
        severity=pb.Severity.Value("SEVERITY_" + f["severity"]),
        subject_id=f["subject_id"],
        message=f["message"],
        rule=f.get("rule", ""),
        evidence=[
            pb.Evidence(
                source=e["source"],
                record_ids=e["record_ids"],
                fetched_at=timestamp(e["fetched_at"]),
                as_of=e["as_of"],
            )
            for e in f["evidence"]
        ],
    )


def _household(h: dict[str, Any]) -> pb.Household:
    return pb.Household(
        region_code=h["region_code"],
        address=h["address"],
        category=pb.Category.Value("CATEGORY_" + h["category"]),
        members=[pb.Member(**m) for m in h["members"]],
        gradual_exit_since=h.get("gradual_exit_since", ""),
    )


def _report_authorization(a: dict[str, Any]) -> pb.Authorization:
    return pb.Authorization(
        consent_ref=a["consent_ref"],
        signed_on=a["signed_on"],
        expires_on=a["expires_on"],
        purposes=[pb.Purpose.Value("PURPOSE_" + p) for p in a["purposes"]],
        signed_by=a.get("signed_by", []),
        sources=a.get("sources", []),
        members_digest=a.get("members_digest", ""),
        while_assisted=a.get("while_assisted", False),
    )


def _outcomes(assessment: dict[str, Any] | None) -> list[pb.ProgrammeOutcome]:
    programmes = assessment["programmes"] if assessment else []
    return [
        pb.ProgrammeOutcome(
            programme=o["programme"],
            unit=o["unit"],
            subject_id=o["subject_id"],
            decision=o["decision"],
            decided_by=o["decided_by"],
            grace_start=o["grace"]["start"] if o["grace"] else "",
            grace_end=o["grace"]["end"] if o["grace"] else "",
        )
        for p in programmes
        for o in p["outcomes"]
    ]


def report_to_proto(report: dict[str, Any]) -> pb.Report:
    """The typed view of a signed report payload (parsed JSON)."""
    return pb.Report(
        report_id=report["report_id"],
        request_id=report["request_id"],
        created_at=timestamp(report["created_at"]),
        purpose=pb.Purpose.Value("PURPOSE_" + report["purpose"]),
        as_of=report["as_of"],
        consent_ref=report["authorization"]["consent_ref"],
        household=_household(report["household"]),
        sources=[_source(s) for s in report["sources"]],
        findings=[_finding(f) for f in report["findings"]],
        complete=report["complete"],
        policy_version=report["policy_version"],
        code_version=report["code_version"],
        policies=[pb.PolicyPin(**pin) for pin in report.get("policies", [])],
        outcomes=_outcomes(report.get("assessment")),
        authorization=_report_authorization(report["authorization"]),
    )
