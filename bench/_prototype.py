"""The minimal prototype of issue 6, as a server: the child side of ``bench prototype``.

Issue 6 says a minimal prototype of the pipeline — seven in-process sources, Ed25519 signing,
one SQLite append per request — reached 0.30 × echo on this machine. This is that prototype,
rebuilt so it can be measured beside the echo in the same run: a bare grpc.aio handler parses
the ``SubmitVerificationRequest``, asks the same seven in-process fake sources as the gateway's
``pipeline`` benchmark (one task each, gathered), puts their answer bodies in one JSON report,
signs it (DSSE pre-authentication encoding, Ed25519), inserts one row into SQLite (WAL,
``synchronous=NORMAL``, one commit per request) and answers with the envelope.

What it leaves out is the point of the comparison: validation, the stored request before the
fan-out, resilience (timeouts, breaker, bulkhead), decoding and assessment, findings, audit
leaves and their Merkle integration, idempotency, report subjects, metrics and logging.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path

import orjson

from adapters.base import SourceQuery, Subject
from bench._procs import serve_until_stopped
from bench._servers import GatewaySpec, _fakes, bare_server

__all__ = ["PAYLOAD_TYPE", "pae", "prototype_main", "signed_reply"]

PAYLOAD_TYPE = "application/vnd.hedui.prototype+json"


def prototype_main(spec: GatewaySpec, conn: Connection) -> None:
    serve_until_stopped(conn, lambda: _prototype_server(spec), event_loop=spec.event_loop)


@contextlib.asynccontextmanager
async def _prototype_server(spec: GatewaySpec) -> AsyncIterator[str]:
    import grpc
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway.api._proto.hedui.v1 import verification_pb2 as pb

    sources = _fakes(spec)
    key = Ed25519PrivateKey.generate()
    keyid = key.public_key().public_bytes_raw().hex()  # the raw public key: checkable by anyone
    db = sqlite3.connect(Path(spec.workdir) / "prototype.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, payload BLOB, sig BLOB)")

    async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        msg = pb.SubmitVerificationRequest.FromString(request)
        query = SourceQuery(
            request_id=msg.request_id or uuid.uuid4().hex,
            subjects=tuple(Subject(m.id_number, m.name) for m in msg.household.members),
            as_of=date.today(),
            purpose="APPLICATION",
            authorization_ref=msg.authorization.consent_ref,
            timeout_s=5.0,
        )
        answers = await asyncio.gather(*(s.fetch(query) for s in sources))
        payload = orjson.dumps(
            {
                "request_id": query.request_id,
                "answers": [
                    {"source": s.name, "body": a.body.decode()}
                    for s, a in zip(sources, answers, strict=True)
                ],
            },
            option=orjson.OPT_SORT_KEYS,
        )
        signature = key.sign(pae(payload))
        report_id = uuid.uuid4().hex
        db.execute("INSERT INTO reports VALUES (?, ?, ?)", (report_id, payload, signature))
        return signed_reply(payload, keyid, signature)

    try:
        async with bare_server(handle) as address:
            yield address
    finally:
        db.close()  # after the server stopped: no handler is left to use it


def signed_reply(payload: bytes, keyid: str, signature: bytes) -> bytes:
    """The serialised response of both prototypes: the DSSE envelope alone (no Report message)."""
    from gateway.api._proto.hedui.v1 import verification_pb2 as pb

    envelope = pb.DsseEnvelope(payload=payload, payload_type=PAYLOAD_TYPE)
    envelope.signatures.add(keyid=keyid, sig=signature)
    return pb.SubmitVerificationResponse(envelope=envelope).SerializeToString()


def pae(payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding, what the signature covers."""
    kind = PAYLOAD_TYPE.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
