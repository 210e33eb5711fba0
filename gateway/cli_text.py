"""Help text for typer commands written as ordinary docstrings."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import typer

__all__ = ["command", "reflow"]

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
