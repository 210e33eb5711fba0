"""The gRPC edge's conversions give the same messages as their first, plainer transcriptions.

``report_fields``/``report_to_proto`` build reports from nested dicts and enum labels, timestamps
from seconds and nanos, and ``request_from_proto`` reads enums from tables built once; the
``_reference_*`` functions below are the code they replaced, kept here as the specification.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import SourceThrottled
from adapters.simulator import build_population
from adapters.simulator.casefiles import household_json
from adapters.testing import fake_adapters
from gateway.api import convert
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.api.verification import envelope_to_proto
from gateway.app import Gateway
from gateway.client import request_from_case
from gateway.config import load_settings
from gateway.domain import Category, Household, Purpose, VerificationRequest
from gateway.errors import FieldViolation
from gateway.pipeline import Submission
from gateway.report import iso_time

SEVEN = ("hukou", "social_insurance", "vehicle", "property", "funeral", "housing_fund", "bank")


# ---- the replaced code ---------------------------------------------------------------------


def _reference_timestamp(iso: str) -> Timestamp:
    ts = Timestamp()
    if iso:
        ts.FromDatetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))
    return ts


def _reference_record(data: dict[str, Any]) -> pb.Record:
    fields = {k: v for k, v in data.items() if k not in ("kind", "record_id", "subject_id")}
    return pb.Record(
        record_id=data["record_id"], subject_id=data["subject_id"], **{data["kind"]: fields}
    )


def _reference_source(s: dict[str, Any]) -> pb.SourceResult:
    return pb.SourceResult(
        source=s["source"],
        category=s["category"],
        department=s["department"],
        status=pb.SourceStatus.Value("SOURCE_STATUS_" + s["status"]),
        error=s["error"],
        as_of=s["as_of"],
        fetched_at=_reference_timestamp(s["fetched_at"]),
        latency_us=s["latency_us"],
        raw_digest=s["raw_digest"],
        records=[_reference_record(r) for r in s["records"]],
        attempts=s["attempts"],
        circuit_open=s.get("circuit_open", False),
        throttled=s.get("throttled", False),
        adapter_version=s["adapter_version"],
    )


def _reference_finding(f: dict[str, Any]) -> pb.Finding:
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
                fetched_at=_reference_timestamp(e["fetched_at"]),
                as_of=e["as_of"],
            )
            for e in f["evidence"]
        ],
    )


def _reference_outcomes(assessment: dict[str, Any] | None) -> list[pb.ProgrammeOutcome]:
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


def _reference_report(report: dict[str, Any]) -> pb.Report:
    h, a = report["household"], report["authorization"]
    return pb.Report(
        report_id=report["report_id"],
        request_id=report["request_id"],
        created_at=_reference_timestamp(report["created_at"]),
        purpose=pb.Purpose.Value("PURPOSE_" + report["purpose"]),
        as_of=report["as_of"],
        consent_ref=a["consent_ref"],
        household=pb.Household(
            region_code=h["region_code"],
            address=h["address"],
            category=pb.Category.Value("CATEGORY_" + h["category"]),
            members=[pb.Member(**m) for m in h["members"]],
            gradual_exit_since=h.get("gradual_exit_since", ""),
        ),
        sources=[_reference_source(s) for s in report["sources"]],
        findings=[_reference_finding(f) for f in report["findings"]],
        complete=report["complete"],
        policy_version=report["policy_version"],
        code_version=report["code_version"],
        policies=[pb.PolicyPin(**pin) for pin in report.get("policies", [])],
        outcomes=_reference_outcomes(report.get("assessment")),
        authorization=pb.Authorization(
            consent_ref=a["consent_ref"],
            signed_on=a["signed_on"],
            expires_on=a["expires_on"],
            purposes=[pb.Purpose.Value("PURPOSE_" + p) for p in a["purposes"]],
            signed_by=a.get("signed_by", []),
            sources=a.get("sources", []),
            members_digest=a.get("members_digest", ""),
            while_assisted=a.get("while_assisted", False),
        ),
    )


def _reference_enum(
    value: int, enum_type: Any, prefix: str, field: str, out: list[FieldViolation]
) -> str | None:
    name = enum_type.Name(value) if value in enum_type.values() else ""
    if not name or name.endswith("_UNSPECIFIED"):
        names: list[str] = enum_type.keys()
        choices = ", ".join(n for n in names if not n.endswith("_UNSPECIFIED"))
        out.append(FieldViolation(field, f"must be one of {choices}"))
        return None
    return str(name.removeprefix(prefix))


def _reference_enums(
    msg: pb.SubmitVerificationRequest,
) -> tuple[Purpose, Category, frozenset[Purpose], list[FieldViolation]]:
    out: list[FieldViolation] = []
    category = _reference_enum(
        msg.household.category, pb.Category, "CATEGORY_", "household.category", out
    )
    purpose = _reference_enum(msg.purpose, pb.Purpose, "PURPOSE_", "purpose", out)
    found = set()
    for i, value in enumerate(msg.authorization.purposes):
        name = _reference_enum(value, pb.Purpose, "PURPOSE_", f"authorization.purposes[{i}]", out)
        if name:
            found.add(Purpose(name))
    return (
        Purpose(purpose or "APPLICATION"),
        Category(category or "APPLICANT"),
        frozenset(found),
        out,
    )


# ---- reports from a real pipeline ------------------------------------------------------------


@pytest_asyncio.fixture
async def submissions(tmp_path: Path) -> list[Submission]:
    """Reports for 24 households: sources answering, NOT_FOUND, throttled and DENIED."""
    population = build_population(7, 24)
    fakes = [
        f
        for f in fake_adapters(population.all_records(), not_found_when_empty=True)
        if f.name in SEVEN
    ]
    for fake in fakes:
        if fake.name == "vehicle":
            fake.error = SourceThrottled("quota spent")
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/hedui.db",
        key_dir=tmp_path / "keys",
        sources_base_url="http://127.0.0.1:9",
        adapter_allowlist=list(SEVEN),
    )
    gw = await Gateway.open(settings, adapters=fakes)
    today = gw.pipeline.clock().date()
    out = []
    try:
        for i, household in enumerate(population.households):
            msg = request_from_case(household_json(household), today=today)
            msg.request_id = uuid.uuid4().hex
            if i % 3 == 0:  # no consent for the bank: DENIED
                del msg.authorization.sources[:]
                msg.authorization.sources.extend(["household_registration", "vehicle"])
            req, problems = convert.request_from_proto(msg, today, "test")
            assert not problems
            out.append(await gw.pipeline.submit(req, 5.0))
    finally:
        await gw.close()
    return out


def _variants(report: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """The report, and copies with timestamps in other RFC 3339 forms or empty."""
    yield report
    shifted = dict(report, created_at=report["created_at"].replace("Z", "+08:00"))
    yield dict(
        shifted,
        sources=[
            dict(s, fetched_at=s["fetched_at"][:-1] if i % 2 else "")
            for i, s in enumerate(report["sources"])
        ],
    )


@pytest.mark.asyncio
async def test_reports_convert_as_before(submissions: list[Submission]) -> None:
    """Every report, as report_to_proto and inside a response, is the message it used to be."""
    sources = [s for sub in submissions for s in sub.report["sources"]]
    assert {s["status"] for s in sources} == {"OK", "NOT_FOUND", "UNAVAILABLE", "DENIED"}
    assert any(s["throttled"] for s in sources)
    assert any(f["evidence"] for sub in submissions for f in sub.report["findings"])
    assert any(sub.report["assessment"]["programmes"] for sub in submissions)
    assert any(sub.report["findings"] for sub in submissions)
    for sub in submissions:
        for report in _variants(sub.report):
            expected = _reference_report(report)
            got = convert.report_to_proto(report)
            assert got == expected
            assert got.SerializeToString(deterministic=True) == expected.SerializeToString(
                deterministic=True
            )
            response = pb.SubmitVerificationResponse(
                report=convert.report_fields(report), envelope=envelope_to_proto(sub)
            )
            assert response.report == expected


# ---- property checks ---------------------------------------------------------------------------

_zones = st.sampled_from([None, UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-9))])


@settings(max_examples=400, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_zones)
)
def test_timestamps_are_those_of_from_datetime(moment: datetime) -> None:
    """timestamp() gives FromDatetime's seconds and nanos for any RFC 3339 text (naive → UTC)."""
    texts = [moment.isoformat(), moment.isoformat(timespec="seconds")]
    if moment.tzinfo is not None and moment.astimezone(UTC).year >= 1000:
        texts.append(iso_time(moment))
    for text in texts:
        assert convert.timestamp(text) == _reference_timestamp(text)


def test_timestamp_of_empty_text_is_unset() -> None:
    """ "" still gives an empty Timestamp (reports: see the variants above, which set it)."""
    assert convert.timestamp("") == Timestamp()


_enum_numbers = st.integers(min_value=-1, max_value=7)


@settings(max_examples=300, deadline=None)
@given(_enum_numbers, _enum_numbers, st.lists(_enum_numbers, max_size=5))
def test_enum_fields_parse_as_before(purpose: int, category: int, purposes: list[int]) -> None:
    """Known values map to the domain enums, unknown ones give the same violations as before."""
    msg = pb.SubmitVerificationRequest(
        purpose=purpose,
        as_of="2025-06-01",
        household=pb.Household(category=category),
        authorization=pb.Authorization(purposes=purposes, signed_on="2025-05-01"),
    )
    req, problems = convert.request_from_proto(msg, date(2025, 6, 1))
    want_purpose, want_category, want_purposes, want_problems = _reference_enums(msg)
    assert isinstance(req, VerificationRequest)
    assert isinstance(req.household, Household)
    assert req.purpose is want_purpose
    assert req.household.category is want_category
    assert req.authorization.purposes == want_purposes
    assert [p for p in problems if "must be one of" in p.description] == want_problems
