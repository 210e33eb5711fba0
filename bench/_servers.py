"""The servers benchmarks start in child processes: bare echo, the gateway, the simulator.

Each ``*_main(spec, conn)`` is a :class:`~bench._procs.ServerProcess` entry point: it builds the
server from a small picklable spec, reports its address and serves until told to stop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.base import RawAnswer, SourceQuery
from adapters.testing import FakeAdapter, fake_adapters
from bench._procs import LoopName, run_on, serve_until_stopped, spawn

if TYPE_CHECKING:
    from gateway.config import Settings

__all__ = [
    "METHOD",
    "BenchAdapter",
    "EchoSpec",
    "GatewaySpec",
    "SimulatorSpec",
    "bare_server",
    "echo_main",
    "gateway_main",
    "simulator_main",
]

METHOD = "/hedui.v1.VerificationService/SubmitVerification"
SEVEN = ("hukou", "social_insurance", "vehicle", "property", "funeral", "housing_fund", "bank")
POPULATION_SEED = 7


@dataclasses.dataclass(frozen=True, slots=True)
class EchoSpec:
    """A bare grpc.aio server answering ``METHOD`` with ``response_bytes`` bytes."""

    response_bytes: int
    delay_s: float = 0.0
    event_loop: LoopName = "asyncio"  # every server's, baselines too (--loop)
    workers: int = 1  # processes sharing the port, like ``hedui serve --workers``


@dataclasses.dataclass(frozen=True, slots=True)
class GatewaySpec:
    """The gateway on ``database_url``; in-process fake sources, or HTTP ones at ``base_url``."""

    workdir: str
    database_url: str
    households: int = 200
    base_url: str = ""  # set: the seven built-in HTTP adapters against it
    latency_ms: tuple[float, float] = (0.0, 0.0)  # fake sources: uniform per call
    hang: str = ""  # fake sources: the name of one that never answers
    event_loop: LoopName = "asyncio"  # every server's, baselines too (--loop)
    workers: int = 1  # gateway processes sharing the port (gateway.workers)


@dataclasses.dataclass(frozen=True, slots=True)
class SimulatorSpec:
    households: int = 200
    latency_ms: tuple[float, float] = (0.0, 0.0)
    event_loop: LoopName = "asyncio"  # every server's, baselines too (--loop)


class BenchAdapter(FakeAdapter):
    """A fake source with a random latency per call that does not keep every query it got."""

    def __init__(self, base: FakeAdapter, latency_ms: tuple[float, float], seed: int) -> None:
        self.__dict__.update(base.__dict__)
        self._range = (latency_ms[0] / 1000, latency_ms[1] / 1000)
        self._rng = random.Random(seed)
        # set: each call's drawn latency (s) is appended under its request id (bench ``steps``)
        self.drawn: dict[str, list[float]] | None = None

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        self.calls.clear()  # FakeAdapter remembers every query: a leak over a benchmark
        low, high = self._range
        self.latency_s = self._rng.uniform(low, high) if high else 0.0
        if self.drawn is not None:
            self.drawn.setdefault(query.request_id, []).append(self.latency_s)
        return await super().fetch(query)


def echo_main(spec: EchoSpec, conn: Connection) -> None:
    serve_until_stopped(conn, lambda: _echo_server(spec), event_loop=spec.event_loop)


def gateway_main(spec: GatewaySpec, conn: Connection) -> None:
    serve_until_stopped(conn, lambda: _gateway_server(spec), event_loop=spec.event_loop)


def simulator_main(spec: SimulatorSpec, conn: Connection) -> None:
    serve_until_stopped(conn, lambda: _simulator(spec), event_loop=spec.event_loop)


@contextlib.asynccontextmanager
async def _echo_server(spec: EchoSpec) -> AsyncIterator[str]:
    """The echo on a port; with ``workers`` > 1, that many processes share it (SO_REUSEPORT)."""
    from gateway.workers import reserve_port

    with reserve_port("127.0.0.1:0") as address:
        others = [
            spawn.Process(target=_echo_worker, args=(spec, address)) for _ in range(1, spec.workers)
        ]
        for process in others:
            process.start()
        try:
            async with _echo_listening(spec, address):
                yield address
        finally:
            for process in others:
                process.terminate()  # our own children, by their handles
                process.join(10)


def _echo_worker(spec: EchoSpec, address: str) -> None:
    import asyncio

    async def main() -> None:
        async with _echo_listening(spec, address):
            await asyncio.Event().wait()  # until terminated

    run_on(main(), spec.event_loop)


@contextlib.asynccontextmanager
async def _echo_listening(spec: EchoSpec, address: str) -> AsyncIterator[None]:
    import asyncio

    response = b"\x00" * spec.response_bytes

    async def handle(request: bytes, context: object) -> bytes:
        if spec.delay_s:
            await asyncio.sleep(spec.delay_s)
        return response

    async with bare_server(handle, address):
        yield


@contextlib.asynccontextmanager
async def bare_server(
    handle: Callable[[bytes, Any], Awaitable[bytes]], address: str = "127.0.0.1:0"
) -> AsyncIterator[str]:
    """A bare grpc.aio server answering ``METHOD`` with ``handle(request_bytes, context)``,
    no (de)serialisation by grpc; yields its address (port 0: the one it got)."""
    import grpc

    service, method = METHOD.strip("/").split("/")
    handler = grpc.method_handlers_generic_handler(
        service, {method: grpc.unary_unary_rpc_method_handler(handle)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(address)
    await server.start()
    try:
        yield f"{address.rpartition(':')[0]}:{port}"
    finally:
        await server.stop(1.0)


def _settings(spec: GatewaySpec) -> Settings:
    from gateway.config import load_settings

    return load_settings(
        database_url=spec.database_url,
        key_dir=Path(spec.workdir) / "keys",
        sources_base_url=spec.base_url or "http://127.0.0.1:9",
        adapter_allowlist=list(SEVEN),  # only the built-ins, whatever else is installed
        listen="127.0.0.1:0",
        metrics_listen="",
        log_json=True,
        log_level="WARNING",
    )


@contextlib.asynccontextmanager
async def _gateway_server(spec: GatewaySpec) -> AsyncIterator[str]:
    from gateway.app import Gateway
    from gateway.logging import configure_logging
    from gateway.server import freeze_startup_heap, running_server

    if spec.workers > 1:
        async with _gateway_workers(spec) as address:
            yield address
        return
    log = (Path(spec.workdir) / "gateway.log").open("a")
    configure_logging(json=True, level="WARNING", file=log)
    adapters = None if spec.base_url else _fakes(spec)
    gateway = await Gateway.open(_settings(spec), adapters=adapters)
    try:
        await gateway.start_background()
        async with running_server(gateway) as server:
            freeze_startup_heap()  # as run_forever (hedui serve) does
            yield server.target
    finally:
        await gateway.close()


@contextlib.asynccontextmanager
async def _gateway_workers(spec: GatewaySpec) -> AsyncIterator[str]:
    """``spec.workers`` gateway processes on one port, as ``hedui serve --workers`` runs them."""
    from gateway.logging import configure_logging
    from gateway.workers import WorkerSet, prepare

    log = (Path(spec.workdir) / "gateway.log").open("a")
    configure_logging(json=True, level="WARNING", file=log)  # the workers log as settings say
    settings = _settings(spec)
    adapters = None if spec.base_url else functools.partial(_fakes, spec)
    await prepare(settings, adapters)
    with WorkerSet(settings, spec.workers, adapters) as pool:
        yield pool.address


def _fakes(spec: GatewaySpec) -> list[FakeAdapter]:
    from adapters.simulator import build_population

    records = build_population(POPULATION_SEED, spec.households).all_records()
    fakes = [f for f in fake_adapters(records) if f.name in SEVEN]
    adapters: list[FakeAdapter] = [
        BenchAdapter(f, spec.latency_ms, seed=i) for i, f in enumerate(fakes)
    ]
    for adapter in adapters:
        adapter.hang = adapter.name == spec.hang
    return adapters


@contextlib.asynccontextmanager
async def _simulator(spec: SimulatorSpec) -> AsyncIterator[str]:
    from adapters.simulator import DepartmentSettings, SimulatorSettings, run_simulator

    settings = SimulatorSettings(default=DepartmentSettings(latency_ms=spec.latency_ms))
    async with run_simulator(
        host="127.0.0.1",
        port=0,
        seed=POPULATION_SEED,
        households=spec.households,
        settings=settings,
    ) as sim:
        yield str(sim.base_url)
