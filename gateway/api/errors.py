"""One interceptor maps the error trees (gateway, audit) to gRPC statuses.

``InvalidArgument`` becomes INVALID_ARGUMENT with a ``google.rpc.BadRequest`` detail listing every
field violation. The rich status is built once and the call aborted with it (ECOSYSTEM.md: a
mismatch between the detailed status and the call's own code makes clients fail to parse it).
Anything unexpected is logged and answered INTERNAL without leaking its text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from audit.errors import AuditError
from gateway.api._handlers import HandlerCache, UnaryHandler
from gateway.errors import GatewayError, InvalidArgument

__all__ = ["ErrorInterceptor", "status_for"]

log = structlog.get_logger(__name__)


def status_for(exc: GatewayError | AuditError) -> status_pb2.Status:
    """The google.rpc.Status that answers ``exc``."""
    code = getattr(code_pb2, exc.status)
    status = status_pb2.Status(code=code, message=str(exc))
    if isinstance(exc, InvalidArgument):
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in exc.violations
                ]
            )
        )
        status.details.append(detail)
    return status


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every unary-unary handler so domain errors reach the client as proper statuses."""

    def __init__(self) -> None:
        self._wrapped = HandlerCache()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return self._wrapped.get(handler_call_details.method, handler, _with_statuses)


def _with_statuses(method: str, inner: UnaryHandler) -> UnaryHandler:
    """``inner``, answering domain errors with their statuses and anything else with INTERNAL."""

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await inner(request, context)
        except (GatewayError, AuditError) as exc:
            await context.abort_with_status(rpc_status.to_status(status_for(exc)))
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("unhandled_error", method=method)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error (logged)")

    return wrapped
