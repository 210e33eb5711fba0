"""gateway.event_loop: which loop the gateway serves on, and a clear error when it cannot."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from gateway.config import load_settings
from gateway.event_loop import EventLoopUnavailable, loop_name, run


async def _running_loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


def test_auto_serves_on_uvloop_where_it_is_installed() -> None:
    """``auto`` (the default setting) runs the coroutine on uvloop when it can be imported."""
    assert load_settings().event_loop == "auto"
    assert run(_running_loop_module()) == "uvloop"
    assert loop_name("auto") == "uvloop"


def test_asyncio_and_uvloop_can_be_chosen() -> None:
    """``asyncio`` gives the standard library's loop, ``uvloop`` uvloop's; the result comes back."""
    assert run(_running_loop_module(), "asyncio") == "asyncio"
    assert run(_running_loop_module(), "uvloop") == "uvloop"
    assert isinstance(uvloop.new_event_loop(), asyncio.AbstractEventLoop)


def test_without_uvloop_auto_falls_back_and_uvloop_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where uvloop cannot be imported, ``auto`` is asyncio's loop and ``uvloop`` says why not."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert run(_running_loop_module(), "auto") == "asyncio"
    coroutine = _running_loop_module()
    with pytest.raises(EventLoopUnavailable, match="uvloop is not installed"):
        run(coroutine, "uvloop")
    assert coroutine.cr_frame is None  # closed, not left to warn that it was never awaited


def test_the_setting_accepts_only_the_three_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """``HEDUI_EVENT_LOOP`` is checked when the settings are read."""
    monkeypatch.setenv("HEDUI_EVENT_LOOP", "asyncio")
    assert load_settings().event_loop == "asyncio"
    monkeypatch.setenv("HEDUI_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        load_settings()
