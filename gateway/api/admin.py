"""``hedui.v1.AdminService``: the sources as the resilience layer sees them, and a live probe.

The work is in :mod:`gateway.admin` (plain objects); this module only converts to protobuf.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import grpc

from adapters.resilience import CircuitState
from gateway.admin import AdapterView, ProbeResult, describe, find, probe
from gateway.api._proto.hedui.v1 import admin_pb2 as pb
from gateway.api._proto.hedui.v1 import admin_pb2_grpc as pb_grpc
from gateway.api._proto.hedui.v1 import verification_pb2 as vpb
from gateway.config import Settings
from gateway.errors import FieldViolation, InvalidArgument, NotFound
from gateway.registry import LoadedAdapter

__all__ = ["AdminServicer", "circuit_to_proto", "view_to_proto"]

DEFAULT_PROBE_TIMEOUT_S = 5.0

_CIRCUIT = {
    CircuitState.CLOSED: pb.CIRCUIT_STATE_CLOSED,
    CircuitState.OPEN: pb.CIRCUIT_STATE_OPEN,
    CircuitState.HALF_OPEN: pb.CIRCUIT_STATE_HALF_OPEN,
}
_KIND = {"plugin": pb.ADAPTER_KIND_PLUGIN, "declarative": pb.ADAPTER_KIND_DECLARATIVE}


def circuit_to_proto(state: CircuitState) -> pb.CircuitState:
    """The wire value of a circuit state."""
    return _CIRCUIT[state]


def view_to_proto(view: AdapterView) -> pb.AdapterInfo:
    """One source's view as an ``AdapterInfo``."""
    return pb.AdapterInfo(
        name=view.name,
        distribution=view.distribution,
        version=view.version,
        category=view.category,
        department=view.department,
        kind=_KIND.get(view.kind, pb.ADAPTER_KIND_UNSPECIFIED),
        circuit_state=circuit_to_proto(view.circuit_state),
        p50_latency_ms=view.p50_ms,
        p99_latency_ms=view.p99_ms,
        error_rate=view.error_rate,
        calls=view.calls,
        quota_limit=view.quota_limit,
        quota_left=view.quota_left,
        tiers=list(view.tiers),
    )


def probe_to_proto(result: ProbeResult) -> pb.CheckAdapterResponse:
    """A probe's result as a ``CheckAdapterResponse``."""
    return pb.CheckAdapterResponse(
        name=result.name,
        healthy=result.healthy,
        status=vpb.SourceStatus.Value("SOURCE_STATUS_" + result.status.value),
        error=result.error,
        latency_ms=result.latency_ms,
        attempts=result.attempts,
        records=result.records,
        subjects=result.subjects,
        circuit_state=circuit_to_proto(result.circuit_state),
    )


class AdminServicer(pb_grpc.AdminServiceServicer):
    """Answers from the gateway's loaded sources."""

    def __init__(
        self,
        adapters: Sequence[LoadedAdapter],
        settings: Settings,
        record: Callable[[bytes], Awaitable[int]] | None = None,
    ) -> None:
        self.adapters = sorted(adapters, key=lambda i: i.adapter.name)
        self.settings = settings
        self.record = record  # appends a probe's audit leaf

    async def ListAdapters(
        self, request: pb.ListAdaptersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAdaptersResponse:
        return pb.ListAdaptersResponse(
            adapters=[view_to_proto(describe(item)) for item in self.adapters]
        )

    async def CheckAdapter(
        self, request: pb.CheckAdapterRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckAdapterResponse:
        if not request.name:
            raise InvalidArgument([FieldViolation("name", "is required")])
        item = find(self.adapters, request.name)
        if item is None:
            raise NotFound(f"no source named {request.name!r}")
        left = context.time_remaining()
        timeout_s = DEFAULT_PROBE_TIMEOUT_S if left is None else max(0.0, left - 0.05)
        return probe_to_proto(await probe(item, self.settings, timeout_s, self.record))
