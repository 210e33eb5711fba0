"""The load generator: a grpc.aio client in its own process, so its CPU is not the server's.

The same client drives the gateway and the echo baseline: it sends serialised
``SubmitVerificationRequest`` bytes (a fresh ``request_id`` each time, so the gateway never takes
its idempotent replay path) and receives raw bytes. *Closed loop*: ``concurrency`` callers, each
sending its next request when the last one is answered. *Open loop*: requests start at a fixed
``rate`` whatever the answers do (for latency at a given load). Both stop at a time limit and a
request-count limit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections import Counter
from collections.abc import Sequence

import grpc

from bench._procs import spawn
from bench._servers import METHOD

__all__ = ["LoadResult", "LoadSpec", "percentile", "run_load"]


@dataclasses.dataclass(frozen=True, slots=True)
class LoadSpec:
    target: str
    requests: Sequence[bytes]  # serialised requests, cycled through
    duration_s: float
    warmup_s: float = 1.0
    concurrency: int = 32
    rate: float = 0.0  # > 0: open loop at this many requests/s
    timeout_s: float = 10.0
    channels: int = 1
    parse: bool = False  # read each report's slowest source latency
    # > 0: every n-th reply is read as a report, and each source in it that did not answer
    # (status other than OK or NOT_FOUND) counts as an error "source <STATUS>": a gateway
    # whose departments all fail still answers the RPC, with a report of failed sources
    check_sources: int = 0
    tag: str = "bench"
    max_requests: int = 2_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    completed: int  # answered OK during the measured window
    errors: dict[str, int]
    window_s: float
    latencies_ms: list[float]
    slowest_source_ms: list[float]  # per answered request, when ``parse``
    response_bytes: int

    @property
    def rps(self) -> float:
        return self.completed / self.window_s if self.window_s else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0…1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_load(spec: LoadSpec) -> LoadResult:
    """Run the load in a fresh child process and return what it measured (bounded wait)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=spawn) as pool:
        future = pool.submit(_child, spec)
        return future.result(timeout=spec.warmup_s + spec.duration_s + spec.timeout_s + 120)


def _child(spec: LoadSpec) -> LoadResult:
    return asyncio.run(_drive(spec))


class _Recorder:
    def __init__(self, spec: LoadSpec) -> None:
        from gateway.api._proto.hedui.v1 import verification_pb2 as pb

        self.pb = pb
        self.spec = spec
        self.answered = {pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND}
        self.templates = [pb.SubmitVerificationRequest.FromString(r) for r in spec.requests]
        self.counter = itertools.count()
        self.start = time.perf_counter()
        self.measure_from = self.start + spec.warmup_s
        self.end = self.measure_from + spec.duration_s
        self.completed = 0
        self.errors: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.slowest: list[float] = []
        self.response_bytes = 0

    def next_request(self) -> bytes:
        n = next(self.counter)
        message = self.templates[n % len(self.templates)]
        message.request_id = f"{self.spec.tag}-{n}"
        return bytes(message.SerializeToString())

    def done(self, started: float, response: bytes) -> None:
        finished = time.perf_counter()
        self.response_bytes = len(response)
        if not self.measure_from <= started < self.end:
            return
        self.completed += 1
        self.latencies.append((finished - started) * 1000)
        every = self.spec.check_sources
        check = every > 0 and self.completed % every == 0
        if self.spec.parse or check:
            reply = self.pb.SubmitVerificationResponse.FromString(response)
            if self.spec.parse:
                self.slowest.append(max(s.latency_us for s in reply.report.sources) / 1000)
            for source in reply.report.sources if check else ():
                if source.status not in self.answered:
                    self.errors[f"source {self.pb.SourceStatus.Name(source.status)}"] += 1

    def failed(self, started: float, exc: BaseException) -> None:
        if self.measure_from <= started < self.end:
            code = getattr(exc, "code", None)
            self.errors[str(code() if callable(code) else type(exc).__name__)] += 1

    def result(self) -> LoadResult:
        return LoadResult(
            self.completed,
            dict(self.errors),
            self.spec.duration_s,
            self.latencies,
            self.slowest,
            self.response_bytes,
        )


async def _drive(spec: LoadSpec) -> LoadResult:
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(spec.target, options=options) for _ in range(spec.channels)
    ]
    calls = [c.unary_unary(METHOD) for c in channels]
    rec = _Recorder(spec)
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 10)
        if spec.rate > 0:
            await _open_loop(rec, calls, spec)
        else:
            await _closed_loop(rec, calls, spec)
    finally:
        for channel in channels:
            await channel.close()
    return rec.result()


async def _one(rec: _Recorder, call: grpc.aio.UnaryUnaryMultiCallable, timeout_s: float) -> None:
    request = rec.next_request()
    started = time.perf_counter()
    try:
        response = await call(request, timeout=timeout_s)
    except Exception as exc:  # every failure is counted by its gRPC code
        rec.failed(started, exc)
    else:
        rec.done(started, response)


async def _closed_loop(
    rec: _Recorder, calls: Sequence[grpc.aio.UnaryUnaryMultiCallable], spec: LoadSpec
) -> None:
    per_worker = max(1, spec.max_requests // spec.concurrency)

    async def worker(i: int) -> None:
        call = calls[i % len(calls)]
        for _ in range(per_worker):
            if time.perf_counter() >= rec.end:
                return
            await _one(rec, call, spec.timeout_s)

    await asyncio.gather(*(worker(i) for i in range(spec.concurrency)))


async def _open_loop(
    rec: _Recorder, calls: Sequence[grpc.aio.UnaryUnaryMultiCallable], spec: LoadSpec
) -> None:
    tasks: set[asyncio.Task[None]] = set()
    total = min(spec.max_requests, int((spec.warmup_s + spec.duration_s) * spec.rate))
    for n in range(total):
        delay = rec.start + n / spec.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(_one(rec, calls[n % len(calls)], spec.timeout_s))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=spec.timeout_s + 5)
