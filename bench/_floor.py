"""The contract prototype: the minimal prototype plus what DESIGN.md's contracts require.

The child side of ``bench prototype``'s third server. Issue 6's minimal prototype
(:mod:`bench._prototype`: seven in-process sources, Ed25519, one SQLite row per request) leaves
out work that the gateway may not leave out, because outsiders rely on it (DESIGN.md,
"Contracts"). This server adds exactly that work, written as plainly and cheaply as the
prototype (raw ``sqlite3`` on the loop, ``orjson``, no validation framework, no SQLAlchemy):

1. accept: the request is stored with its ``request_accepted`` leaf, committed before any
   source is asked (accepted work survives a crash; every accepted request is a leaf);
2. the same seven in-process sources, one task each, gathered (as the prototype); or, when
   the spec names a simulator (``bench http``), the seven departments' APIs over HTTP: one
   aiohttp session (keep-alive pool), the built-in adapters' paths and request body, the answer
   bytes as they come (a 404 "not found" is an answer too), nothing decoded;
3. every raw answer is stored with a ``source_answered`` leaf carrying its SHA-256 (replay
   needs the raw answers; every source answer is a leaf);
4. the report names each answer's digest; it is signed (DSSE PAE, Ed25519), stored with a
   ``report_signed`` leaf carrying the envelope's digest, and committed before the answer;
5. the leaves are integrated into an RFC 6962 tree whose nodes are stored (the log serves
   inclusion and consistency proofs from them), and each integration pass signs a checkpoint.

Leaves are canonical JSON: orjson with sorted keys writes RFC 8785 bytes for the ASCII strings
and small integers used here. Left out, as in the prototype: field validation, resilience,
decoding the answers, findings and assessment, idempotent replays, metrics, logging. The leaf
counter and the tree's right border live in memory (one process, no restart), where the
gateway reads them from the database so that replicas can share it. One transaction per write,
where the gateway groups concurrent writes into one: about one SQLite commit more per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from adapters._http import _request_body
from adapters.base import SourceQuery, Subject
from audit.merkle import CompactRange, leaf_hash
from bench._procs import serve_until_stopped
from bench._prototype import pae, signed_reply
from bench._servers import SEVEN, GatewaySpec, _fakes, bare_server

__all__ = ["floor_main"]

Ask = Callable[[SourceQuery], Awaitable[bytes]]

INTEGRATE_EVERY_S = 0.05  # the gateway's integrator passes are of this order
_SCHEMA = (
    "CREATE TABLE requests (request_id TEXT PRIMARY KEY, request BLOB, leaf INTEGER)",
    "CREATE TABLE answers (request_id TEXT, source TEXT, raw BLOB, raw_digest TEXT,"
    " leaf INTEGER, PRIMARY KEY (request_id, source))",
    "CREATE TABLE reports (report_id TEXT PRIMARY KEY, request_id TEXT, payload BLOB,"
    " sig BLOB, leaf INTEGER)",
    "CREATE TABLE leaves (idx INTEGER PRIMARY KEY, entry BLOB)",
    "CREATE TABLE nodes (level INTEGER, idx INTEGER, hash BLOB, PRIMARY KEY (level, idx))",
    "CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB)",
)


def floor_main(spec: GatewaySpec, conn: Connection) -> None:
    serve_until_stopped(conn, lambda: _floor_server(spec), event_loop=spec.event_loop)


def _entry(kind: str, **fields: Any) -> bytes:
    """One leaf: canonical JSON of the event's type and fields."""
    return orjson.dumps({"type": kind, "v": 1, **fields}, option=orjson.OPT_SORT_KEYS)


class _Log:
    """Leaves appended inside the caller's transaction; integrated and checkpointed later."""

    def __init__(self, db: sqlite3.Connection, sign: Callable[[bytes], bytes]) -> None:
        self._db = db
        self._sign = sign
        self.size = 0  # leaves appended
        self._tree = CompactRange()

    def append(self, entries: Sequence[bytes]) -> int:
        first = self.size
        rows = [(first + i, e) for i, e in enumerate(entries)]
        self._db.executemany("INSERT INTO leaves VALUES (?, ?)", rows)
        self.size += len(entries)
        return first

    def integrate(self) -> None:
        """Hash the committed leaves not yet in the tree, store the nodes, sign a checkpoint."""
        start = self._tree.size
        rows = self._db.execute("SELECT entry FROM leaves WHERE idx >= ? ORDER BY idx", (start,))
        nodes = [n for (entry,) in rows.fetchall() for n in self._tree.append(leaf_hash(entry))]
        if not nodes:
            return
        note = b"hedui-floor\n%d\n%s\n" % (self._tree.size, self._tree.root().hex().encode())
        with self._db:  # one transaction
            self._db.executemany(
                "INSERT INTO nodes VALUES (?, ?, ?)", [(lv, i, h) for (lv, i), h in nodes]
            )
            self._db.execute(
                "INSERT INTO checkpoints VALUES (?, ?)", (self._tree.size, note + self._sign(note))
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTEGRATE_EVERY_S)
            self.integrate()


@contextlib.asynccontextmanager
async def _sources(spec: GatewaySpec) -> AsyncIterator[list[tuple[str, Ask]]]:
    """The seven sources as (name, ask): in-process fakes, or HTTP when ``spec.base_url``."""
    if not spec.base_url:
        yield [(f.name, _body_of(f.fetch)) for f in _fakes(spec)]
        return
    import aiohttp

    adapters = importlib.metadata.entry_points(group="hedui.adapters")  # the built-in ones
    async with aiohttp.ClientSession(spec.base_url) as session:
        yield [(name, _posting(session, adapters[name].load().path)) for name in SEVEN]


def _body_of(fetch: Callable[[SourceQuery], Awaitable[Any]]) -> Ask:
    async def ask(query: SourceQuery) -> bytes:
        return bytes((await fetch(query)).body)

    return ask


def _posting(session: Any, path: str) -> Ask:
    """POST the built-in adapters' request body to ``path``; the answer's bytes, any status."""

    async def ask(query: SourceQuery) -> bytes:
        async with session.post(path, data=_request_body(query), headers=_JSON) as answer:
            return bytes(await answer.read())

    return ask


_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


@contextlib.asynccontextmanager
async def _floor_server(spec: GatewaySpec) -> AsyncIterator[str]:
    import grpc
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway.api._proto.hedui.v1 import verification_pb2 as pb

    key = Ed25519PrivateKey.generate()
    keyid = key.public_key().public_bytes_raw().hex()
    path = Path(spec.workdir) / "floor.db"
    for old in (path, path.with_name("floor.db-wal"), path.with_name("floor.db-shm")):
        old.unlink(missing_ok=True)  # each start is a new log (the leaf counter starts at 0)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for statement in _SCHEMA:
        db.execute(statement)
    db.isolation_level = "DEFERRED"  # from here on, `with db:` is one transaction
    log = _Log(db, key.sign)

    async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        msg = pb.SubmitVerificationRequest.FromString(request)
        request_id = msg.request_id or uuid.uuid4().hex
        accepted = _entry("request_accepted", request_id=request_id, accepted_at=time.time_ns())
        with db:  # 1. durable before any source is asked
            db.execute("INSERT INTO requests VALUES (?, ?, ?)", (request_id, request, log.size))
            log.append([accepted])
        query = SourceQuery(
            request_id=request_id,
            subjects=tuple(Subject(m.id_number, m.name) for m in msg.household.members),
            as_of=date.today(),
            purpose="APPLICATION",
            authorization_ref=msg.authorization.consent_ref,
            timeout_s=5.0,
        )
        answers = await asyncio.gather(*(ask(query) for _, ask in sources))  # 2.
        digests = [hashlib.sha256(a).hexdigest() for a in answers]
        report_id = uuid.uuid4().hex
        payload = orjson.dumps(  # 4. the report cites every answer's digest
            {
                "report_id": report_id,
                "request_id": request_id,
                "answers": [
                    {"source": name, "raw_digest": d, "body": a.decode()}
                    for (name, _), a, d in zip(sources, answers, digests, strict=True)
                ],
            },
            option=orjson.OPT_SORT_KEYS,
        )
        signature = key.sign(pae(payload))
        entries = [  # 3. one leaf per answer, then 4. the report's
            *(_entry("source_answered", request_id=request_id, source=name, raw_digest=d)
              for (name, _), d in zip(sources, digests, strict=True)),
            _entry("report_signed", request_id=request_id, report_id=report_id,
                   envelope_digest=hashlib.sha256(payload + signature).hexdigest()),
        ]  # fmt: skip
        with db:  # durable before the answer
            first = log.append(entries)
            db.executemany(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?)",
                [
                    (request_id, name, a, d, first + i)
                    for i, ((name, _), a, d) in enumerate(
                        zip(sources, answers, digests, strict=True)
                    )
                ],
            )
            db.execute(
                "INSERT INTO reports VALUES (?, ?, ?, ?, ?)",
                (report_id, request_id, payload, signature, first + len(entries) - 1),
            )
        return signed_reply(payload, keyid, signature)

    integrating = asyncio.create_task(log.run())  # 5.
    try:
        async with _sources(spec) as sources, bare_server(handle) as address:
            yield address
    finally:
        integrating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await integrating
        log.integrate()
        db.close()
