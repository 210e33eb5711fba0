"""`hedui config check FILE`, and start-up configuration errors that name file, key and reason.

Exit codes: 0 the file is valid (its effective configuration is printed, secrets masked),
1 it is not (every problem is printed as ``FILE: key: reason``), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from gateway.cli_text import command
from gateway.config import Settings, load_settings
from gateway.config_view import adapter_config, effective_config
from gateway.registry import RegistryError, load_adapters
from gateway.sources import close_sources

__all__ = ["ConfigError", "checked_settings", "config_app", "problems"]

config_app = typer.Typer(help="The configuration file: check it.", no_args_is_help=True)
_KINDS = ("http_json", "sql_view")  # pydantic puts the union's tag in the key path: drop it


class ConfigError(Exception):
    """The configuration is not usable; ``lines`` says where and why, one problem a line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def problems(source: str, exc: ValidationError) -> list[str]:
    """``SOURCE: key.path: reason`` for every error pydantic found."""
    out = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"] if p not in _KINDS) or "(top level)"
        out.append(f"{source}: {key}: {error['msg']}")
    return out


@contextlib.contextmanager
def _config_file(path: Path) -> Iterator[None]:
    """``HEDUI_CONFIG`` set to ``path`` for the duration (settings read it when built)."""
    before = os.environ.get("HEDUI_CONFIG")
    os.environ["HEDUI_CONFIG"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HEDUI_CONFIG", None)
        else:
            os.environ["HEDUI_CONFIG"] = before


def checked_settings(path: Path | None = None, /, **overrides: Any) -> Settings:
    """Settings from ``path`` (default ``HEDUI_CONFIG``) and the environment; ConfigError."""
    file = path or (Path(os.environ["HEDUI_CONFIG"]) if os.environ.get("HEDUI_CONFIG") else None)
    source = str(file) if file else "environment"
    if file is not None and not file.is_file():
        raise ConfigError([f"{file}: no such file"])
    try:
        with _config_file(file) if file else contextlib.nullcontext():
            return load_settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from exc
    except ValidationError as exc:
        raise ConfigError(problems(source, exc)) from exc


def _sources_table(settings: Settings) -> Table:
    table = Table(title="sources that would load")
    for column in ("name", "kind", "provided by", "category", "endpoint / DSN"):
        table.add_column(column)
    items = load_adapters(settings)
    try:
        for item in items:
            shown = adapter_config(settings, item)
            where = shown.get("source", {}).get("endpoint") or shown.get("source", {}).get("dsn")
            table.add_row(
                item.adapter.name, item.kind, f"{item.distribution} {item.version}",
                str(item.adapter.category), str(where or shown["base_url"]),
            )  # fmt: skip
    finally:
        asyncio.run(close_sources(items))
    return table


@command(config_app, "check")
def check(
    file: Annotated[Path, typer.Argument(help="the TOML file to check", dir_okay=False)],
) -> None:
    """Validate FILE as the gateway would at start-up (with HEDUI_* environment variables on
    top) and load its sources; print the effective configuration with secrets masked
    (passwords in DSNs and URLs, Authorization and token headers).

    Exit 0 when valid; 1 with every problem as FILE: key: reason.
    """
    console = Console()
    try:
        settings = checked_settings(file)
        table = _sources_table(settings)
    except ConfigError as exc:
        for line in exc.lines:
            console.print(f"[red]✗[/] {line}", highlight=False)
        raise typer.Exit(1) from None
    except RegistryError as exc:
        console.print(f"[red]✗[/] {file}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print_json(data=effective_config(settings))
    console.print(table)
    console.print(f"[green]✓[/] {file} is valid")
