"""``iso_time`` writes the bytes reports have always carried: strftime's, in UTC, with a Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.report import iso_time

_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
)


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_zones)
)
def test_iso_time_is_the_strftime_form(moment: datetime) -> None:
    """Any aware moment, years before 1000 included: strftime("%Y-%m-%dT%H:%M:%S.%fZ") in UTC."""
    assert iso_time(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
