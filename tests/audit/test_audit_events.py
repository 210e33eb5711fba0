"""Audit events round-trip through canonical JSON leaf bytes; unknown or sloppy bytes raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import events as ev
from audit.errors import EventError

SALT = b"per-deployment-secret-salt"
DIGEST = st.binary(max_size=64).map(ev.sha256_hex)
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)
INTS = st.integers(min_value=0, max_value=2**53 - 1)
KINDS = [
    ev.RequestAccepted,
    ev.SourceAnswered,
    ev.ReportSigned,
    ev.ReportRead,
    ev.KeyCreated,
    ev.KeyRetired,
    ev.AdapterConfigChanged,
]


def _strategy(kind: type[ev.AuditEvent]) -> st.SearchStrategy[ev.AuditEvent]:
    fields = {}
    for name, hint in ev._hints(kind).items():
        if name == "TYPE":
            continue
        fields[name] = (
            DIGEST
            if name.endswith("_digest")
            else {str: st.text(), int: INTS, datetime: TIMES}[hint]
        )
    return st.builds(kind, **fields)


events = st.one_of([_strategy(k) for k in KINDS])


@settings(max_examples=200, deadline=None)
@given(events)
def test_events_round_trip_through_canonical_bytes(event: ev.AuditEvent) -> None:
    """parse_entry(entry_bytes(e)) == e, and the bytes are already RFC 8785 canonical."""
    data = ev.entry_bytes(event)
    assert ev.parse_entry(data) == event
    assert rfc8785.dumps(json.loads(data)) == data
    assert json.loads(data)["type"] == event.TYPE


def test_golden_bytes() -> None:
    """A ReportRead serialises to pinned bytes (sorted keys, UTC time, schema version)."""
    at = datetime(2025, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    event = ev.ReportRead(report_id="r-1", reader="县民政局", read_at=at)
    assert (
        ev.entry_bytes(event)
        == (
            '{"read_at":"2025-01-02T03:04:05.000000Z","reader":"县民政局",'
            '"report_id":"r-1","type":"report_read","v":1}'
        ).encode()
    )


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"nope","v":1}',
        b'{"read_at":"2025-01-02T03:04:05.000000Z","reader":"u","report_id":"r","type":"report_read","v":2}',
        b'{"read_at":"2025-01-02T03:04:05.000000Z","reader":"u","type":"report_read","v":1}',
        b'{"reader":"u","read_at":"2025-01-02T03:04:05.000000Z","report_id":"r","type":"report_read","v":1}',
        b'{"read_at":"2025-01-02T03:04:05Z","reader":"u","report_id":"r","type":"report_read","v":1}',
        b"[1]",
        b"\xff",
    ],
)
def test_unknown_or_non_canonical_leaves_raise(data: bytes) -> None:
    """Unknown types, wrong versions, missing fields and non-canonical bytes raise EventError."""
    with pytest.raises(EventError):
        ev.parse_entry(data)


def test_fields_are_checked_when_built() -> None:
    """Floats, naive times and non-hex digests are refused at construction."""
    now = datetime.now(UTC)
    with pytest.raises(EventError, match="latency_ms"):
        ev.SourceAnswered(
            request_id="q",
            source="s",
            status="OK",
            raw_digest="0" * 64,
            latency_ms=1.5,  # type: ignore[arg-type]
        )
    with pytest.raises(EventError, match="at"):
        ev.KeyCreated(key_id="k", algorithm="ed25519", at=now.replace(tzinfo=None))
    with pytest.raises(EventError, match="envelope_digest"):
        ev.ReportSigned(request_id="q", report_id="r", envelope_digest="ABC")


def test_subject_digest_hides_and_normalises_id_numbers() -> None:
    """The digest ignores member order and check-digit case, depends on the salt, hides the IDs."""
    ids = ["11010519491231002X", "110105194912310029"]
    digest = ev.subject_digest(ids, SALT)
    assert digest == ev.subject_digest([ids[1], ids[0].lower()], SALT)
    assert digest != ev.subject_digest(ids, SALT + b"!")
    event = ev.RequestAccepted(
        request_id="q",
        accepted_at=datetime.now(UTC),
        purpose="NEW_APPLICATION",
        region_code="110105",
        member_count=2,
        subject_digest=digest,
    )
    assert b"1949" not in ev.entry_bytes(event)
    with pytest.raises(ValueError, match="salt"):
        ev.subject_digest(ids, b"short")
