"""``auditlog``: the SQL audit log on SQLite and PostgreSQL, built once per run to 10⁶ leaves.

Per backend, in order:

1. n leaves are appended (batches of 10,000: ≥ 10,000 leaves/s) and integrated in passes of
   n/10 leaves, each signing a checkpoint; the integration rate is compared with hashing the same
   leaves in memory;
2. inclusion and consistency proofs at size n (random indices) versus one primary-key lookup of
   a node, read the way the store reads (autocommit on PostgreSQL): targets < 2 ms and < 5 ms;
   this process's CPU per proof is reported too, as wall times swing with the machine's load;
3. ``verify_log`` over all n leaves versus hashing them in memory: target < 60 s;
4. sustained appends (batches of 1,000) versus bare INSERTs of the same rows into a twin table
   (no sequencing lock, no ``max(idx)``): target ≥ 10,000 leaves/s.

n is 10⁶ (``--quick``: 10⁵). PostgreSQL gets a database of its own, dropped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import merkle
from audit.integrate import integrate_and_sign
from audit.note import NoteSigner
from audit.sql import SqlStorage, metadata, nodes
from audit.verify import verify_log
from bench._common import Options
from bench.harness import Result, Rounds, Target, alternate_async, load_average
from gateway.db import create_engine

__all__ = ["NAME", "run"]

NAME = "auditlog"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DB = "hedui_bench"
ORIGIN = "bench.hedui.example/log"
BATCH = 1_000
_twin = MetaData()
twin = Table(
    "bench_bare_leaves",
    _twin,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
)


def entry(i: int) -> bytes:
    """A leaf the size of a SourceAnswered event (~230 bytes), unique per index."""
    return (
        b'{"event":"source_answered","latency_ms":12,"raw_digest":"sha256:'
        + f"{i:064x}".encode()
        + b'","request_id":"bench-'
        + str(i).encode()
        + b'","source":"social_insurance","status":"OK","v":1}'
    )


def run(opts: Options) -> list[Result]:
    return asyncio.run(_run(opts))


async def _run(opts: Options) -> list[Result]:
    size = 100_000 if opts.quick else 1_000_000
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hedui-bench-") as tmp:
        for backend, url in (("sqlite", f"sqlite:///{tmp}/audit.db"), ("postgresql", "")):
            async with _database(url) as engine:
                if engine is None:
                    print("  PostgreSQL unavailable: skipped")
                    continue
                results += await _backend(engine, backend, size, opts)
    return results


@contextlib.asynccontextmanager
async def _database(url: str) -> AsyncIterator[AsyncEngine | None]:
    """An engine with the audit tables; for PostgreSQL a fresh ``hedui_bench`` database."""
    if url:
        engine = create_engine(url)
        yield await _with_tables(engine)
        await engine.dispose()
        return
    import asyncpg  # type: ignore[import-untyped]

    try:
        admin = await asyncpg.connect(ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {BENCH_DB}")
        engine = create_engine(ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB)
        try:
            yield await _with_tables(engine)
        finally:
            await engine.dispose()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        await admin.close()


async def _with_tables(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(_twin.create_all)
    return engine


async def _backend(engine: AsyncEngine, backend: str, size: int, opts: Options) -> list[Result]:
    name = f"{NAME}/{backend}"
    store = SqlStorage(engine)
    built = await _build(store, size)
    proofs = await _proofs(engine, store, size, opts)
    verified = await _verify(store, size)
    load = [load_average()]
    appends = await _appends(engine, store, opts)  # last: it grows the log past ``size``
    return [
        Result(
            name,
            "append",
            "leaves/s",
            appends.subject["rate"],
            Target("at_least", 10_000),
            appends.baseline["rate"],
            "bare INSERT",
            appends.load,
            note=f"batches of {BATCH}",
        ),
        Result(
            name,
            "append (building the log)",
            "leaves/s",
            [built["append_rate"]],
            Target("at_least", 10_000),
            load=load,
            note=f"batches of {BATCH * 10}",
        ),
        Result(
            name,
            "integrate",
            "leaves/s",
            [built["integrate_rate"]],
            Target("report"),
            [built["hash_rate"]],
            "in-memory hashing",
            load,
            note=f"passes of {size // 10} leaves, each signing a checkpoint",
        ),
        Result(
            name,
            f"inclusion proof at {size:,}",
            "ms",
            proofs.subject["inclusion_ms"],
            Target("at_most", 2),
            proofs.baseline["lookup_ms"],
            "1 node lookup",
            proofs.load,
        ),
        Result(
            name,
            f"consistency proof at {size:,}",
            "ms",
            proofs.subject["consistency_ms"],
            Target("at_most", 5),
            proofs.baseline["lookup_ms"],
            "1 node lookup",
            proofs.load,
        ),
        *(
            Result(
                name,
                f"{kind} proof at {size:,}, client CPU",
                "ms",
                proofs.subject[f"{kind}_cpu_ms"],
                Target("report"),
                proofs.baseline["lookup_cpu_ms"],
                "1 node lookup",
                proofs.load,
            )
            for kind in ("inclusion", "consistency")
        ),
        Result(
            name,
            f"verify_log over {size:,}",
            "s",
            [verified["verify_s"]],
            Target("at_most", 60),
            [verified["hash_s"]],
            "in-memory hashing",
            load,
        ),
    ]


async def _appends(engine: AsyncEngine, store: SqlStorage, opts: Options) -> Rounds:
    """Alternating rounds of sequenced appends and bare inserts, ``seconds`` each."""
    seconds = opts.seconds(3, 1)
    bare_next = [0]

    async def sequenced() -> dict[str, float]:
        first = await store.size()
        return await _timed_batches(seconds, lambda n: store.append(_batch(first + n, BATCH)))

    async def bare() -> dict[str, float]:
        async def one(n: int) -> None:
            start = bare_next[0]
            bare_next[0] += BATCH
            rows = [{"idx": start + i, "entry": e} for i, e in enumerate(_batch(start, BATCH))]
            async with engine.begin() as conn:
                await conn.execute(insert(twin), rows)

        return await _timed_batches(seconds, one)

    return await alternate_async(opts.rounds, sequenced, bare)


async def _timed_batches(
    seconds: float, append: Callable[[int], Awaitable[object]]
) -> dict[str, float]:
    started = time.perf_counter()
    done = 0
    for _ in range(10_000):
        if time.perf_counter() - started >= seconds:
            break
        await append(done)
        done += BATCH
    return {"rate": done / (time.perf_counter() - started)}


def _batch(first: int, count: int) -> list[bytes]:
    return [entry(first + i) for i in range(count)]


async def _build(store: SqlStorage, size: int) -> dict[str, float]:
    """Append up to ``size`` leaves, then integrate them, signing a checkpoint per pass."""
    have = await store.size()
    started = time.perf_counter()
    for first in range(have, size, BATCH * 10):
        await store.append(_batch(first, min(BATCH * 10, size - first)))
    append_rate = (size - have) / (time.perf_counter() - started) if size > have else 0.0
    print(f"  appended to {await store.size():,} leaves", flush=True)
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    started = time.perf_counter()
    integrated = 0
    for _ in range(100):
        passed = await integrate_and_sign(
            store, signer, ORIGIN, lambda: datetime.now(UTC), max_batch=size // 10
        )
        if passed.integrated_size == integrated:
            break
        integrated = passed.integrated_size
    integrate_rate = integrated / (time.perf_counter() - started)
    _BUILT[id(store)] = signer
    return {
        "append_rate": append_rate,
        "integrate_rate": integrate_rate,
        "hash_rate": integrated / _hash_seconds(integrated),
    }


_BUILT: dict[int, NoteSigner] = {}


def _hash_seconds(count: int) -> float:
    """Seconds to hash ``count`` entries into a compact range in memory (entries made first)."""
    entries = _batch(0, count)
    started = time.perf_counter()
    tree = merkle.CompactRange()
    for e in entries:
        tree.append(merkle.leaf_hash(e))
    return time.perf_counter() - started


async def _proofs(engine: AsyncEngine, store: SqlStorage, size: int, opts: Options) -> Rounds:
    rng = random.Random(size)
    count = 200 if opts.quick else 500
    reader = engine
    if engine.dialect.name == "postgresql":  # as SqlStorage reads: no BEGIN/ROLLBACK
        reader = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def proofs() -> dict[str, float]:
        inclusion, inclusion_cpu = await _timed(
            count, lambda: store.inclusion_proof(rng.randrange(size), size)
        )
        consistency, consistency_cpu = await _timed(
            count, lambda: store.consistency_proof(rng.randrange(1, size), size)
        )
        return {
            "inclusion_ms": inclusion,
            "consistency_ms": consistency,
            "inclusion_cpu_ms": inclusion_cpu,
            "consistency_cpu_ms": consistency_cpu,
        }

    async def lookups() -> dict[str, float]:
        async def one() -> object:
            query = select(nodes.c.hash).where(
                nodes.c.level == 0, nodes.c.idx == rng.randrange(size)
            )
            async with reader.connect() as conn:
                return (await conn.execute(query)).scalar_one()

        lookup, lookup_cpu = await _timed(count, one)
        return {"lookup_ms": lookup, "lookup_cpu_ms": lookup_cpu}

    return await alternate_async(opts.rounds, proofs, lookups)


async def _timed(count: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Median wall milliseconds of ``count`` calls, and this process's CPU milliseconds per call."""
    cpu = time.process_time()
    wall = [await _ms(call()) for _ in range(count)]
    return _median(wall), (time.process_time() - cpu) / count * 1000


async def _ms(awaitable: Awaitable[object]) -> float:
    started = time.perf_counter()
    await awaitable
    return (time.perf_counter() - started) * 1000


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


async def _verify(store: SqlStorage, size: int) -> dict[str, float]:
    signer = _BUILT.pop(id(store))
    started = time.perf_counter()
    await verify_log(store, signer.verifier(), origin=ORIGIN)
    verify_s = time.perf_counter() - started
    return {"verify_s": verify_s, "hash_s": _hash_seconds(await store.integrated_size())}
