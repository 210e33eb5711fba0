"""Cached metric children, cached interceptor handlers and the request binding keep behaviour."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import structlog

from adapters.base import AnswerStatus
from gateway.api.errors import ErrorInterceptor
from gateway.api.rpc_metrics import RpcMetricsInterceptor
from gateway.errors import InvalidArgument
from gateway.fanout import Answer
from gateway.logging import bind_request, configure_logging
from gateway.metrics import Metrics

METHOD = "/hedui.v1.VerificationService/SubmitVerification"


def _answer(source: str, status: AnswerStatus, *, throttled: bool = False) -> Answer:
    return Answer(
        source=source,
        category=source,
        department=source,
        adapter_version="1",
        status=status,
        error="",
        raw=b"",
        as_of=None,
        fetched_at=datetime(2025, 6, 1, tzinfo=UTC),
        latency_us=1234,
        attempts=2,
        throttled=throttled,
    )


def _reference_observe_answer(m: Metrics, answer: Answer) -> None:
    status = answer.status.value
    m.source_requests.labels(answer.source, status).inc()
    m.source_duration.labels(answer.source).observe(answer.latency_us / 1_000_000)
    m.source_attempts.labels(answer.source).inc(answer.attempts)
    if status not in ("OK", "NOT_FOUND"):
        m.source_errors.labels(answer.source, status).inc()
    if answer.throttled:
        m.source_throttled.labels(answer.source).inc()


def _reference_observe_rpc(m: Metrics, method: str, code: str, seconds: float) -> None:
    m.rpc_requests.labels(method, code).inc()
    m.rpc_duration.labels(method).observe(seconds)
    if code != "OK":
        m.rpc_errors.labels(method, code).inc()


def _samples(m: Metrics) -> list[str]:
    """The exposition without ``_created`` lines (they hold creation times)."""
    text = m.exposition().decode()
    return [line for line in text.splitlines() if "_created" not in line]


def test_metrics_expose_the_same_series_as_labels_per_call() -> None:
    """Same samples, and no series before its first observation (e.g. throttled, errors)."""
    answers = [
        _answer("bank", AnswerStatus.OK),
        _answer("bank", AnswerStatus.OK),
        _answer("vehicle", AnswerStatus.UNAVAILABLE, throttled=True),
        _answer("hukou", AnswerStatus.NOT_FOUND),
        _answer("bank", AnswerStatus.TIMEOUT),
    ]
    calls = [(METHOD, "OK", 0.01), (METHOD, "OK", 0.2), ("/x/Get", "NOT_FOUND", 0.003)]
    cached, reference = Metrics(), Metrics()
    for answer in answers:
        cached.observe_answer(answer)
        _reference_observe_answer(reference, answer)
    for call in calls:
        cached.observe_rpc(*call)
        _reference_observe_rpc(reference, *call)
    assert _samples(cached) == _samples(reference)
    assert not any(
        line.startswith('hedui_source_throttled_total{source="bank"') for line in _samples(cached)
    )


class _Context:
    """The little of grpc.aio.ServicerContext the interceptors use."""

    def __init__(self) -> None:
        self.aborted: tuple[Any, ...] | None = None

    def code(self) -> None:
        return None

    async def abort_with_status(self, status: Any) -> None:
        self.aborted = (status.code, status.details)
        raise grpc.aio.AbortError()

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise grpc.aio.AbortError()


class _Details:
    def __init__(self, method: str) -> None:
        self.method = method


def _handler(result: str) -> grpc.RpcMethodHandler:
    async def unary(request: Any, context: Any) -> Any:
        if request == "bad":
            raise InvalidArgument([])
        return result

    return grpc.unary_unary_rpc_method_handler(unary)


def test_interceptors_wrap_each_handler_once() -> None:
    """The same handler gets the same wrapping; another handler a new one; calls still go in."""
    metrics = Metrics()
    chain: list[grpc.aio.ServerInterceptor] = [RpcMetricsInterceptor(metrics), ErrorInterceptor()]
    current = {"handler": _handler("first")}

    async def resolve(method: str) -> grpc.RpcMethodHandler:
        async def run(i: int, details: Any) -> grpc.RpcMethodHandler:
            if i == len(chain):
                return current["handler"]
            return await chain[i].intercept_service(lambda d: run(i + 1, d), details)

        return await run(0, _Details(method))

    async def main() -> None:
        first, again = await resolve(METHOD), await resolve(METHOD)
        assert first is again
        assert await first.unary_unary("ok", _Context()) == "first"
        current["handler"] = _handler("second")
        second = await resolve(METHOD)
        assert second is not first
        assert await second.unary_unary("ok", _Context()) == "second"
        context = _Context()
        with pytest.raises(grpc.aio.AbortError):
            await second.unary_unary("bad", context)
        assert context.aborted is not None
        assert context.aborted[0] == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(main())
    samples = _samples(metrics)
    assert f'hedui_rpc_requests_total{{code="OK",method="{METHOD}"}} 2.0' in samples


def _logged(buffer: io.StringIO) -> list[Any]:
    return [json.loads(line).get("request_id") for line in buffer.getvalue().splitlines()]


def test_bind_request_restores_an_outer_binding() -> None:
    """Nested bindings restore the outer request id; none is left after the outer block."""
    buffer = io.StringIO()
    configure_logging(json=True, level="info", file=buffer)
    log = structlog.get_logger()
    with bind_request("outer"):
        with bind_request("inner"):
            log.info("a")
        log.info("b")
    log.info("c")
    assert _logged(buffer) == ["inner", "outer", None]


def test_bind_request_left_in_another_context() -> None:
    """A block left in another context (a generator closed elsewhere) restores there by value."""
    buffer = io.StringIO()
    configure_logging(json=True, level="info", file=buffer)
    log = structlog.get_logger()

    with bind_request("outer"):
        binding = bind_request("inner")
        binding.__enter__()

        def leave_elsewhere() -> None:
            binding.__exit__(None, None, None)
            log.info("in the other context: outer again")

        contextvars.copy_context().run(leave_elsewhere)
        log.info("here: the block was never left")
    log.info("after")
    assert _logged(buffer) == ["outer", "inner", None]
