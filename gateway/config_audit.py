"""``AdapterConfigChanged`` leaves: one per source whose effective configuration changed.

At start-up the gateway compares each source's digest (:func:`gateway.config_view.adapter_digests`)
with the last one recorded in the audit log and appends a leaf for every source that is new or
different. The last digests are found by reading the log's ``adapter_config_changed`` leaves
(few, and read once per start).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.events import AdapterConfigChanged, entry_bytes, parse_entry
from audit.sql import SqlStorage, leaves

__all__ = ["last_recorded_digests", "record_config_changes"]

_MARK = '"type":"adapter_config_changed"'  # as it appears in the canonical (RFC 8785) leaf


def _is_config_leaf(dialect: str) -> ColumnElement[bool]:
    """SQL: the leaf's bytes (UTF-8 JSON) contain the event type."""
    text = (
        func.convert_from(leaves.c.entry, "UTF8")
        if dialect == "postgresql"
        else cast(leaves.c.entry, Text)
    )
    return text.like(f"%{_MARK}%")


async def last_recorded_digests(engine: AsyncEngine) -> dict[str, str]:
    """Adapter name → the ``change_digest`` of its latest ``AdapterConfigChanged`` leaf."""
    query = select(leaves.c.entry).where(_is_config_leaf(engine.dialect.name))
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(leaves.c.idx))).scalars().all()
    out: dict[str, str] = {}
    for entry in rows:
        event = parse_entry(bytes(entry))
        if isinstance(event, AdapterConfigChanged):
            out[event.adapter] = event.change_digest
    return out


async def record_config_changes(
    engine: AsyncEngine,
    audit_log: SqlStorage,
    digests: Mapping[str, str],
    clock: Callable[[], datetime],
    by: str = "gateway start-up",
) -> list[str]:
    """Append a leaf for every source whose digest differs from the last recorded; their names."""
    last = await last_recorded_digests(engine)
    changed = sorted(name for name, digest in digests.items() if last.get(name) != digest)
    at = clock()
    entries = [
        entry_bytes(AdapterConfigChanged(adapter=n, change_digest=digests[n], by=by, at=at))
        for n in changed
    ]
    if entries:
        await audit_log.append(entries)
    return changed
