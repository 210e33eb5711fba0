"""The adapter conformance suite, shipped for adapter authors (re-exported by adapters.testing).

Subclass :class:`AdapterConformance` in a test module and give it two fixtures: ``adapter``
(a fresh adapter, pointed at a department or the simulator) and ``query`` (a query naming
subjects the department knows)::

    class TestMyAdapter(AdapterConformance):
        @pytest_asyncio.fixture
        async def adapter(self, sim) -> AsyncIterator[Adapter]:
            made = MyAdapter(AdapterConfig(name="mine", base_url=sim.base_url))
            yield made
            await made.aclose()

        @pytest.fixture
        def query(self, sim) -> SourceQuery:
            return make_query(*known_id_numbers)

Each test states one rule of the contract in :mod:`adapters.base`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect

import pytest

from adapters.base import Adapter, AdapterError, MalformedAnswer, SourceCategory, SourceQuery
from adapters.records import RECORD_TYPES, record_from_dict, record_to_dict
from adapters.resilience import ResilientAdapter

__all__ = ["GARBAGE", "AdapterConformance"]

#: Bytes no department API promises: every adapter's decode must refuse them.
GARBAGE = (
    b"",
    b"<html><body>502 Bad Gateway</body></html>",
    b'{"errcode": 0, "data": {"rows": []}}',
    b"[]",
    b"\xff\xfe\x00",
)


class AdapterConformance:
    """The rules every adapter follows; needs ``adapter`` and ``query`` fixtures."""

    def test_declares_name_category_and_department(self, adapter: Adapter) -> None:
        """An adapter has a non-empty name, a SourceCategory and the department's name."""
        assert isinstance(adapter, Adapter), "lacks part of the Adapter protocol"
        assert isinstance(adapter.name, str)
        assert adapter.name
        assert isinstance(adapter.category, SourceCategory)
        assert isinstance(adapter.department, str)
        assert adapter.department

    def test_method_signatures(self, adapter: Adapter) -> None:
        """fetch(query) and aclose() are coroutines; decode(raw) is a plain function."""
        assert inspect.iscoroutinefunction(adapter.fetch)
        assert inspect.iscoroutinefunction(adapter.aclose)
        assert not inspect.iscoroutinefunction(adapter.decode)
        assert len(inspect.signature(adapter.fetch).parameters) == 1
        assert len(inspect.signature(adapter.decode).parameters) == 1

    @pytest.mark.asyncio
    async def test_fetch_returns_the_exact_bytes(
        self, adapter: Adapter, query: SourceQuery
    ) -> None:
        """fetch answers a RawAnswer holding bytes, with at least one attempt."""
        raw = await adapter.fetch(query)
        assert isinstance(raw.body, bytes)
        assert raw.body
        assert raw.attempts >= 1

    @pytest.mark.asyncio
    async def test_decode_is_pure(self, adapter: Adapter, query: SourceQuery) -> None:
        """The same bytes decode to equal records, twice, and some records come back."""
        raw = await adapter.fetch(query)
        first = adapter.decode(raw.body)
        assert first == adapter.decode(bytes(raw.body))
        assert first, "the query names known subjects: expected records"

    @pytest.mark.asyncio
    async def test_records_are_typed_and_about_the_subjects(
        self, adapter: Adapter, query: SourceQuery
    ) -> None:
        """Every record is a known record type about a queried subject and round-trips."""
        subjects = {s.id_number for s in query.subjects}
        for record in adapter.decode((await adapter.fetch(query)).body):
            assert type(record) in RECORD_TYPES.values()
            assert record.subject_id in subjects
            assert record_from_dict(record_to_dict(record)) == record

    @pytest.mark.asyncio
    async def test_truncated_answer_is_malformed(
        self, adapter: Adapter, query: SourceQuery
    ) -> None:
        """The answer cut in half raises MalformedAnswer (never another exception)."""
        raw = await adapter.fetch(query)
        with pytest.raises(MalformedAnswer):
            adapter.decode(raw.body[: len(raw.body) // 2])

    @pytest.mark.parametrize("garbage", GARBAGE)
    def test_garbage_is_malformed(self, adapter: Adapter, garbage: bytes) -> None:
        """Empty bytes, HTML, another JSON shape and broken UTF-8 raise MalformedAnswer."""
        with pytest.raises(MalformedAnswer):
            adapter.decode(garbage)

    @pytest.mark.asyncio
    async def test_no_time_left_fails_as_an_adapter_error(
        self, adapter: Adapter, query: SourceQuery
    ) -> None:
        """With no time left fetch answers at once or raises an AdapterError, nothing else."""
        with contextlib.suppress(AdapterError):
            await adapter.fetch(dataclasses.replace(query, timeout_s=0.0))

    @pytest.mark.asyncio
    async def test_works_behind_the_resilience_layer(
        self, adapter: Adapter, query: SourceQuery
    ) -> None:
        """Wrapped as the gateway wraps it, the adapter answers in one attempt."""
        outcome = await ResilientAdapter(adapter).call(query)
        assert outcome.error is None, str(outcome.error)
        assert outcome.attempts == 1
        assert outcome.records

    @pytest.mark.asyncio
    async def test_aclose_may_be_called_twice(self, adapter: Adapter, query: SourceQuery) -> None:
        """Closing after use, and closing again, raises nothing."""
        await adapter.fetch(query)
        await adapter.aclose()
        await adapter.aclose()
