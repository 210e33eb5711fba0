"""Migration 0003 splits each stored DSSE envelope into payload, type and signatures, losslessly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
import sqlalchemy as sa
from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import dsse
from audit.keys import Ed25519Signer
from gateway import migrate
from gateway.db import create_engine

AT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
_REQUESTS = sa.table(
    "requests",
    *(sa.column(c) for c in ("request_id", "fingerprint", "request_json", "accepted_at")),
    *(sa.column(c) for c in ("region_code", "category", "purpose", "leaf_index")),
)
_OLD_REPORTS = sa.table(
    "reports",
    *(sa.column(c) for c in ("report_id", "request_id", "created_at", "region_code", "category")),
    *(sa.column(c) for c in ("purpose", "complete", "finding_count", "sources_ok")),
    *(sa.column(c) for c in ("sources_total", "payload", "envelope", "leaf_index")),
)


@pytest_asyncio.fixture
async def at_0002(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A database at revision 0002 (reports still hold whole envelopes)."""
    engine = create_engine(db_url)
    await migrate.upgrade(engine, "0002")
    yield engine
    await engine.dispose()


def _envelope(payload: bytes) -> dsse.Envelope:
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    return dsse.sign(dsse.REPORT_PAYLOAD_TYPE, payload, [signer])


async def _insert_old(engine: AsyncEngine, n: int, payload: bytes, envelope: bytes) -> None:
    """A request and its report row as 0002 stored them."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(_REQUESTS),
            {
                "request_id": f"q{n}",
                "fingerprint": "f" * 64,
                "request_json": b"{}",
                "accepted_at": AT,
                "region_code": "610102",
                "category": "DIBAO",
                "purpose": "APPLICATION",
                "leaf_index": 2 * n,
            },
        )
        await conn.execute(
            sa.insert(_OLD_REPORTS),
            {
                "report_id": f"r{n:04d}",
                "request_id": f"q{n}",
                "created_at": AT,
                "region_code": "610102",
                "category": "DIBAO",
                "purpose": "APPLICATION",
                "complete": True,
                "finding_count": 0,
                "sources_ok": 7,
                "sources_total": 7,
                "payload": payload,
                "envelope": envelope,
                "leaf_index": 2 * n + 1,
            },
        )


async def _alembic(engine: AsyncEngine, verb: str, revision: str) -> None:
    action = {"upgrade": command.upgrade, "downgrade": command.downgrade}[verb]
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: action(migrate.alembic_config(sync), revision))


@pytest.mark.asyncio
async def test_upgrade_splits_envelopes_and_downgrade_joins_them(at_0002: AsyncEngine) -> None:
    """Every row (more than one batch) rebuilds its exact envelope JSON, both ways."""
    envelopes = [_envelope(b'{"report":%d}' % n) for n in range(1203)]
    for n, envelope in enumerate(envelopes):
        await _insert_old(at_0002, n, envelope.payload, envelope.to_json())
    await migrate.upgrade(at_0002)
    async with at_0002.connect() as conn:
        rows = (
            await conn.execute(
                sa.text("SELECT payload, payload_type, signatures FROM reports ORDER BY report_id")
            )
        ).all()
    rebuilt = [dsse.Envelope.from_parts(t, bytes(p), bytes(s)) for p, t, s in rows]
    assert [e.to_json() for e in rebuilt] == [e.to_json() for e in envelopes]
    await _alembic(at_0002, "downgrade", "0002")
    async with at_0002.connect() as conn:
        old = (await conn.execute(sa.text("SELECT envelope FROM reports ORDER BY report_id"))).all()
    assert [bytes(e) for (e,) in old] == [e.to_json() for e in envelopes]


@pytest.mark.asyncio
async def test_upgrade_stops_at_a_payload_changed_after_signing(at_0002: AsyncEngine) -> None:
    """A payload copy that differs from its envelope stops the upgrade, naming the report."""
    envelope = _envelope(b'{"complete":true}')
    await _insert_old(at_0002, 7, b'{"complete":false}', envelope.to_json())
    with pytest.raises(RuntimeError, match=r"report r0007: reports\.payload differs"):
        await migrate.upgrade(at_0002)
    assert await migrate.current_revision(at_0002) == "0002"
