"""adapters.testing: FakeAdapter keeps encoded answers without changing what it answers."""

from __future__ import annotations

import json
from datetime import date

import pytest

from adapters.base import SourceCategory, SourceNotFound
from adapters.records import DeathRecord
from adapters.testing import FakeAdapter, make_query

ALIVE, DEAD = "110105194912310021", "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)


def funeral(**options: bool) -> FakeAdapter:
    return FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬", **options)


@pytest.mark.asyncio
async def test_repeated_queries_get_the_same_bytes_and_are_all_recorded() -> None:
    """Asked twice, a fake answers the same bytes a fresh fake gives, and records both calls."""
    fake = funeral()
    first = await fake.fetch(make_query(ALIVE, DEAD))
    again = await fake.fetch(make_query(ALIVE, DEAD))
    fresh = await funeral().fetch(make_query(ALIVE, DEAD))
    assert first.body == again.body == fresh.body
    assert (len(fake.calls), fake.decode(again.body)) == (2, (DEATH,))


@pytest.mark.asyncio
async def test_answers_follow_subjects_date_and_department() -> None:
    """Other subjects, another as-of date or a renamed department give another answer."""
    fake = funeral()
    both = await fake.fetch(make_query(ALIVE, DEAD))
    alive = await fake.fetch(make_query(ALIVE))
    later = await fake.fetch(make_query(ALIVE, DEAD, as_of=date(2025, 7, 1)))
    fake.department = "殡葬管理所"
    renamed = await fake.fetch(make_query(ALIVE, DEAD))
    assert len({both.body, alive.body, later.body, renamed.body}) == 4
    assert fake.decode(alive.body) == ()
    assert later.as_of == date(2025, 7, 1)
    assert renamed.department == json.loads(renamed.body)["department"] == "殡葬管理所"


@pytest.mark.asyncio
async def test_not_found_when_empty_holds_on_every_call() -> None:
    """A fake that says "not found" for nobody known says it every time, kept answer or not."""
    fake = funeral(not_found_when_empty=True)
    for _ in range(2):
        with pytest.raises(SourceNotFound):
            await fake.fetch(make_query(ALIVE))
    assert fake.decode((await fake.fetch(make_query(DEAD))).body) == (DEATH,)
