"""The child side of ``footprint``: one round's CPU and bytes per verification, in-process.

:func:`measure` opens the gateway as the benchmark server does (same settings, same fake
sources, background integrator on), drives ``pipeline.submit`` from ``concurrency`` callers in a
closed loop, and reads this process's CPU time and ``wchar`` (``/proc/self/io``) around the
measured verifications. :func:`sign_and_hash` is the baseline: the signing and hashing every
verification must do at minimum. Both expect a process of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import itertools
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench._cases import serialised_requests
from bench._procs import LoopName, run_on
from bench._servers import GatewaySpec, _fakes, _settings

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.domain import VerificationRequest

__all__ = ["FootprintSpec", "logical_bytes", "measure", "sign_and_hash", "wchar"]

# What a verification stores; columns are read from the schema, so a changed column is counted.
TABLES = (
    "requests",
    "reports",
    "source_answers",
    "report_subjects",
    "audit_leaves",
    "audit_nodes",
)


@dataclasses.dataclass(frozen=True, slots=True)
class FootprintSpec:
    """One round: ``warmup`` verifications, then ``n`` measured ones, ``concurrency`` at a time."""

    n: int
    warmup: int
    concurrency: int = 32
    payload_bytes: int = 0  # the baseline signs a payload of this size
    event_loop: LoopName = "asyncio"  # --loop


def wchar() -> int:
    """Bytes this process has passed to write-like system calls (``/proc/self/io``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def measure(spec: FootprintSpec) -> dict[str, float]:
    """CPU ms, bytes written, logical and file bytes per verification in a fresh database."""
    from gateway.logging import configure_logging

    # warnings and errors only, into nothing: every byte written is then the database's
    configure_logging(json=True, level="WARNING", file=open(os.devnull, "w"))  # noqa: SIM115
    with tempfile.TemporaryDirectory(prefix="hedui-footprint-") as tmp:
        db = Path(tmp) / "hedui.db"
        sample = run_on(_measure(spec, GatewaySpec(tmp, f"sqlite:///{db}")), spec.event_loop)
        stored, reports = logical_bytes(db)
        files = sum(f.stat().st_size for f in (db, Path(f"{db}-wal")) if f.exists())
    return {**sample, "logical": stored / reports, "db_file": files / reports, "reports": reports}


async def _measure(spec: FootprintSpec, gateway_spec: GatewaySpec) -> dict[str, float]:
    from gateway.app import Gateway
    from gateway.server import freeze_startup_heap

    requests = _requests(spec.warmup + spec.n)
    # this process's CPU is what is counted, so the log's integration passes run here too
    settings = _settings(gateway_spec).model_copy(update={"integrator_process": False})
    gateway = await Gateway.open(settings, adapters=_fakes(gateway_spec))
    try:
        await gateway.start_background()
        freeze_startup_heap()  # as the served gateway does once it listens
        await _closed_loop(gateway, itertools.islice(requests, spec.warmup), spec.concurrency)
        await _integrate_all(gateway)  # the warm-up's leaves are not charged to the round
        cpu, written = time.process_time(), wchar()
        sizes = await _closed_loop(gateway, requests, spec.concurrency)
        await _integrate_all(gateway)
        cpu, written = time.process_time() - cpu, wchar() - written
    finally:
        await gateway.close()
    return {
        "cpu_ms": cpu * 1000 / spec.n,
        "wchar": written / spec.n,
        "payload_bytes": sum(sizes) / len(sizes),
        "verifications": spec.warmup + spec.n,
    }


def _requests(count: int) -> Iterator[VerificationRequest]:
    """``count`` domain requests (the benchmark cases, cycled), each with a fresh request id."""
    from gateway.api._proto.hedui.v1 import verification_pb2 as pb
    from gateway.api.convert import request_from_proto

    today = datetime.now(UTC).date()
    messages = [pb.SubmitVerificationRequest.FromString(raw) for raw in serialised_requests()]
    out = []
    for msg in itertools.islice(itertools.cycle(messages), count):
        msg.request_id = uuid.uuid4().hex
        request, violations = request_from_proto(msg, today, "bench")
        if violations:
            raise RuntimeError(f"a benchmark request is invalid: {violations}")
        out.append(request)
    return iter(out)


async def _closed_loop(
    gateway: Gateway, requests: Iterator[VerificationRequest], concurrency: int
) -> list[int]:
    """Submit every request, ``concurrency`` callers at a time; each report's payload size."""
    sizes: list[int] = []

    async def caller() -> None:
        for request in requests:  # shared: each caller takes the next one when it is free
            submission = await gateway.pipeline.submit(request, 5.0)
            sizes.append(len(submission.envelope.payload))

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return sizes


async def _integrate_all(gateway: Gateway) -> None:
    """Integration passes until the log has no pending leaf (a pass that signs nothing)."""
    for _ in range(1_000):
        if (await gateway.integrator.run_once()).checkpoint is None:
            return


def logical_bytes(db: Path) -> tuple[int, int]:
    """UTF-8 bytes of every text and blob value in :data:`TABLES`, and the number of reports."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        present = {row[0] for row in tables}
        total = sum(_table_bytes(conn, table) for table in TABLES if table in present)
        reports = int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])
    return total, reports


def _table_bytes(conn: sqlite3.Connection, table: str) -> int:
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({_quoted(table)})")]
    sums = (
        f"coalesce(sum(CASE WHEN typeof({c}) IN ('text', 'blob') "
        f"THEN length(CAST({c} AS BLOB)) END), 0)"
        for c in map(_quoted, columns)
    )
    row = conn.execute(f"SELECT {' + '.join(sums)} FROM {_quoted(table)}").fetchone()
    return int(row[0])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sign_and_hash(spec: FootprintSpec) -> dict[str, float]:
    """The baseline: DSSE-sign (Ed25519, a fresh key) and SHA-256 a report-sized payload."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit import dsse
    from audit.keys import Ed25519Signer

    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    payload = os.urandom(spec.payload_bytes)  # Ed25519's cost depends on the size only

    def sign(count: int) -> None:
        for _ in range(count):
            dsse.sign(dsse.REPORT_PAYLOAD_TYPE, payload, [signer])
            hashlib.sha256(payload).digest()

    sign(spec.warmup)
    cpu = time.process_time()
    sign(spec.n)
    return {"cpu_ms": (time.process_time() - cpu) * 1000 / spec.n}
