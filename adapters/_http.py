"""HTTP-JSON plumbing shared by the built-in adapters: one place for transport and parsing.

:class:`HttpJsonAdapter` does everything but the mapping. ``fetch`` POSTs the shared request
shape (see :mod:`adapters.simulator.departments`) to ``base_url + path`` with the request's
remaining time as the httpx timeout, and translates foreign errors once, cause chained:

==========================================  ======================================
what happened                               raised
==========================================  ======================================
HTTP 401 / 403                              :class:`SourceDenied`
HTTP 404 (no record for any subject)        :class:`SourceNotFound`
HTTP 429                                    :class:`SourceThrottled` (Retry-After)
other non-2xx, connection errors            :class:`AdapterError`
httpx timeout (connect, read, write, pool)  :class:`SourceTimeout`
==========================================  ======================================

``decode`` parses with :class:`JsonReader`, which raises :class:`MalformedAnswer` naming the
JSON path for bad JSON, truncated bodies and any schema mismatch; money is read with
:class:`decimal.Decimal` (never a float) and converted exactly to fen.
"""

from __future__ import annotations

import functools
import json
import re
import ssl
from collections.abc import Awaitable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import certifi
import httpx
import orjson

from adapters._transport import (
    DEFAULT_HEADERS,
    AiohttpTransport,
    JsonPost,
    StatusError,
    endpoint,
    post,
)
from adapters.base import (
    AdapterConfig,
    AdapterError,
    MalformedAnswer,
    RawAnswer,
    SourceCategory,
    SourceDenied,
    SourceNotFound,
    SourceQuery,
    SourceThrottled,
    SourceTimeout,
)
from adapters.records import Record

__all__ = ["HttpJsonAdapter", "JsonReader", "parse_json", "send"]

T = TypeVar("T")
_DECIMAL = re.compile(r"-?\d+(\.\d{1,2})?")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every adapter: loading the CA bundle costs tens of milliseconds."""
    return ssl.create_default_context(cafile=certifi.where())


def parse_json(raw: bytes) -> JsonReader:
    """Parse a department's bytes (UTF-8 JSON; floats as Decimal) or raise MalformedAnswer."""
    try:
        return JsonReader(json.loads(raw, parse_float=Decimal), "$")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedAnswer(f"not JSON ({len(raw)} bytes): {exc}") from exc


def _parse_for_peek(raw: bytes) -> JsonReader:
    """``parse_json`` for reading two strings: orjson (≈4× faster) parses, json is the fallback.

    Where orjson succeeds, json gives the same strings; for what only json accepts (NaN, a
    UTF-16 body, integers past 64 bits) json parses as before. Money is never read from this.
    """
    try:
        return JsonReader(orjson.loads(raw), "$")
    except orjson.JSONDecodeError:
        return parse_json(raw)


class JsonReader:
    """A JSON object read field by field; every mismatch raises MalformedAnswer with its path."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise MalformedAnswer(f"{path}: expected an object, found {type(value).__name__}")
        self._value: dict[str, Any] = value
        self.path = path

    def _get(self, key: str, kind: type[T] | tuple[type, ...], what: str) -> Any:
        value = self._value.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise MalformedAnswer(f"{self.path}.{key}: expected {what}, found {value!r:.40}")
        return value

    def has(self, key: str) -> bool:
        """Whether the key is present (and not null)."""
        return self._value.get(key) is not None

    def obj(self, key: str) -> JsonReader:
        """A nested object."""
        return JsonReader(self._value.get(key), f"{self.path}.{key}")

    def objects(self, key: str) -> list[JsonReader]:
        """A list of objects."""
        items = self._get(key, list, "a list")
        return [JsonReader(item, f"{self.path}.{key}[{i}]") for i, item in enumerate(items)]

    def text(self, key: str) -> str:
        """A string."""
        return str(self._get(key, str, "a string"))

    def integer(self, key: str) -> int:
        """An integer (a JSON ``true`` is not one)."""
        return int(self._get(key, int, "an integer"))

    def flag(self, key: str) -> bool:
        """A boolean."""
        return bool(self._get(key, bool, "a boolean"))

    def day(self, key: str) -> date:
        """An ISO date ``YYYY-MM-DD``."""
        value = self.text(key)
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise MalformedAnswer(
                f"{self.path}.{key}: expected an ISO date, found {value!r}"
            ) from exc

    def hundredths(self, key: str) -> int:
        """A decimal with at most two places ("12.34" or the JSON number 12.34) as an int × 100."""
        value = self._get(key, (str, int, Decimal), "a decimal amount")
        if isinstance(value, str) and not _DECIMAL.fullmatch(value):
            raise MalformedAnswer(f"{self.path}.{key}: expected a decimal amount, found {value!r}")
        try:
            scaled = Decimal(value) * 100
        except InvalidOperation as exc:
            raise MalformedAnswer(f"{self.path}.{key}: not a number: {value!r}") from exc
        if scaled != scaled.to_integral_value():
            raise MalformedAnswer(f"{self.path}.{key}: more than two decimal places: {value}")
        return int(scaled)

    def code(self, key: str, table: Mapping[str, T]) -> T:
        """A code looked up in ``table``; an unknown code is a schema mismatch."""
        value = self.text(key)
        if value not in table:
            raise MalformedAnswer(
                f"{self.path}.{key}: unknown code {value!r}, expected one of {sorted(table)}"
            )
        return table[value]


class HttpJsonAdapter:
    """Base of the built-in adapters. Subclasses set the class attributes and ``map_entry``.

    ``config.options`` may hold ``transport`` (an ``httpx.AsyncBaseTransport``, e.g. a
    ``MockTransport`` in tests), ``path`` (overrides the department path) and ``headers``.
    """

    category: SourceCategory
    department: str
    path: str
    #: Keys of the answer document: the department's name, its as-of date, the per-subject list.
    envelope: tuple[str, str, str]

    def __init__(self, config: AdapterConfig) -> None:
        self.name = config.name
        self._config = config
        self._path = str(config.options.get("path", self.path))
        # One transport per adapter (connection pool, keep-alive), made now rather than inside
        # the first request: the TLS context loads CA certificates, which blocks the event loop.
        # Requests go to it straight: httpx.AsyncClient would merge URLs, headers and cookies
        # and run its auth and redirect machinery on every call, for nothing these APIs use.
        transport = config.options.get("transport") or AiohttpTransport(_tls_context())
        self._transport: httpx.AsyncBaseTransport = transport
        headers = {
            **DEFAULT_HEADERS,
            "Accept": "application/json",
            **dict(config.options.get("headers", {})),
            "Content-Type": "application/json",
        }
        self._post = JsonPost(endpoint(config.base_url, self._path), headers)

    def map_entry(self, entry: JsonReader) -> Iterable[Record]:
        """The records in one per-subject entry of the answer."""
        raise NotImplementedError

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """POST the query; the exact answer bytes, or an AdapterError (table in module doc)."""
        if query.timeout_s <= 0:
            raise SourceTimeout(f"{self.department}: no time left to ask")
        call = post(
            self._transport, self._post, query.request_id, _request_body(query), query.timeout_s
        )
        body, content_type = await send(self.department, query.timeout_s, call)
        department, as_of = self._peek(body)
        if content_type is None:
            content_type = "application/json"
        return RawAnswer(body=body, content_type=content_type, department=department, as_of=as_of)

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """The answer's records, in the department's order; MalformedAnswer if it is not one."""
        doc = parse_json(raw)
        name_key, as_of_key, list_key = self.envelope
        doc.text(name_key)  # every answer names its department …
        doc.day(as_of_key)  # … and the date its data stand on (核对时点)
        return tuple(record for entry in doc.objects(list_key) for record in self.map_entry(entry))

    def _peek(self, body: bytes) -> tuple[str, date | None]:
        """The department's own name and as-of date, if the body has them (decode checks)."""
        name_key, as_of_key, _ = self.envelope
        try:
            doc = _parse_for_peek(body)
            return doc.text(name_key), doc.day(as_of_key)
        except MalformedAnswer:
            return self.department, None

    async def aclose(self) -> None:
        """Close the connection pool (if a fetch ever opened one)."""
        await self._transport.aclose()


def _request_body(query: SourceQuery) -> bytes:
    """The shared department request (persons, as-of time, purpose, authorization)."""
    body = {
        "request_id": query.request_id,
        "id_numbers": [s.id_number for s in query.subjects],
        "as_of": query.as_of.isoformat(),
        "purpose": query.purpose,
        "authorization_ref": query.authorization_ref,
    }
    return orjson.dumps(body)  # UTF-8 without \u escapes, as before; compact separators


async def send(department: str, timeout_s: float, call: Awaitable[T]) -> T:
    """Await one HTTP call; its result, or the AdapterError for what went wrong (module doc).

    ``call`` raises httpx's errors, ``HTTPStatusError`` for a non-2xx answer included (see
    :func:`adapters._transport.post`). The one place where httpx errors become adapter errors
    (the cause stays chained, so the resilience layer can tell a connect error or a 503 from
    the rest).
    """
    try:
        return await call
    except httpx.TimeoutException as exc:
        raise SourceTimeout(f"{department}: no answer within {timeout_s:.3f}s") from exc
    except httpx.HTTPStatusError as exc:
        raise _status_error(department, *_status_of(exc)) from exc
    except httpx.HTTPError as exc:
        raise AdapterError(f"{department}: unreachable ({type(exc).__name__}: {exc})") from exc


def _status_of(exc: httpx.HTTPStatusError) -> tuple[int, str, str, bytes]:
    """Status, reason phrase, Retry-After and body of the answer; without httpx's objects when
    the transport raised a :class:`~adapters._transport.StatusError` (most 404s)."""
    if isinstance(exc, StatusError):
        return exc.status_code, exc.reason_phrase, exc.header("retry-after"), exc.body
    response = exc.response
    retry_after = response.headers.get("retry-after", "")
    return response.status_code, response.reason_phrase, retry_after, response.content


def _status_error(
    department: str, code: int, reason_phrase: str, retry_after: str, body: bytes
) -> AdapterError:
    """The AdapterError for a non-2xx answer, with the department's own error message."""
    what = f"{department}: HTTP {code} {_error_message(body, reason_phrase)}".rstrip()
    if code in (401, 403):
        return SourceDenied(what)
    if code == 404:
        return SourceNotFound(what)
    if code == 429:
        return SourceThrottled(what, float(retry_after) if retry_after.isdigit() else None)
    return AdapterError(what)


def _error_message(body: bytes, reason_phrase: str) -> str:
    """``CODE: message`` from a ``{"error": {"code", "message"}}`` body, else the reason phrase."""
    try:
        error = json.loads(body)["error"]
        return f"{error['code']}: {error['message']}"[:200]
    except (ValueError, KeyError, TypeError):
        return reason_phrase
