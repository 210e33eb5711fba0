"""A declarative SQL-view source: a department's shared database view, read with SQLAlchemy.

``fetch`` runs the configured query with ``:id_numbers`` bound as an expanding parameter (one
placeholder per ID number, never string-built SQL) and ``:as_of`` if the query uses it, and
returns the rows as RFC 8785 canonical JSON ``{"rows": [{column: value}, …]}`` — the exact bytes
stored and replayed. Dates become ISO strings, exact decimals strings. ``decode`` maps the
stored rows with the configured column → field mapping, as the HTTP-JSON source maps JSON.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import rfc8785
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.base import (
    AdapterError,
    MalformedAnswer,
    RawAnswer,
    SourceNotFound,
    SourceQuery,
    SourceTimeout,
)
from adapters.declarative._mapping import decode_records, parse
from adapters.declarative._spec import SqlViewSourceSpec
from adapters.records import Record
from adapters.resilience import TransientError

__all__ = ["SqlViewSource", "async_dsn", "rows_json"]

_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_DRIVERS |= {"sqlite": "sqlite+aiosqlite"}


def async_dsn(dsn: str) -> str:
    """``dsn`` with an asyncio driver (``postgresql://`` → asyncpg, ``sqlite://`` → aiosqlite)."""
    scheme, sep, rest = dsn.partition("://")
    return f"{_DRIVERS.get(scheme, scheme)}{sep}{rest}"


def _plain(value: Any) -> Any:
    """A column value as JSON: dates ISO, decimals as exact strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return value


def rows_json(rows: list[dict[str, Any]]) -> bytes:
    """The canonical bytes of fetched rows."""
    return bytes(rfc8785.dumps({"rows": [{k: _plain(v) for k, v in r.items()} for r in rows]}))


class SqlViewSource:
    """An :class:`~adapters.base.Adapter` built from a :class:`SqlViewSourceSpec`."""

    def __init__(self, name: str, spec: SqlViewSourceSpec) -> None:
        self.name, self.spec = name, spec
        self.category, self.department = spec.category, spec.department
        self._engine: AsyncEngine = create_async_engine(async_dsn(spec.dsn))
        statement = text(spec.query).bindparams(bindparam("id_numbers", expanding=True))
        self._statement = statement
        self._binds_as_of = bool(re.search(r"(?<![:\w]):as_of\b", spec.query))

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """Run the query; the canonical JSON of its rows, or an AdapterError."""
        if query.timeout_s <= 0:
            raise SourceTimeout(f"{self.department}: no time left to ask")
        params: dict[str, Any] = {"id_numbers": [s.id_number for s in query.subjects]}
        if self._binds_as_of:
            params["as_of"] = query.as_of
        try:
            async with asyncio.timeout(query.timeout_s):
                rows = await self._rows(params)
        except TimeoutError as exc:
            raise SourceTimeout(
                f"{self.department}: no rows within {query.timeout_s:.3f}s"
            ) from exc
        except (DBAPIError, OSError) as exc:
            raise _db_error(self.department, exc) from exc
        except SQLAlchemyError as exc:
            raise AdapterError(f"{self.department}: {type(exc).__name__}: {exc}") from exc
        if not rows and query.subjects:
            raise SourceNotFound(f"{self.department}: no rows for any subject")
        return RawAnswer(body=rows_json(rows), department=self.department)

    async def _rows(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(self._statement, params)
            return [dict(row) for row in result.mappings()]

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """The mapped records of the stored rows (pure)."""
        doc = parse(raw)
        if not isinstance(doc.get("rows"), list):
            raise MalformedAnswer("$.rows: expected a list of rows")
        return decode_records(self.spec, doc, "rows[]")

    async def aclose(self) -> None:
        """Close the connection pool (again is harmless)."""
        await self._engine.dispose()


def _db_error(department: str, exc: BaseException) -> AdapterError:
    """Lost connections are worth a retry; anything else the database said is not."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200] if str(exc) else ""
    connection = isinstance(exc, OSError) or bool(getattr(exc, "connection_invalidated", False))
    connection = connection or type(exc).__name__ in ("OperationalError", "InterfaceError")
    if connection:
        return TransientError(f"{department}: database unreachable: {reason}")
    return AdapterError(f"{department}: database error: {reason}")
