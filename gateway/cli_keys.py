"""`hedui keys rotate`: retire a role's key, create its successor, log both in the audit log."""

from __future__ import annotations

import asyncio
import enum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from audit.events import KeyCreated, KeyRetired, entry_bytes
from audit.sql import SqlStorage
from gateway.cli_text import reflow
from gateway.config import Settings, load_settings
from gateway.keyring import KeyRecord, KeyRing

__all__ = ["Role", "keys_rotate", "rotate_and_record"]


class Role(enum.StrEnum):
    report = "report"
    checkpoint = "checkpoint"


async def rotate_and_record(settings: Settings, role: str) -> tuple[KeyRecord, KeyRecord, int]:
    """Rotate `role` in the key directory; append KeyRetired and KeyCreated leaves.

    Returns the retired and the new key record and the index of the KeyRetired leaf.
    """
    from gateway import migrate
    from gateway.db import create_engine

    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)  # the log's tables exist before the keys change
        retired, new = KeyRing(settings.key_dir).rotate(role)
        assert retired.retired_at is not None
        entries = [
            entry_bytes(
                KeyRetired(key_id=retired.keyid, algorithm="ed25519", at=retired.retired_at)
            ),
            entry_bytes(KeyCreated(key_id=new.keyid, algorithm="ed25519", at=new.created_at)),
        ]
        first = await SqlStorage(engine).append(entries)
    finally:
        await engine.dispose()
    return retired, new, first


def keys_rotate(
    role: Annotated[Role, typer.Option("--role", help="which key to rotate")],
) -> None:
    """Retire the current key of a role and create a new one; both changes become log leaves.

    The retired key stays published (`hedui keys export --all`, `ListSigningKeys`), so
    everything it signed stays verifiable. Restart running gateways to sign with the new key.
    """
    console, settings = Console(), load_settings()
    if not (settings.key_dir / "keys.json").exists():
        console.print(f"[red]✗[/] no gateway keys in {settings.key_dir} (set HEDUI_KEY_DIR)")
        raise typer.Exit(1)
    retired, new, leaf = asyncio.run(rotate_and_record(settings, role.value))
    table = Table(title=f"{role.value} key rotated")
    for column in ("", "key id", "time", "audit leaf"):
        table.add_column(column)
    table.add_row("retired", retired.keyid, str(retired.retired_at), str(leaf))
    table.add_row("created", new.keyid, str(new.created_at), str(leaf + 1))
    console.print(table)
    console.print("restart running gateways so that they sign with the new key")


keys_rotate.__doc__ = reflow(keys_rotate.__doc__)  # typer shows it as the help text
