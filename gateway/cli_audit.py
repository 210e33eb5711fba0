"""`hedui report export`, `hedui audit verify-bundle` and `hedui audit verify-log`.

Exit codes, as for every hedui command: 0 all checks passed, 1 a check failed (or the report,
database or file could not be read), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.errors import AuditError, TamperedEntry
from audit.sql import SqlStorage
from gateway.cli_text import command, fail, require_keys
from gateway.config import Settings, load_settings
from gateway.errors import GatewayError

__all__ = ["audit_app", "report_app"]

T = TypeVar("T")

report_app = typer.Typer(
    help="Signed reports: export evidence bundles.",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="Check the gateway's evidence: bundles offline, the audit log in the database.",
    no_args_is_help=True,
)


@command(report_app, "export")
def export(
    report_id: Annotated[str, typer.Argument(help="the report to export")],
    output: Annotated[Path, typer.Option("-o", "--output", help="bundle file to write")],
) -> None:
    """Write an offline evidence bundle for REPORT_ID (database and keys from the settings).

    The bundle holds the DSSE envelope, the canonical request, every raw source answer
    (base64, with its metadata), the report's audit-log leaf with an inclusion proof to the
    latest signed checkpoint, that checkpoint, and the public keys. Check it anywhere with
    `hedui audit verify-bundle`. The export is recorded in the audit log as a read.
    """
    from gateway.auditlog import AuditLog
    from gateway.bundle import export_bundle
    from gateway.keyring import KeyRing
    from gateway.store import Store

    console, settings = Console(), load_settings()
    require_keys(console, settings.key_dir)

    async def run(engine: AsyncEngine) -> bytes:
        storage = SqlStorage(engine)
        log = AuditLog(
            Store(engine, storage), storage, KeyRing(settings.key_dir), settings.log_origin
        )
        reader = f"hedui report export ({getpass.getuser()})"
        bundle = await export_bundle(log, report_id, reader, lambda: datetime.now(UTC))
        return bundle.to_json()

    data = _with_engine(settings, console, run)
    # a bundle holds full ID numbers, names and raw department answers: owner-readable only
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    console.print(f"[green]✓[/] bundle for {report_id} written to {output} ({len(data)} bytes)")


def _with_engine(
    settings: Settings, console: Console, work: Callable[[AsyncEngine], Awaitable[T]]
) -> T:
    """Run `work` on an engine for the settings' database; a failure exits 1, named."""
    from gateway.db import create_engine

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (GatewayError, AuditError) as exc:
        fail(console, _failure(exc))


@command(audit_app, "verify-bundle")
def verify_bundle(
    bundle_file: Annotated[Path, typer.Argument(help="a bundle from `hedui report export`")],
    key: Annotated[
        list[Path] | None,
        typer.Option("--key", help="trusted report public key (PEM file); repeatable"),
    ] = None,
    vkey: Annotated[
        list[str] | None,
        typer.Option("--vkey", help="trusted checkpoint note key (name+id+key, or a file)"),
    ] = None,
) -> None:
    """Check a bundle with no server and no database; print each check with ✓ or ✗.

    Checks: the envelope's DSSE signature; that the audit-log leaf is this report's
    `report_signed` event with the envelope's digest; the leaf's inclusion under the
    checkpoint root (RFC 6962); the checkpoint's signed-note signature; every raw answer's
    SHA-256 against the report's `raw_digest`; and a replay that must rebuild the payload
    byte for byte. A real audit passes the operator's published keys with `--key` and
    `--vkey`: keys taken from the bundle only show that the bundle agrees with itself.
    """
    from gateway.bundle import Bundle
    from gateway.bundle_verify import Context, bundle_trust, verify_bundle
    from gateway.policy import PolicyLibrary
    from gateway.registry import load_adapters

    console = Console()
    try:
        bundle = Bundle.from_json(bundle_file.read_bytes())
        pems = [p.read_bytes() for p in key or ()]
        trust = bundle_trust(bundle, pems, [_vkey_text(v) for v in vkey or ()])
    except (OSError, ValueError, GatewayError, AuditError) as exc:
        fail(console, f"cannot read the bundle or keys: {exc}")
    settings = load_settings()
    adapters = {item.adapter.name: item.adapter for item in load_adapters(settings)}
    library = PolicyLibrary.from_directory(settings.policy_dir)
    results = verify_bundle(bundle, Context(trust, adapters, library))
    console.print(f"bundle for report [bold]{bundle.report_id}[/] (exported {bundle.exported_at})")
    for result in results:
        mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
        console.print(f"{mark} {result.name}: {result.detail}", highlight=False)
    _trust_note(console, trust.report_keys_from_auditor, trust.note_keys_from_auditor)
    if not all(r.ok for r in results):
        failed = ", ".join(r.name for r in results if not r.ok)
        fail(console, f"FAILED: {failed}")
    console.print("[green]all checks passed[/]")


def _vkey_text(value: str) -> str:
    path = Path(value)
    return path.read_text().strip() if "+" not in value and path.is_file() else value


def _trust_note(console: Console, report_keys: bool, note_keys: bool) -> None:
    if not report_keys or not note_keys:
        which = " and ".join(
            w for w, own in (("--key", report_keys), ("--vkey", note_keys)) if not own
        )
        console.print(
            f"[yellow]note:[/] keys taken from the bundle itself; pass the operator's "
            f"published keys with {which} for an independent check"
        )


@command(audit_app, "verify-log")
def verify_log(
    chunk: Annotated[int, typer.Option(help="entries read per database round trip")] = 1000,
) -> None:
    """Recompute the whole audit log in the settings' database and check what is stored.

    Every leaf and stored subtree hash is recomputed (RFC 6962), every checkpoint's signature
    (current and retired checkpoint keys) and root checked, and consistency proved between
    successive checkpoints. The first tampered entry is named; exit 1 on any failure.
    """
    from audit.note import NoteVerifier
    from audit.verify import verify_log as verify
    from gateway.keyring import KeyRing

    console, settings = Console(), load_settings()
    require_keys(console, settings.key_dir)
    keys = KeyRing(settings.key_dir).public_keys("checkpoint")
    verifiers = [NoteVerifier(settings.log_origin, k.key()) for k in keys]

    async def run(engine: AsyncEngine) -> tuple[int, int]:
        with Progress(
            TextColumn("verifying leaves"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            storage = _CountingStorage(engine, progress)
            await verify(storage, verifiers, origin=settings.log_origin, chunk=chunk)
        return await storage.integrated_size(), len(await storage.checkpoints())

    leaves, checkpoints = _with_engine(settings, console, run)
    console.print(
        f"[green]✓[/] {leaves} leaves, {checkpoints} checkpoints: "
        "hashes, signatures and consistency verified"
    )


class _CountingStorage(SqlStorage):
    """The SQL log store, advancing a progress bar as verify_log reads entries."""

    def __init__(self, engine: AsyncEngine, progress: Progress) -> None:
        super().__init__(engine)
        self._progress = progress
        self._task: TaskID | None = None

    async def entries(self, start: int, end: int) -> list[bytes]:
        if self._task is None:
            self._task = self._progress.add_task("leaves", total=await self.integrated_size())
        found = await super().entries(start, end)
        self._progress.advance(self._task, len(found))
        return found


def _failure(exc: Exception) -> str:
    if isinstance(exc, TamperedEntry):
        return f"first tampered entry: leaf {exc.index} — {exc}"
    return f"{type(exc).__name__}: {exc}"
