"""Prometheus metrics: per RPC, per source, circuit state and quota, the store's group commits.

Each :class:`~gateway.app.Gateway` owns one :class:`Metrics` with its own registry (no global
state, so several gateways in one process — the tests — never mix their figures). RPCs are
counted by a server interceptor (``gateway.api.rpc_metrics``), sources from the fan-out's
answers; circuit state, quota and in-flight calls are read from the sources when scraped.
:class:`MetricsEndpoint` serves ``/metrics`` on ``metrics_listen`` (aiohttp, inside the event
loop, so a scrape never races the sources it reads). ``docs/operations.md`` lists every metric;
``tests/test_docs.py`` fails when one is missing there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

from adapters.resilience import CircuitState, ResilientAdapter
from gateway.fanout import Answer
from gateway.registry import LoadedAdapter

__all__ = ["CIRCUIT_VALUES", "Metrics", "MetricsEndpoint", "parse_listen"]

#: ``hedui_source_circuit_state`` values.
CIRCUIT_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}
# RPCs take milliseconds to a deadline of up to a minute; sources up to their attempt timeouts.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_M = TypeVar("_M", bound=MetricWrapperBase)


class Metrics:
    """Every metric the gateway exports, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rpc_requests = Counter(
            "hedui_rpc_requests", "gRPC calls handled", ["method", "code"], registry=r
        )
        self.rpc_errors = Counter(
            "hedui_rpc_errors", "gRPC calls that ended with a non-OK status", ["method", "code"],
            registry=r,
        )  # fmt: skip
        self.rpc_duration = Histogram(
            "hedui_rpc_duration_seconds", "gRPC call latency", ["method"], buckets=_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.source_requests = Counter(
            "hedui_source_requests", "Source answers in fan-outs", ["source", "status"], registry=r
        )
        self.source_errors = Counter(
            "hedui_source_errors", "Source answers other than OK / NOT_FOUND", ["source", "status"],
            registry=r,
        )  # fmt: skip
        self.source_duration = Histogram(
            "hedui_source_duration_seconds", "Source latency within a fan-out", ["source"],
            buckets=_BUCKETS, registry=r,
        )  # fmt: skip
        self.source_attempts = Counter(
            "hedui_source_attempts", "Calls that reached the department", ["source"], registry=r
        )
        self.source_throttled = Counter(
            "hedui_source_throttled", "Answers throttled (429, rate limit, quota)", ["source"],
            registry=r,
        )  # fmt: skip
        self.store_batch_jobs = Histogram(
            "hedui_store_batch_jobs", "Writes (requests accepted, reports completed) per commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r,
        )  # fmt: skip
        self.store_commit_duration = Histogram(
            "hedui_store_commit_duration_seconds", "One group-commit transaction, start to commit",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0), registry=r,
        )  # fmt: skip
        self.integrator_restarts = Counter(
            "hedui_integrator_restarts", "Integrator processes started again after dying",
            registry=r,
        )  # fmt: skip
        # The labelled children, each looked up once (see _Children).
        self._rpc_requests = _Children(self.rpc_requests)
        self._rpc_errors = _Children(self.rpc_errors)
        self._rpc_duration = _Children(self.rpc_duration)
        self._source_requests = _Children(self.source_requests)
        self._source_errors = _Children(self.source_errors)
        self._source_duration = _Children(self.source_duration)
        self._source_attempts = _Children(self.source_attempts)
        self._source_throttled = _Children(self.source_throttled)

    def observe_rpc(self, method: str, code: str, seconds: float) -> None:
        """One finished gRPC call."""
        self._rpc_requests(method, code).inc()
        self._rpc_duration(method).observe(seconds)
        if code != "OK":
            self._rpc_errors(method, code).inc()

    def observe_answer(self, answer: Answer) -> None:
        """One source's answer in a fan-out (the fan-out's metrics hook)."""
        source, status = answer.source, answer.status.value
        self._source_requests(source, status).inc()
        self._source_duration(source).observe(answer.latency_us / 1_000_000)
        self._source_attempts(source).inc(answer.attempts)
        if status not in ("OK", "NOT_FOUND"):
            self._source_errors(source, status).inc()
        if answer.throttled:
            self._source_throttled(source).inc()

    def observe_commit(self, jobs: int, seconds: float) -> None:
        """One group-commit transaction of the store (the store's commit hook)."""
        self.store_batch_jobs.observe(jobs)
        self.store_commit_duration.observe(seconds)

    def watch_sources(self, adapters: Sequence[LoadedAdapter]) -> None:
        """Export circuit state, quota and in-flight calls of ``adapters`` at every scrape."""
        guards = [i.adapter for i in adapters if isinstance(i.adapter, ResilientAdapter)]
        self.registry.register(_SourceCollector(guards))

    def exposition(self) -> bytes:
        """The text exposition format of every metric now."""
        return generate_latest(self.registry)


class _Children(Generic[_M]):
    """A labelled metric's children by their label values, each created on first use.

    ``metric.labels(…)`` checks its arguments and takes a lock on every call (about a µs, with
    three or four calls per source answer); the Prometheus client-library guidelines hand out
    the child precisely so that callers can keep it. A child is still created by its first
    observation, so the exposition lists the same series as before.
    """

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: _M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], _M] = {}

    def __call__(self, *labels: str) -> _M:
        try:
            return self._children[labels]
        except KeyError:
            child = self._children[labels] = self._metric.labels(*labels)
            return child


class _SourceCollector(Collector):
    """Gauges read from the sources' guards when scraped."""

    def __init__(self, guards: Sequence[ResilientAdapter]) -> None:
        self._guards = list(guards)

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "hedui_source_circuit_state",
            "Circuit: 0 closed, 1 half-open, 2 open",
            labels=["source"],
        )
        in_flight = GaugeMetricFamily(
            "hedui_source_in_flight", "Calls to the department in flight", labels=["source"]
        )
        limit = GaugeMetricFamily(
            "hedui_source_quota_limit", "Daily quota (sources with one)", labels=["source"]
        )
        used = GaugeMetricFamily("hedui_source_quota_used", "Quota used today", labels=["source"])
        left = GaugeMetricFamily("hedui_source_quota_left", "Quota left today", labels=["source"])
        for guard in self._guards:
            state.add_metric([guard.name], CIRCUIT_VALUES[guard.circuit_state])
            in_flight.add_metric([guard.name], guard.bulkhead.in_flight)
            if guard.quota is not None:
                limit.add_metric([guard.name], guard.quota.limit)
                used.add_metric([guard.name], guard.quota.used)
                left.add_metric([guard.name], guard.quota.left)
        yield from (state, in_flight, limit, used, left)


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as (host, port); ValueError naming the setting."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"metrics_listen: expected host:port, got {listen!r}")
    return host.strip("[]"), int(port)


class MetricsEndpoint:
    """``GET /metrics`` over HTTP; :meth:`start` binds (port 0: a free one), :meth:`stop`."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, listen: str) -> int:
        """Serve on ``listen``; the bound port."""
        host, port = parse_listen(listen)
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        self._runner = runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            self._runner = None
            raise
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _scrape(self, request: web.Request) -> web.Response:
        body = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})
