"""Ask every source at once, under the request's deadline; never let one source fail the request.

Each adapter runs in its own task. A guarded adapter keeps its own deadline; one timer for the
whole fan-out (the deadline plus a grace) only catches one that does not, and answers TIMEOUT for
it. A plain adapter's ``fetch`` runs under ``asyncio.timeout``. Whatever happens — an answer, an
:class:`~adapters.base.AdapterError`, a timeout, a bug in the adapter — becomes one
:class:`Answer` with a status, so the report can say exactly what each source did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
import weakref
from collections.abc import Callable, Collection, Coroutine, Sequence
from datetime import date, datetime
from typing import Any

import structlog

from adapters.base import (
    Adapter,
    AdapterError,
    AnswerStatus,
    RawAnswer,
    SourceQuery,
    SourceTimeout,
)
from adapters.records import Record
from adapters.resilience import Outcome, ResilientAdapter

__all__ = ["Answer", "decode_answer", "fan_out", "observe_answers", "raw_digest"]

log = structlog.get_logger(__name__)

GUARD_GRACE_S = 0.1  # a guarded source ends by the deadline itself; this only catches a bug

# The metrics hook: adapter → who wants to see its answers (weak, so a closed gateway's go away).
_observers: weakref.WeakKeyDictionary[Adapter, Callable[[Answer], None]] = (
    weakref.WeakKeyDictionary()
)


def observe_answers(adapter: Adapter, observer: Callable[[Answer], None]) -> None:
    """Call ``observer`` with every :class:`Answer` ``adapter`` gives in a fan-out (metrics)."""
    _observers[adapter] = observer


def _observer_of(adapter: Adapter) -> Callable[[Answer], None] | None:
    try:
        return _observers.get(adapter)
    except TypeError:  # not weakly referable or not hashable: nobody can observe it
        return None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One source's part of a verification, as stored (raw bytes) and as understood (records)."""

    source: str
    category: str
    department: str
    adapter_version: str
    status: AnswerStatus
    error: str
    raw: bytes
    as_of: date | None
    fetched_at: datetime
    latency_us: int
    attempts: int
    records: tuple[Record, ...] = ()
    circuit_open: bool = False  # the open circuit answered; the department was not called
    throttled: bool = False  # the department said 429, or our rate limit / quota refused

    @property
    def raw_digest(self) -> str:
        return raw_digest(self.raw)


def raw_digest(raw: bytes) -> str:
    """``sha256:<hex>`` of a department's exact answer bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


async def fan_out(
    adapters: Sequence[Adapter],
    query: SourceQuery,
    *,
    clock: Callable[[], datetime],
    versions: dict[str, str] | None = None,
) -> list[Answer]:
    """Query all ``adapters`` concurrently; every one yields an :class:`Answer` by the deadline."""
    versions = versions or {}
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    bases = [_origin(a, versions.get(a.name, "")) for a in adapters]
    tasks = [
        loop.create_task(_ask(a, query, clock, b)) for a, b in zip(adapters, bases, strict=True)
    ]
    overran = await _settle(tasks, max(query.timeout_s, 0.0) + GUARD_GRACE_S)
    answers = [
        _overran(base, query, started, clock) if task in overran else task.result()
        for task, base in zip(tasks, bases, strict=True)
    ]
    for adapter, answer in zip(adapters, answers, strict=True):
        if (observer := _observer_of(adapter)) is not None:
            observer(answer)
    return answers


async def _settle(tasks: list[asyncio.Task[Answer]], limit_s: float) -> set[asyncio.Task[Answer]]:
    """Wait for ``tasks`` at most ``limit_s``; cancel and return those still running then.

    Sources end by the deadline themselves, so this one timer for the whole fan-out only
    catches a bug. If the request itself is cancelled, every source is cancelled with it.
    """
    if not tasks:
        return set()
    try:
        _, pending = await asyncio.wait(tasks, timeout=limit_s)
    except BaseException:  # the request was cancelled: so are its sources
        await _cancel(tasks)
        raise
    if pending:
        await _cancel(pending)
    return pending


async def _cancel(tasks: Collection[asyncio.Task[Answer]]) -> None:
    """Cancel ``tasks``; give them one grace to unwind (free a slot, tell a breaker), no more."""
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=GUARD_GRACE_S)


def _overran(
    base: _Origin, query: SourceQuery, started: float, clock: Callable[[], datetime]
) -> Answer:
    """The answer of a source still running at the deadline plus grace (a bug: it was cancelled)."""
    log.warning("source_overran_deadline", source=base.source, timeout_s=query.timeout_s)
    error = SourceTimeout(f"no answer within {query.timeout_s:.3f}s")
    return _from_outcome(base, Outcome(error=error), started, clock)


def _ask(
    adapter: Adapter, query: SourceQuery, clock: Callable[[], datetime], base: _Origin
) -> Coroutine[Any, Any, Answer]:
    """The coroutine asking ``adapter``: a guarded source reports its own outcome."""
    if isinstance(adapter, ResilientAdapter):
        return _ask_guarded(adapter, query, clock, base)
    return _ask_plain(adapter, query, clock, base)


async def _ask_plain(
    adapter: Adapter,
    query: SourceQuery,
    clock: Callable[[], datetime],
    base: _Origin,
) -> Answer:
    """Run one adapter's fetch under the deadline and decode; every outcome becomes an Answer."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(max(query.timeout_s, 0.0)):
            raw = await adapter.fetch(query)
    except TimeoutError:
        return _failed(
            base, AnswerStatus.TIMEOUT, f"no answer within {query.timeout_s:.3f}s", started, clock
        )
    except AdapterError as exc:
        return _failed(base, exc.status, str(exc) or type(exc).__name__, started, clock)
    except Exception as exc:  # a bug in a plug-in must not fail the request
        log.exception("adapter_crashed", source=adapter.name)
        return _failed(
            base, AnswerStatus.UNAVAILABLE, f"adapter error: {type(exc).__name__}", started, clock
        )
    answer = _answer(base, AnswerStatus.OK, "", started, clock, raw=raw, attempts=raw.attempts)
    return decode_answer(adapter, answer)


async def _ask_guarded(
    adapter: ResilientAdapter,
    query: SourceQuery,
    clock: Callable[[], datetime],
    base: _Origin,
) -> Answer:
    """A guarded source keeps its own deadline; the outcome says how it went (attempts, circuit)."""
    started = time.perf_counter()
    try:
        outcome = await adapter.call(query)
    except Exception as exc:  # a bug in a plug-in must not fail the request
        log.exception("adapter_crashed", source=adapter.name)
        outcome = Outcome(error=AdapterError(f"adapter error: {type(exc).__name__}"), attempts=1)
    return _from_outcome(base, outcome, started, clock)


def _from_outcome(
    base: _Origin, outcome: Outcome, started: float, clock: Callable[[], datetime]
) -> Answer:
    error = outcome.error
    return _answer(
        base,
        error.status if error is not None else AnswerStatus.OK,
        (str(error) or type(error).__name__) if error is not None else "",
        started,
        clock,
        raw=outcome.raw,
        attempts=outcome.attempts,
        records=outcome.records,
        circuit_open=outcome.circuit_open,
        throttled=outcome.throttled,
    )


def decode_answer(adapter: Adapter, answer: Answer) -> Answer:
    """Decode the raw bytes of an OK answer into records (pure; replay calls it too)."""
    if answer.status is not AnswerStatus.OK:
        return answer
    try:
        records = adapter.decode(answer.raw)
    except AdapterError as exc:
        return dataclasses.replace(answer, status=exc.status, error=str(exc) or type(exc).__name__)
    return dataclasses.replace(answer, records=records)


@dataclasses.dataclass(frozen=True, slots=True)
class _Origin:
    """Who answered: the part of an Answer known before the source is asked."""

    source: str
    category: str
    department: str
    adapter_version: str


def _origin(adapter: Adapter, version: str) -> _Origin:
    return _Origin(adapter.name, str(adapter.category), adapter.department, version)


def _answer(
    base: _Origin,
    status: AnswerStatus,
    error: str,
    started: float,
    clock: Callable[[], datetime],
    *,
    raw: RawAnswer | None,
    attempts: int,
    records: tuple[Record, ...] = (),
    circuit_open: bool = False,
    throttled: bool = False,
) -> Answer:
    """The one place an Answer is built from its origin (no ``asdict``: it deep-copies)."""
    return Answer(
        source=base.source,
        category=base.category,
        department=base.department,
        adapter_version=base.adapter_version,
        status=status,
        error=error,
        raw=raw.body if raw is not None else b"",
        as_of=raw.as_of if raw is not None else None,
        fetched_at=clock(),
        latency_us=_elapsed_us(started),
        attempts=attempts,
        records=records,
        circuit_open=circuit_open,
        throttled=throttled,
    )


def _failed(
    base: _Origin,
    status: AnswerStatus,
    error: str,
    started: float,
    clock: Callable[[], datetime],
) -> Answer:
    return _answer(base, status, error, started, clock, raw=None, attempts=1)


def _elapsed_us(started: float) -> int:
    return int((time.perf_counter() - started) * 1_000_000)
