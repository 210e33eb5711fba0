"""The gRPC server: services, health, reflection, graceful stop.

Health is NOT_SERVING before a stop, then the server gets ``grace`` seconds to finish calls
(ECOSYSTEM.md: mark health first, then ``stop(grace)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Callable

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.api._proto.hedui.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    verification_pb2,
    verification_pb2_grpc,
)
from gateway.api.admin import AdminServicer
from gateway.api.audit import audit_servicer
from gateway.api.errors import ErrorInterceptor
from gateway.api.rpc_metrics import RpcMetricsInterceptor
from gateway.api.source_health import SourceHealth
from gateway.api.verification import VerificationServicer
from gateway.app import Gateway

__all__ = [
    "SERVICE_NAMES",
    "RunningServer",
    "freeze_startup_heap",
    "run_forever",
    "running_server",
]

log = structlog.get_logger(__name__)

SERVICE_NAMES = (
    verification_pb2.DESCRIPTOR.services_by_name["VerificationService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)


class RunningServer:
    def __init__(
        self,
        server: grpc.aio.Server,
        port: int,
        health: health.aio.HealthServicer,
        sources: SourceHealth | None = None,
    ) -> None:
        self.server = server
        self.port = port
        self.health = health
        self.sources = sources  # hedui.source.<name> health, following each circuit

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self, grace: float = 5.0) -> None:
        """NOT_SERVING first, then a graceful stop."""
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self.sources is not None:
            await self.sources.close()
        await self.server.stop(grace)


async def start_server(gateway: Gateway, listen: str) -> RunningServer:
    """Build and start the server on ``listen`` (``host:0`` picks a free port)."""
    limit = gateway.settings.max_message_bytes
    server = grpc.aio.server(
        interceptors=[RpcMetricsInterceptor(gateway.metrics), ErrorInterceptor()],
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ],
    )
    settings = gateway.settings
    verification_pb2_grpc.add_VerificationServiceServicer_to_server(
        VerificationServicer(
            gateway.pipeline, settings.default_deadline_s, settings.max_deadline_s
        ),
        server,
    )
    audit_pb2_grpc.add_AuditServiceServicer_to_server(audit_servicer(gateway), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(
        AdminServicer(gateway.adapters, settings, gateway.pipeline.store.record_read), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(listen)
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    sources = SourceHealth(health_servicer, gateway.adapters)
    await sources.start()
    log.info("server_started", listen=listen, port=port)
    return RunningServer(server, port, health_servicer, sources)


@contextlib.asynccontextmanager
async def running_server(
    gateway: Gateway, listen: str = "127.0.0.1:0"
) -> AsyncIterator[RunningServer]:
    """A started server, stopped gracefully on exit (tests use port 0)."""
    running = await start_server(gateway, listen)
    try:
        yield running
    finally:
        await running.stop(grace=1.0)


# The collector's young-generation threshold while serving (CPython's default is 700). The count
# it is compared with is tracked containers allocated minus those freed, so with requests in
# flight it hovers at their live objects (a few thousand at 32 calls in flight) and the default
# triggers a collection every few verifications without finding garbage: each one scans the
# requests in flight and promotes them, and every tenth a generation-1 pass scans them again.
# In-process, 6,000 verifications at 32 callers (docs/BENCHMARKS.md, session 10): 1,000+
# collections, 0.2 ms each and 1.5–2 ms for the generation-1 ones, at 700; none at 20,000.
# Cyclic garbage still triggers collections: this many young containers at most (a few MiB).
YOUNG_THRESHOLD = 20_000


def freeze_startup_heap() -> None:
    """Tune the garbage collector for serving: freeze what start-up built, collect young less.

    1. Move what start-up built (modules, policies, region table, pools) out of the collector's
       sight: full collections then scan only what requests allocate (``gc.freeze``; measured
       ≈2 % of a request's CPU, docs/BENCHMARKS.md). Garbage frozen with them would never be
       collected, so this is only for a serving process, which keeps those objects until it
       exits.
    2. Raise the young generation's threshold to :data:`YOUNG_THRESHOLD`, so that requests in
       flight do not trigger collections by themselves (see there); the older generations keep
       their thresholds.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


async def run_forever(
    gateway: Gateway,
    listen: str,
    grace: float = 10.0,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM, then stop gracefully; ``on_started`` once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = await start_server(gateway, listen)
    freeze_startup_heap()
    if on_started is not None:
        on_started()
    await stop.wait()
    log.info("server_stopping", grace_s=grace)
    await running.stop(grace)
