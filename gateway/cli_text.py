"""Shared pieces of the ``hedui`` commands: help text from docstrings, failing with exit 1."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

__all__ = ["command", "fail", "reflow", "require_keys"]

F = TypeVar("F", bound=Callable[..., Any])


def reflow(doc: str | None) -> str:
    """Join each paragraph of a docstring into one line (typer keeps the source line breaks)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def command(app: typer.Typer, name: str) -> Callable[[F], F]:
    """``app.command(name)`` with the function's docstring reflowed as its help."""

    def register(fn: F) -> F:
        app.command(name, help=reflow(fn.__doc__))(fn)
        return fn

    return register


def fail(console: Console, message: str) -> NoReturn:
    """Print ``✗ message`` and exit 1 (a check failed or the command could not run)."""
    console.print(f"[red]✗[/] {message}")
    raise typer.Exit(1)


def require_keys(console: Console, key_dir: Path) -> None:
    """Exit 1 unless the gateway's keys exist: commands that read keys never create them."""
    if not (key_dir / "keys.json").exists():
        fail(console, f"no gateway keys in {key_dir} (set HEDUI_KEY_DIR; the gateway creates them)")
