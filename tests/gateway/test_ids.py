"""Report ids are RFC 9562 version-7 UUIDs: time first, so they sort as they are minted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ids import uuid7

_moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)


@given(at=_moments, noise=st.binary(min_size=10, max_size=10))
def test_uuid7_fields(at: datetime, noise: bytes) -> None:
    """Version 7, the RFC variant, the moment's Unix milliseconds in the first 48 bits."""
    value = uuid7(at, random=lambda n: noise[:n])
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(at.timestamp() * 1000)
    assert uuid.UUID(str(value)) == value


@given(
    at=_moments,
    gap_ms=st.integers(min_value=1, max_value=10**6),
    a=st.binary(min_size=10, max_size=10),
    b=st.binary(min_size=10, max_size=10),
)
def test_uuid7_later_moment_sorts_later(at: datetime, gap_ms: int, a: bytes, b: bytes) -> None:
    """An id of a later millisecond sorts after, as text too, whatever the random bits."""
    later = at + timedelta(milliseconds=gap_ms)
    if later.year > 9999:
        return
    first, second = uuid7(at, random=lambda n: a[:n]), uuid7(later, random=lambda n: b[:n])
    assert first < second
    assert str(first) < str(second)


def test_uuid7_random_bits_differ() -> None:
    """Two ids of the same moment differ (74 random bits)."""
    at = datetime(2026, 12, 5, tzinfo=UTC)
    assert len({uuid7(at) for _ in range(1000)}) == 1000


def test_uuid7_refuses_a_naive_moment() -> None:
    """A naive datetime has no Unix time: ValueError, not a guess."""
    with pytest.raises(ValueError, match="aware"):
        uuid7(datetime(2026, 12, 5))
