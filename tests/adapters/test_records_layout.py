"""adapters.records and FakeAdapter.decode: cached field layouts and orjson change no result."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.base import MalformedAnswer, SourceCategory
from adapters.records import RECORD_TYPES, Record, record_from_dict, record_to_dict
from adapters.testing import FakeAdapter


def naive_to_dict(record: Record) -> dict[str, Any]:
    """record_to_dict as it was: reflecting over the fields of every record."""
    out: dict[str, Any] = {"kind": record.kind}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        out[field.name] = value.isoformat() if isinstance(value, date) else value
    return out


def naive_from_dict(data: dict[str, Any]) -> Record:
    """record_from_dict as it was: reflecting over the fields of every record."""
    kind = data.get("kind")
    cls = RECORD_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown record kind {kind!r}")
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            raise ValueError(f"{kind} record: missing field {field.name!r}")
        value = data[field.name]
        if field.type in ("date", date):
            value = date.fromisoformat(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def naive_decode(fake: FakeAdapter, raw: bytes) -> tuple[Record, ...]:
    """FakeAdapter.decode as it was: json and the naive record reader."""
    try:
        doc = json.loads(raw)
        date.fromisoformat(doc["as_of"])
        return tuple(naive_from_dict(item) for item in doc["records"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedAnswer(f"{fake.department}: {type(exc).__name__}: {exc}") from exc


SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),  # NaN != NaN would fail the comparison, not the reader
    st.sampled_from(["2025-01-02", "1949-12-31", "2025-13-01"]),
)


@st.composite
def record_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A record's dict with each field kept, dropped or replaced by an odd value."""
    cls = draw(st.sampled_from(sorted(RECORD_TYPES.values(), key=lambda c: c.kind)))
    data: dict[str, Any] = {"kind": cls.kind}
    for field in dataclasses.fields(cls):
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        good = "2025-06-30" if field.type in ("date", date) else "x"
        data[field.name] = draw(st.one_of(st.just(good), SCALARS))
    if draw(st.booleans()):
        data["kind"] = draw(st.one_of(st.sampled_from(sorted(RECORD_TYPES)), SCALARS))
    return data


def outcome(read: Any, *args: Any) -> tuple[str, Any]:
    """What a reader gives: its result, or its error's type and message."""
    try:
        return ("ok", read(*args))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@given(record_dicts())
def test_record_from_dict_matches_the_reflecting_version(data: dict[str, Any]) -> None:
    """Any dict gives the same record, or the same error, as the field-reflecting reader."""
    assert outcome(record_from_dict, data) == outcome(naive_from_dict, data)


@given(record_dicts())
def test_record_to_dict_matches_the_reflecting_version(data: dict[str, Any]) -> None:
    """Every record readable from a dict writes back as the field-reflecting writer wrote it."""
    try:
        record = naive_from_dict(data)
    except Exception:
        return
    assert list(record_to_dict(record).items()) == list(naive_to_dict(record).items())


@given(st.lists(record_dicts(), max_size=3), st.sampled_from(["2025-06-30", "x", 5]))
def test_fake_decode_matches_json_decode(items: list[dict[str, Any]], as_of: Any) -> None:
    """FakeAdapter.decode (orjson where it agrees) gives json's records or json's error."""
    fake = FakeAdapter("funeral", SourceCategory.FUNERAL, department="民政殡葬")
    body = json.dumps({"department": "民政殡葬", "as_of": as_of, "records": items})
    raw = body.encode()
    assert outcome(fake.decode, raw) == outcome(naive_decode, fake, raw)


def test_fake_decode_keeps_integers_past_64_bits() -> None:
    """An integer orjson would read as a float is read by json, exactly."""
    fake = FakeAdapter("bank", SourceCategory.BANK, department="bank")
    item = {
        "kind": "bank_account",
        "record_id": "1",
        "subject_id": "2",
        "bank": "b",
        "account_type": "demand",
        "balance_fen": 2**70,
        "balance_date": "2025-06-30",
    }
    raw = json.dumps({"department": "bank", "as_of": "2025-06-30", "records": [item]}).encode()
    (record,) = fake.decode(raw)
    assert record_to_dict(record)["balance_fen"] == 2**70
