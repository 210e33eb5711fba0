"""The wrapped method handlers of a server interceptor, built once per method.

grpc.aio runs every interceptor on every call. Building a wrapping handler each time (a closure
and ``grpc.unary_unary_rpc_method_handler``) costs a few µs per interceptor and call; the
handler a method resolves to stays the same object, so its wrapped one can be kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

__all__ = ["HandlerCache", "UnaryHandler"]

UnaryHandler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class HandlerCache:
    """Method name → (the handler found for it, the wrapped handler built from it)."""

    def __init__(self) -> None:
        self._by_method: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def get(
        self,
        method: str,
        handler: grpc.RpcMethodHandler,
        wrap: Callable[[str, UnaryHandler], UnaryHandler],
    ) -> grpc.RpcMethodHandler:
        """The unary-unary ``handler`` of ``method`` with its behaviour wrapped by ``wrap``.

        Built again whenever ``method`` resolves to another handler than last time, so a
        continuation that builds a new handler per call gets a fresh wrapping every time too.
        Only methods that resolved to a handler are kept: unknown names add nothing.
        """
        cached = self._by_method.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = grpc.unary_unary_rpc_method_handler(
            wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._by_method[method] = (handler, wrapped)
        return wrapped
