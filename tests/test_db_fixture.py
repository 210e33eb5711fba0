"""The shared database fixture gives a usable, empty database on both backends."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.mark.asyncio
async def test_db_url_is_usable(db_url: str) -> None:
    """A fresh database accepts a connection and a trivial query."""
    engine = create_async_engine(db_url)
    async with engine.connect() as conn:
        assert (await conn.execute(text("select 1"))).scalar() == 1
    await engine.dispose()
