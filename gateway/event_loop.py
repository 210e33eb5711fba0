"""The event loop the gateway serves on: uvloop where it is installed, asyncio's own otherwise.

``HEDUI_EVENT_LOOP`` (``event_loop`` in the configuration file) chooses:

==========  ================================================================================
``auto``    uvloop when it can be imported (it is a dependency on Linux and macOS), else asyncio
``uvloop``  uvloop, and a start-up error where it is not installed
``asyncio`` the standard library's selector loop
==========  ================================================================================

Why uvloop by default: the departments' HTTP calls (seven per verification) run on
:mod:`adapters._h1`'s asyncio protocols, and the loop's socket transports, timers and callbacks
are most of their cost on the standard loop; uvloop does them in C. Measured with
``python -m bench http`` (issue 6, docs/BENCHMARKS.md, session 11): 491 → 888 verifications/s
at the same CPU (one process); the in-process ``pipeline`` gained 9 %. grpc.aio does its own I/O
in its C core and runs on either loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

__all__ = ["EventLoopName", "EventLoopUnavailable", "loop_factory", "loop_name", "run"]

EventLoopName = Literal["auto", "uvloop", "asyncio"]
T = TypeVar("T")


class EventLoopUnavailable(RuntimeError):
    """``uvloop`` was asked for and cannot be imported."""


def loop_factory(name: EventLoopName = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A factory for ``asyncio.Runner``: uvloop's, or None for asyncio's own loop."""
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError as exc:
        if name == "uvloop":
            raise EventLoopUnavailable(
                "event_loop = 'uvloop' but uvloop is not installed (pip install uvloop), "
                "or choose 'auto' or 'asyncio'"
            ) from exc
        return None
    return uvloop.new_event_loop


def loop_name(name: EventLoopName = "auto") -> str:
    """What ``name`` resolves to here: ``"uvloop"`` or ``"asyncio"``."""
    return "asyncio" if loop_factory(name) is None else "uvloop"


def run(main: Coroutine[Any, Any, T], name: EventLoopName = "auto") -> T:
    """``asyncio.run(main)`` on the loop ``name`` stands for."""
    try:
        factory = loop_factory(name)
    except EventLoopUnavailable:
        main.close()  # never awaited: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
