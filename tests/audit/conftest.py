"""Fixtures for the audit tests: an engine with the audit tables on both backends, a note key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audit.note import NoteSigner
from audit.sql import metadata

ORIGIN = "hedui.test/audit"


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An async engine on an empty database holding the audit tables."""
    eng = create_async_engine(db_url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def signer() -> NoteSigner:
    """A fresh Ed25519 note key named after the test log's origin."""
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
