"""Alembic migrations create exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from audit.sql import metadata as audit_metadata
from gateway import migrate
from gateway.db import create_engine
from gateway.models import metadata as gateway_metadata


@pytest.mark.asyncio
async def test_upgrade_head_matches_models(db_url: str) -> None:
    """After `upgrade head` autogenerate finds no difference between models and database."""
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) is not None
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync), [gateway_metadata, audit_metadata]
                )
            )
        assert diff == []
        await migrate.upgrade(engine)  # idempotent
    finally:
        await engine.dispose()
