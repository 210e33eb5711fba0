"""A server interceptor that counts and times every unary gRPC call, by method and status code.

Put it first (outermost), so the status it sees is the one the error interceptor produced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from gateway.api._handlers import HandlerCache, UnaryHandler
from gateway.metrics import Metrics

__all__ = ["RpcMetricsInterceptor"]


def _code_name(context: grpc.aio.ServicerContext, default: str) -> str:
    """The status the handler set on ``context``, else ``default``."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return default


class RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Feeds ``hedui_rpc_*`` for every unary-unary method."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._wrapped = HandlerCache()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return self._wrapped.get(handler_call_details.method, handler, self._measured)

    def _measured(self, method: str, inner: UnaryHandler) -> UnaryHandler:
        """``inner``, counted and timed as a call of ``method``."""
        metrics = self._metrics

        async def measured(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started, code = time.perf_counter(), "UNKNOWN"
            try:
                response = await inner(request, context)
                code = _code_name(context, "OK")
                return response
            except grpc.aio.AbortError:
                code = _code_name(context, "UNKNOWN")
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            finally:
                metrics.observe_rpc(method, code, time.perf_counter() - started)

        return measured
