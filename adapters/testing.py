"""Test helpers for adapter users and authors: a fake adapter and the adapter conformance check.

* :class:`FakeAdapter` is a real :class:`~adapters.base.Adapter` that answers in-process from
  given records (no HTTP): its answer is JSON ``{"department", "as_of", "records": [...]}`` with
  each record as :func:`~adapters.records.record_to_dict`, and its ``decode`` gives the records
  back. Latency, a failure (any :class:`~adapters.base.AdapterError`) or a hang are attributes,
  changeable between calls. :func:`fake_adapters` builds one per built-in source.
* :func:`check_adapter` runs the contract every adapter must meet against one query;
  :class:`AdapterConformance` is the same contract as a pytest suite to subclass (see
  ``docs/adapters.md``).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterable
from datetime import date

import orjson

from adapters._conformance import GARBAGE, AdapterConformance
from adapters.base import (
    Adapter,
    AdapterError,
    MalformedAnswer,
    RawAnswer,
    SourceCategory,
    SourceNotFound,
    SourceQuery,
    Subject,
)
from adapters.records import RECORD_TYPES, Record, record_from_dict, record_to_dict

__all__ = [
    "BUILTIN_SOURCES",
    "GARBAGE",
    "AdapterConformance",
    "ConformanceError",
    "FakeAdapter",
    "check_adapter",
    "fake_adapters",
    "make_query",
]

#: The built-in sources: entry-point name → (category, department, record kind it answers with).
BUILTIN_SOURCES: dict[str, tuple[SourceCategory, str, str]] = {
    "hukou": (SourceCategory.HOUSEHOLD_REGISTRATION, "公安户籍", "registration"),
    "social_insurance": (SourceCategory.SOCIAL_INSURANCE, "人社社会保险", "insurance"),
    "vehicle": (SourceCategory.VEHICLE, "公安交管车辆", "vehicle"),
    "property": (SourceCategory.PROPERTY, "不动产登记", "property"),
    "funeral": (SourceCategory.FUNERAL, "民政殡葬", "death"),
    "housing_fund": (SourceCategory.HOUSING_FUND, "住房公积金中心", "housing_fund"),
    "bank": (SourceCategory.BANK, "金融机构存款", "bank_account"),
}


def make_query(
    *id_numbers: str,
    as_of: date = date(2025, 6, 30),
    timeout_s: float = 5.0,
    purpose: str = "APPLICATION",
    authorization_ref: str = "AUTH-TEST",
    request_id: str = "test-request",
) -> SourceQuery:
    """A query about ``id_numbers`` (names left empty) with test defaults."""
    return SourceQuery(
        request_id=request_id,
        subjects=tuple(Subject(i, "") for i in id_numbers),
        as_of=as_of,
        purpose=purpose,
        authorization_ref=authorization_ref,
        timeout_s=timeout_s,
    )


_BodyKey = tuple[str, date, tuple[str, ...]]  # department, as-of date, subjects' ID numbers
_BODIES_KEPT = 4096  # encoded answers a FakeAdapter keeps (forgets them all when full)


class FakeAdapter:
    """An in-process adapter answering from ``records`` (those about the queried subjects)."""

    def __init__(
        self,
        name: str,
        category: SourceCategory,
        records: Iterable[Record] = (),
        *,
        department: str = "",
        latency_s: float = 0.0,
        error: AdapterError | None = None,
        hang: bool = False,
        not_found_when_empty: bool = False,
    ) -> None:
        self.name, self.category, self.department = name, category, department or name
        self.latency_s, self.error, self.hang = latency_s, error, hang
        self.not_found_when_empty = not_found_when_empty
        self.calls: list[SourceQuery] = []
        self.closed = False
        self._by_subject: dict[str, list[str]] = {}
        for record in records:
            text = json.dumps(record_to_dict(record), ensure_ascii=False, separators=(",", ":"))
            self._by_subject.setdefault(record.subject_id, []).append(text)
        self._bodies: dict[_BodyKey, tuple[bytes, bool]] = {}

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """Wait ``latency_s``, then hang, raise ``error`` or answer from the records."""
        self.calls.append(query)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.hang:
            await asyncio.get_running_loop().create_future()  # until cancelled
        if self.error is not None:
            raise copy.copy(self.error)
        body, found = self._body(query)
        if not found and self.not_found_when_empty:
            raise SourceNotFound(f"{self.department}: no record for any of the subjects")
        return RawAnswer(body=body, department=self.department, as_of=query.as_of)

    def _body(self, query: SourceQuery) -> tuple[bytes, bool]:
        """The answer's bytes and whether any record was found, encoded once per subject set.

        A real department encodes on its own server; the pipeline benchmark uses this fake as
        one, so encoding on every call would bill the gateway for the department's work.
        """
        key = (self.department, query.as_of, tuple(s.id_number for s in query.subjects))
        if (known := self._bodies.get(key)) is None:
            if len(self._bodies) >= _BODIES_KEPT:
                self._bodies.clear()
            known = self._bodies[key] = self._encode(*key)
        return known

    def _encode(self, department: str, as_of: date, ids: tuple[str, ...]) -> tuple[bytes, bool]:
        found = [t for i in ids for t in self._by_subject.get(i, ())]
        head = json.dumps({"department": department, "as_of": as_of.isoformat()})
        return f'{head[:-1]},"records":[{",".join(found)}]}}'.encode(), bool(found)

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """The records of a :meth:`fetch` answer; MalformedAnswer for anything else."""
        if (records := _decode_plain(raw)) is not None:
            return records
        try:
            doc = json.loads(raw)
            date.fromisoformat(doc["as_of"])
            return tuple(record_from_dict(item) for item in doc["records"])
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise MalformedAnswer(f"{self.department}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Nothing to release; remembers that it was called."""
        self.closed = True


_PLAIN = frozenset({str, int, bool, type(None)})  # read alike by json and orjson (ints ≤ 64 bits)


def _decode_plain(raw: bytes) -> tuple[Record, ...] | None:
    """:meth:`FakeAdapter.decode` by orjson, or None for anything it might read differently.

    orjson parses the benchmark's answers in a third of json's time (hukou, 574 bytes: 6.8 →
    1.9 µs), and decode runs for every answer. The two agree on every document orjson accepts
    but one: an integer past 64 bits, which orjson reads as a float. So this takes only answers
    whose records hold plain scalars; everything else (floats, nesting, garbage, what orjson
    refuses) goes the json way, which gives json's records or raises json's error.
    """
    try:
        doc = orjson.loads(raw)
        date.fromisoformat(doc["as_of"])
        items = doc["records"]
        if type(items) is not list or not all(_is_plain(item) for item in items):
            return None
        return tuple(record_from_dict(item) for item in items)
    except Exception:  # whatever it is, the json way reports it as before
        return None


def _is_plain(item: object) -> bool:
    return type(item) is dict and _PLAIN.issuperset(map(type, item.values()))


def fake_adapters(
    records: Iterable[Record],
    *,
    latency_s: float = 0.0,
    error: AdapterError | None = None,
    hang: bool = False,
    not_found_when_empty: bool = False,
) -> list[FakeAdapter]:
    """Seven fakes standing in for the built-in adapters, each given the records of its kind.

    The keyword options apply to all seven; change one fake's attributes to single it out.
    """
    by_kind: dict[str, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    return [
        FakeAdapter(
            name,
            category,
            by_kind.get(kind, ()),
            department=dept,
            latency_s=latency_s,
            error=error,
            hang=hang,
            not_found_when_empty=not_found_when_empty,
        )
        for name, (category, dept, kind) in BUILTIN_SOURCES.items()
    ]


class ConformanceError(AssertionError):
    """An adapter broke its contract; the message says what was expected and what was found."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


async def check_adapter(adapter: Adapter, query: SourceQuery) -> tuple[Record, ...]:
    """Check the adapter contract on one query; return the decoded records.

    1. it has a ``name``, a :class:`SourceCategory` and a ``department`` name;
    2. ``fetch`` returns a :class:`RawAnswer` whose body is ``bytes``;
    3. ``decode`` is deterministic (twice the same bytes, twice equal records);
    4. every record is one of :data:`RECORD_TYPES`, about a queried subject, and survives
       ``record_to_dict`` / ``record_from_dict``;
    5. garbage (empty, not JSON, the answer cut in half) raises :class:`MalformedAnswer`.
    """
    _require(isinstance(adapter, Adapter), f"{adapter!r} lacks part of the Adapter protocol")
    _require(isinstance(adapter.name, str) and bool(adapter.name), f"name: {adapter.name!r}")
    _require(isinstance(adapter.category, SourceCategory), f"category: {adapter.category!r}")
    _require(isinstance(adapter.department, str), f"department: {adapter.department!r}")
    raw = await adapter.fetch(query)
    _require(isinstance(raw, RawAnswer), f"fetch returned {type(raw).__name__}, not RawAnswer")
    _require(isinstance(raw.body, bytes), f"RawAnswer.body is {type(raw.body).__name__}")
    records = adapter.decode(raw.body)
    _require(records == adapter.decode(bytes(raw.body)), "decode gave different records twice")
    subjects = {s.id_number for s in query.subjects}
    for record in records:
        _check_record(record, subjects)
    for garbage in (b"", b"<html>502</html>", raw.body[: len(raw.body) // 2]):
        _check_rejects(adapter, garbage)
    return records


def _check_record(record: Record, subjects: set[str]) -> None:
    _require(type(record) in RECORD_TYPES.values(), f"{type(record).__name__} is no record type")
    _require(record.subject_id in subjects, f"record about {record.subject_id!r}, not queried")
    _require(record_from_dict(record_to_dict(record)) == record, f"{record!r} does not round-trip")


def _check_rejects(adapter: Adapter, garbage: bytes) -> None:
    try:
        adapter.decode(garbage)
    except MalformedAnswer:
        return
    except Exception as exc:
        raise ConformanceError(
            f"decode({garbage[:20]!r}…) raised {exc!r}, not MalformedAnswer"
        ) from exc
    raise ConformanceError(f"decode({garbage[:20]!r}…) accepted garbage")
