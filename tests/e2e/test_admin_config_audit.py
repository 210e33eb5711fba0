"""AdapterConfigChanged leaves: appended at start-up only for sources whose config changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit.events import AdapterConfigChanged, parse_entry
from gateway.app import Gateway
from gateway.config import load_settings


async def config_leaves(tmp_path: Path, **adapters: Any) -> list[AdapterConfigChanged]:
    """Open and close a gateway on the same database; every config leaf in its log so far."""
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        key_dir=tmp_path / "keys",
        metrics_listen="",
        adapters=adapters,
    )
    gateway = await Gateway.open(settings)
    try:
        entries = await gateway.audit_log.entries(0, await gateway.audit_log.size())
    finally:
        await gateway.close()
    events = [parse_entry(e) for e in entries]
    return [e for e in events if isinstance(e, AdapterConfigChanged)]


@pytest.mark.asyncio
async def test_config_changes_are_recorded_once(tmp_path: Path) -> None:
    """The first start records every source; a restart records nothing; a change records one."""
    first = await config_leaves(tmp_path)
    assert {e.adapter for e in first} >= {"bank", "hukou", "vehicle"}
    assert len(await config_leaves(tmp_path)) == len(first)
    changed = await config_leaves(tmp_path, bank={"resilience": {"daily_quota": 10}})
    assert [e.adapter for e in changed[len(first) :]] == ["bank"]
    assert changed[-1].change_digest != next(e for e in first if e.adapter == "bank").change_digest


@pytest.mark.asyncio
async def test_secrets_do_not_change_the_digest_input(tmp_path: Path) -> None:
    """The digest is over the masked configuration: a rotated token alone is not recorded."""
    await config_leaves(tmp_path, bank={"options": {"headers": {"Authorization": "Bearer a"}}})
    again = await config_leaves(
        tmp_path, bank={"options": {"headers": {"Authorization": "Bearer b"}}}
    )
    assert [e.adapter for e in again].count("bank") == 1
