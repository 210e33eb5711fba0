"""Declarative sources: an HTTP-JSON API or a shared database view, configured, not programmed.

An administrator describes the department under ``[sources.<name>]`` (see ``docs/adapters.md``,
"Declarative sources"): ``kind = "http_json"`` (endpoint, method, body template) or
``kind = "sql_view"`` (DSN, query binding ``:id_numbers``), and a mapping from the department's
fields or columns to one of the typed records in :mod:`adapters.records`. The result is a real
:class:`~adapters.base.Adapter`: ``fetch`` returns exact bytes, ``decode`` is pure, the gateway
wraps it in the same resilience layer and it passes the same conformance suite. Nothing here
imports ``gateway``.
"""

from __future__ import annotations

import hashlib

import httpx

from adapters.base import Adapter
from adapters.declarative._http_json import HttpJsonSource, fill_template
from adapters.declarative._mapping import convert, decode_records, items, parse, read_path
from adapters.declarative._spec import (
    CONVERSIONS,
    DeclarativeSpec,
    FieldSpec,
    HttpJsonSourceSpec,
    SqlViewSourceSpec,
)
from adapters.declarative._sql_view import SqlViewSource, async_dsn, rows_json

__all__ = [
    "CONVERSIONS",
    "DeclarativeSpec",
    "FieldSpec",
    "HttpJsonSource",
    "HttpJsonSourceSpec",
    "SqlViewSource",
    "SqlViewSourceSpec",
    "async_dsn",
    "build_source",
    "convert",
    "decode_records",
    "fill_template",
    "items",
    "parse",
    "read_path",
    "rows_json",
    "spec_digest",
]


def build_source(
    name: str,
    spec: HttpJsonSourceSpec | SqlViewSourceSpec,
    base_url: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
) -> Adapter:
    """The adapter ``spec`` describes (``base_url`` for an HTTP endpoint given as a path)."""
    if isinstance(spec, SqlViewSourceSpec):
        return SqlViewSource(name, spec)
    return HttpJsonSource(name, spec, base_url, transport)


def spec_digest(spec: HttpJsonSourceSpec | SqlViewSourceSpec) -> str:
    """A short digest of the spec: its "version" in reports (changes when the mapping does)."""
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:12]
