"""Structured logging: JSON lines in production, a readable console in a terminal.

Every line carries an ISO-8601 UTC ``timestamp``, its ``level`` and, inside :func:`bind_request`,
the ``request_id`` of the request it belongs to (``contextvars``: safe across asyncio tasks).

Personal data never reaches a log line. :func:`mask_sensitive` is the last processor before the
renderer and

* masks every run of 18 or more characters from ``[0-9Xx]`` in every string, keeping the first
  6 and the last 1 (``610102***********X``): every resident ID number is such a run or inside one,
  so no ID number survives, wherever it is (event text, exception text, nested values);
* masks the values of keys named ``name`` or ``…_name`` (``member_name``), keeping the first
  character (the surname: ``张**``), except structlog's own ``func_name``-style keys;
* walks dicts, lists, tuples, sets and dataclasses (a logged ``Member`` becomes a masked dict),
  and renders any other object through ``str`` before masking it.

Exceptions are formatted into the ``exception`` key first (``format_exc_info``) so that their
text is masked too; names inside free text cannot be recognised, so do not log them there.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "bind_request",
    "configure_logging",
    "mask_id_numbers",
    "mask_name",
    "mask_sensitive",
]

# Any ID number is 17 digits and a digit or X, so it lies inside a maximal run of [0-9Xx] of
# length >= 18. Masking all but 7 characters of every such run leaves no run that long behind.
_ID_RUN = re.compile(r"[0-9Xx]{18,}")
_KEEP_HEAD, _KEEP_TAIL = 6, 1
# Keys structlog's processors fill in (CallsiteParameterAdder, add_logger_name); not personal.
_NOT_PERSONAL = frozenset({"func_name", "thread_name", "process_name", "logger_name"})


def configure_logging(json: bool, level: str, *, file: TextIO | None = None) -> None:
    """Configure structlog for the process: JSON lines (``json=True``) or a console for people.

    ``level`` is a standard level name (``debug``, ``info``, ``warning``, ``error``, ``critical``);
    ``file`` defaults to standard output.
    """
    renderer: Processor
    stream = file or sys.stdout
    if json:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_is_terminal(stream))
    structlog.configure(
        processors=[*_shared_processors(), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        logger_factory=_SharedWriter(stream),
        cache_logger_on_first_use=False,  # tests and the CLI reconfigure; a bind per call is cheap
    )


def bind_request(request_id: str) -> contextlib.AbstractContextManager[None]:
    """Within the block, every log line carries ``request_id`` (restored afterwards)."""
    return _RequestBinding(request_id)


class _RequestBinding(contextlib.AbstractContextManager[None]):
    """``bound_contextvars(request_id=…)`` for a quarter of its cost (twice per request).

    ``bound_contextvars`` copies the whole context to see what to restore; the token of the one
    variable set says it as well, and resetting to it restores the value from before the block.
    """

    __slots__ = ("_request_id", "_token")

    def __init__(self, request_id: str) -> None:
        self._request_id = request_id
        self._token: contextvars.Token[Any] | None = None

    def __enter__(self) -> None:
        self._token = structlog.contextvars.bind_contextvars(request_id=self._request_id)[
            "request_id"
        ]

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            structlog.contextvars.reset_contextvars(request_id=token)
        except ValueError:  # left in another context than entered: restore the value instead
            old = token.old_value
            if old is contextvars.Token.MISSING or old is Ellipsis:
                structlog.contextvars.unbind_contextvars("request_id")
            else:
                structlog.contextvars.bind_contextvars(request_id=old)


def mask_sensitive(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Processor: mask ID numbers in every value and the values of name-like keys."""
    return {mask_id_numbers(key): _mask_value(key, value) for key, value in event_dict.items()}


def mask_id_numbers(text: str) -> str:
    """Mask every run of 18+ ``[0-9Xx]``: ``610102199003071234`` → ``610102***********4``."""
    return _ID_RUN.sub(_mask_run, text)


def mask_name(name: str) -> str:
    """Keep the first character (the surname), mask the rest: ``张三丰`` → ``张**``."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*"


class _SharedWriter:
    """A logger factory that hands out one ``WriteLogger`` for every logger.

    A ``WriteLogger`` writes each line and its newline in one ``write``, where ``PrintLogger``'s
    ``print`` makes two: on an unbuffered stream (``PYTHONUNBUFFERED``, a service manager's pipe)
    the processes of ``hedui serve --workers`` share, two workers' lines then interleaved as
    ``{…}{…}`` and a log shipper got neither (a flaky ``tests/e2e/test_workers.py`` showed it).
    One write of a line shorter than ``PIPE_BUF`` (4 KiB) reaches a pipe whole. The factory
    builds one per log call when loggers are not cached (about a µs); the logger holds nothing
    but its file and that file's lock, so one can serve them all.
    """

    def __init__(self, file: TextIO) -> None:
        self._writer = structlog.WriteLogger(file=file)

    def __call__(self, *args: Any) -> structlog.WriteLogger:
        return self._writer


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        mask_sensitive,
    ]


def _mask_value(key: str, value: Any) -> Any:
    """Mask one value found under ``key``, recursing into containers."""
    if isinstance(value, dict):
        return {mask_id_numbers(str(k)): _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(key, item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {f.name: _mask_value(f.name, getattr(value, f.name)) for f in fields}
    if _is_name_key(key):
        return mask_name(str(value))
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**17 else mask_id_numbers(str(value))
    return mask_id_numbers(value if isinstance(value, str) else str(value))


def _is_name_key(key: str) -> bool:
    return (key == "name" or key.endswith("_name")) and key not in _NOT_PERSONAL


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    return run[:_KEEP_HEAD] + "*" * (len(run) - _KEEP_HEAD - _KEEP_TAIL) + run[-_KEEP_TAIL:]


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
