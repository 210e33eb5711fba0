"""gateway.fanout: the countdown wait and the one-step Answer keep every answer and its fields."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters.base import Adapter, AnswerStatus, SourceCategory, SourceThrottled
from adapters.records import DeathRecord
from adapters.resilience import ResiliencePolicy, ResilientAdapter
from adapters.testing import FakeAdapter, make_query
from gateway.fanout import Answer, fan_out, observe_answers

DEAD = "11010519491231002X"
DEATH = DeathRecord(
    record_id="SW1", subject_id=DEAD, date_of_death=date(2025, 1, 2), place="家中", cremated=True
)
NOW = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)


def funeral(**options: Any) -> FakeAdapter:
    return FakeAdapter("funeral", SourceCategory.FUNERAL, [DEATH], department="民政殡葬", **options)


@pytest.mark.asyncio
async def test_slow_and_instant_sources_answer_in_order() -> None:
    """The fan-out waits for its slowest source; answers keep the adapters' order."""
    sources: list[Adapter] = [
        ResilientAdapter(funeral(latency_s=0.02)),
        ResilientAdapter(funeral()),
        funeral(latency_s=0.01),
    ]
    answers = await fan_out(sources, make_query(DEAD), clock=lambda: NOW)
    assert [(a.status, a.records) for a in answers] == [(AnswerStatus.OK, (DEATH,))] * 3
    assert answers[0].latency_us >= 20_000


@pytest.mark.asyncio
async def test_guarded_answer_carries_every_field() -> None:
    """A guarded source's Answer has its bytes, digest, dates, attempts and flags."""
    no_wait = ResiliencePolicy(backoff_initial_s=0, backoff_jitter_s=0)
    answer, throttled, retried = await fan_out(
        [
            ResilientAdapter(funeral()),
            ResilientAdapter(
                funeral(error=SourceThrottled("HTTP 429")), ResiliencePolicy(max_attempts=1)
            ),
            ResilientAdapter(funeral(error=SourceThrottled("HTTP 429")), no_wait),
        ],
        make_query(DEAD),
        clock=lambda: NOW,
        versions={"funeral": "2.0"},
    )
    assert answer.raw == (await funeral().fetch(make_query(DEAD))).body
    assert answer.raw_digest == "sha256:" + hashlib.sha256(answer.raw).hexdigest()
    assert (answer.as_of, answer.fetched_at, answer.attempts) == (date(2025, 6, 30), NOW, 1)
    assert (answer.source, answer.category, answer.department, answer.adapter_version) == (
        "funeral",
        "funeral",
        "民政殡葬",
        "2.0",
    )
    assert (answer.error, answer.circuit_open, answer.throttled) == ("", False, False)
    assert (throttled.status, throttled.error, throttled.throttled) == (
        AnswerStatus.UNAVAILABLE,
        "HTTP 429",
        True,
    )
    assert (throttled.raw, throttled.as_of, throttled.records) == (b"", None, ())
    assert (retried.status, retried.attempts, retried.throttled) == (
        AnswerStatus.UNAVAILABLE,
        3,
        True,
    )


@pytest.mark.asyncio
async def test_open_circuit_answers_without_calling() -> None:
    """An open circuit gives UNAVAILABLE with circuit_open and no attempt."""
    guarded = ResilientAdapter(funeral())
    for _ in range(guarded.policy.failure_threshold):
        guarded.breaker.record_failure()
    (answer,) = await fan_out([guarded], make_query(DEAD), clock=lambda: NOW)
    assert (answer.status, answer.circuit_open, answer.attempts) == (
        AnswerStatus.UNAVAILABLE,
        True,
        0,
    )
    assert answer.error.endswith("circuit open after repeated failures, not called")


@pytest.mark.asyncio
async def test_observers_see_every_answer_once_in_order() -> None:
    """The metrics hook hears each source's answer once, in the adapters' order."""
    seen: list[Answer] = []
    sources = [ResilientAdapter(funeral()), ResilientAdapter(funeral(latency_s=0.01))]
    for source in sources:
        observe_answers(source, seen.append)
    answers = await fan_out(sources, make_query(DEAD), clock=lambda: NOW)
    assert seen == answers


@pytest.mark.asyncio
async def test_cancelled_before_the_sources_start_leaves_nothing_running() -> None:
    """A request cancelled as soon as it fans out cancels every source; no slot stays taken."""
    guarded = [ResilientAdapter(funeral(hang=True)), ResilientAdapter(funeral())]
    before = asyncio.all_tasks()
    work = asyncio.create_task(fan_out(guarded, make_query(DEAD), clock=lambda: NOW))
    await asyncio.sleep(0)  # the fan-out has created its tasks; they have not run yet
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    assert asyncio.all_tasks() - before == set()
    assert [g.bulkhead.in_flight for g in guarded] == [0, 0]


@pytest.mark.asyncio
async def test_raw_digest_is_kept_and_follows_a_replaced_body() -> None:
    """raw_digest is computed once per Answer; a copy with other bytes digests its own."""
    (answer,) = await fan_out([ResilientAdapter(funeral())], make_query(DEAD), clock=lambda: NOW)
    first = answer.raw_digest
    assert answer.raw_digest is first
    other = dataclasses.replace(answer, raw=b"other")
    assert other.raw_digest == "sha256:" + hashlib.sha256(b"other").hexdigest()
    assert other != answer
    assert dataclasses.replace(other, raw=answer.raw) == answer
