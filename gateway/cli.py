"""``hedui``: run the gateway, the department simulator and the demo; manage keys and the schema.

Exit codes: 0 success, 1 a check failed (e.g. a signature did not verify), 2 bad usage.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli_adapters import adapters_app
from gateway.cli_audit import audit_app, report_app
from gateway.cli_config import ConfigError, checked_settings, config_app
from gateway.cli_keys import keys_rotate
from gateway.config import load_settings
from gateway.policy._cli import policy_app

__all__ = ["app", "main"]

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="Signing keys: export public keys, rotate.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")
app.add_typer(adapters_app, name="adapters")
app.add_typer(config_app, name="config")
keys_app.command("rotate")(keys_rotate)


@app.command()
def serve(
    listen: Annotated[
        str | None, typer.Option(help="host:port to listen on (HEDUI_LISTEN)")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="serving processes sharing the port, one core each (HEDUI_WORKERS; default 1)",
        ),
    ] = None,
) -> None:
    """Run the gateway in the foreground until Ctrl-C (graceful stop).

    With --workers N, N processes share the port (docs/operations.md).
    Each client connection goes to one of them.
    """
    from gateway.app import Gateway
    from gateway.logging import configure_logging
    from gateway.server import run_forever
    from gateway.workers import serve_workers

    overrides = {"listen": listen} if listen else {}
    try:
        settings = checked_settings(**overrides, **({"workers": workers} if workers else {}))
    except ConfigError as exc:  # FILE: key: reason, one a line
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    configure_logging(json=settings.log_json, level=settings.log_level)
    if settings.workers > 1:
        raise typer.Exit(serve_workers(settings, settings.workers))

    async def run() -> None:
        gateway = await Gateway.open(settings)
        try:
            await gateway.start_background()
            await run_forever(gateway, settings.listen)
        finally:
            await gateway.close()

    asyncio.run(run())


@app.command()
def sim(
    host: Annotated[str, typer.Option(help="address to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8700,
    seed: Annotated[int, typer.Option(help="population seed: same seed, same people")] = 7,
    households: Annotated[int, typer.Option(help="number of synthetic households")] = 1000,
    latency_ms: Annotated[
        float, typer.Option(help="latency added to every department answer")
    ] = 0.0,
    regions: Annotated[
        str, typer.Option(help="comma-separated region-code prefixes, e.g. 61,64; empty = all")
    ] = "",
) -> None:
    """Serve the departments' HTTP APIs over a synthetic population (the fake world)."""
    from adapters.simulator import DepartmentSettings, SimulatorSettings
    from adapters.simulator import serve as serve_sim

    settings = SimulatorSettings(
        default=DepartmentSettings((latency_ms, latency_ms)),
        regions=tuple(p.strip() for p in regions.split(",") if p.strip()),
    )
    serve_sim(
        host=host,
        port=port,
        seed=seed,
        households=households,
        settings=settings,
        on_ready=lambda sim: typer.echo(f"department simulator listening on {sim.base_url}"),
    )


@app.command()
def demo(
    households: Annotated[int, typer.Option(help="how many households to submit")] = 8,
    workdir: Annotated[
        Path, typer.Option(help="where the demo keeps its SQLite file and keys")
    ] = Path("var/demo"),
) -> None:
    """Start simulator + gateway (SQLite), verify synthetic households over gRPC, print a table."""
    from gateway.demo import run_demo

    raise typer.Exit(asyncio.run(run_demo(households=households, workdir=workdir)))


@keys_app.command("export")
def keys_export(
    role: Annotated[str, typer.Option(help="report | checkpoint")] = "report",
    include_retired: Annotated[bool, typer.Option("--all", help="also retired keys")] = False,
) -> None:
    """Print the public key(s) as PEM, each preceded by its key id."""
    from rich.console import Console

    from gateway.cli_text import require_keys
    from gateway.keyring import KeyRing

    key_dir = load_settings().key_dir
    require_keys(Console(stderr=True), key_dir)  # exporting must never create keys behind the log
    keys = KeyRing(key_dir).public_keys(role)
    for key in keys:
        if key.retired_at is None or include_retired:
            state = f"retired {key.retired_at.isoformat()}" if key.retired_at else "current"
            typer.echo(f"# keyid: {key.keyid} ({key.algorithm}, {state})")
            typer.echo(key.pem, nl=False)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (the gateway also does this at start-up)."""
    from gateway import migrate
    from gateway.db import create_engine

    async def run() -> None:
        engine = create_engine(load_settings().database_url)
        try:
            await migrate.upgrade(engine, revision)
            typer.echo(f"database at revision {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


def main() -> None:
    """Console-script entry point."""
    app()
