"""bench prototype: issue 6's minimal prototype really does its work (fan-out, signature, row)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import grpc
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench._cases import serialised_requests
from bench._procs import ServerProcess
from bench._prototype import pae, prototype_main
from bench._servers import METHOD, SEVEN, GatewaySpec
from gateway.api._proto.hedui.v1 import verification_pb2 as pb


def test_the_prototype_answers_seven_sources_signed_and_stores_each_report(tmp_path: Path) -> None:
    requests = []
    for n, raw in enumerate(serialised_requests()[:3]):
        msg = pb.SubmitVerificationRequest.FromString(raw)
        msg.request_id = f"prototype-{n}"
        requests.append(msg.SerializeToString())
    spec = GatewaySpec(str(tmp_path), "sqlite:///unused")
    with ServerProcess(prototype_main, spec) as server, grpc.insecure_channel(server.address) as ch:
        call = ch.unary_unary(METHOD)
        replies = [pb.SubmitVerificationResponse.FromString(call(r, timeout=10)) for r in requests]
    for raw, reply in zip(requests, replies, strict=True):
        report = orjson.loads(reply.envelope.payload)
        asked = pb.SubmitVerificationRequest.FromString(raw)
        assert report["request_id"] == asked.request_id
        assert [a["source"] for a in report["answers"]] == list(SEVEN)
        assert any(a["body"] for a in report["answers"])
        signature = reply.envelope.signatures[0]
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.keyid))
        key.verify(signature.sig, pae(reply.envelope.payload))  # raises if it does not verify
    with sqlite3.connect(tmp_path / "prototype.db") as db:
        stored = db.execute("SELECT payload FROM reports").fetchall()
    assert sorted(p for (p,) in stored) == sorted(r.envelope.payload for r in replies)
