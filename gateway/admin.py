"""What an administrator sees of the data sources: a view of each, and a live probe of one.

Both work on plain objects (no protobuf): ``gateway.api.admin`` answers the AdminService with
them, and ``hedui adapters list`` prints them offline straight from the configuration.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from adapters.base import AnswerStatus, SourceQuery, Subject
from adapters.resilience import CircuitState, ResilientAdapter
from audit.events import SourceAnswered, entry_bytes, sha256_hex
from gateway.config import Settings
from gateway.registry import LoadedAdapter

__all__ = ["AdapterView", "ProbeResult", "describe", "find", "probe", "probe_query"]

PROBE_PURPOSE = "PROBE"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AdapterView:
    """One source as ``ListAdapters`` and ``hedui adapters list`` show it."""

    name: str
    distribution: str
    version: str
    category: str
    department: str
    kind: str  # "plugin" | "declarative"
    tiers: tuple[str, ...]  # tiers of the network at which the source may be queried
    circuit_state: CircuitState
    p50_ms: float
    p99_ms: float
    error_rate: float
    calls: int
    quota_limit: int  # 0: no daily quota
    quota_left: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one live probe of a source found."""

    name: str
    status: AnswerStatus
    error: str
    latency_ms: float
    attempts: int
    records: int
    subjects: int
    circuit_state: CircuitState

    @property
    def healthy(self) -> bool:
        """The department answered: with records, or saying it knows nobody asked about."""
        return self.status in (AnswerStatus.OK, AnswerStatus.NOT_FOUND)


def describe(item: LoadedAdapter) -> AdapterView:
    """The view of one loaded source (an unguarded one shows a closed circuit and no figures)."""
    adapter = item.adapter
    guard = adapter if isinstance(adapter, ResilientAdapter) else None
    stats = guard.stats.snapshot() if guard else None
    quota = guard.quota if guard else None
    return AdapterView(
        name=adapter.name,
        distribution=item.distribution,
        version=item.version,
        category=str(adapter.category),
        department=adapter.department,
        kind=item.kind,
        tiers=item.tiers,
        circuit_state=guard.circuit_state if guard else CircuitState.CLOSED,
        p50_ms=stats.p50_ms if stats else 0.0,
        p99_ms=stats.p99_ms if stats else 0.0,
        error_rate=stats.error_rate if stats else 0.0,
        calls=stats.calls if stats else 0,
        quota_limit=quota.limit if quota else 0,
        quota_left=quota.left if quota else 0,
    )


def find(items: Sequence[LoadedAdapter], name: str) -> LoadedAdapter | None:
    """The loaded source called ``name``, if any."""
    return next((i for i in items if i.adapter.name == name), None)


def probe_query(settings: Settings, name: str, timeout_s: float) -> SourceQuery:
    """A real query for the configured probe subject (``probe_id_number``), or for nobody."""
    subject = settings.adapter(name).probe_id_number
    return SourceQuery(
        request_id=f"probe-{uuid.uuid4().hex[:16]}",
        subjects=(Subject(subject, ""),) if subject else (),
        as_of=datetime.now(UTC).date(),
        purpose=PROBE_PURPOSE,
        authorization_ref=f"PROBE-{name}",
        timeout_s=timeout_s,
    )


async def probe(
    item: LoadedAdapter,
    settings: Settings,
    timeout_s: float,
    record: Callable[[bytes], Awaitable[int]] | None = None,
) -> ProbeResult:
    """Ask the source once, through its guard (quota and circuit apply), and time it.

    ``record`` appends the answer's SourceAnswered leaf to the audit log: a probe asks a real
    department about a real (configured) person, and every source answer is a leaf.
    """
    adapter = item.adapter
    guard = adapter if isinstance(adapter, ResilientAdapter) else ResilientAdapter(adapter)
    query = probe_query(settings, adapter.name, timeout_s)
    started = time.perf_counter()
    outcome = await guard.call(query)
    latency_ms = (time.perf_counter() - started) * 1000
    error = outcome.error
    status = error.status if error is not None else AnswerStatus.OK
    if record is not None:
        raw = outcome.raw.body if outcome.raw is not None else b""
        event = SourceAnswered(
            request_id=query.request_id,
            source=adapter.name,
            status=status.value,
            raw_digest=sha256_hex(raw),
            latency_ms=int(latency_ms),
        )
        await record(entry_bytes(event))
    return ProbeResult(
        name=adapter.name,
        status=status,
        error="" if error is None else (str(error) or type(error).__name__),
        latency_ms=latency_ms,
        attempts=outcome.attempts,
        records=len(outcome.records),
        subjects=len(query.subjects),
        circuit_state=guard.circuit_state,
    )
