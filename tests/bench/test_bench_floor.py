"""bench prototype: the contract prototype really does the contracts' work (rows, leaves, tree)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import merkle
from bench._cases import serialised_requests
from bench._floor import floor_main
from bench._procs import ServerProcess
from bench._prototype import pae
from bench._servers import METHOD, SEVEN, GatewaySpec, SimulatorSpec, simulator_main
from gateway.api._proto.hedui.v1 import verification_pb2 as pb


def _requests(count: int) -> list[bytes]:
    out = []
    for n, raw in enumerate(serialised_requests()[:count]):
        msg = pb.SubmitVerificationRequest.FromString(raw)
        msg.request_id = f"floor-{n}"
        out.append(msg.SerializeToString())
    return out


@contextlib.contextmanager
def _sources(kind: str) -> Iterator[str]:
    """The base URL of the department simulator for ``http``; empty (in-process fakes) else."""
    if kind != "http":
        yield ""
        return
    with ServerProcess(simulator_main, SimulatorSpec()) as simulator:
        yield simulator.address


@pytest.mark.parametrize("kind", ["in-process", "http"])
def test_the_contract_prototype_stores_requests_answers_reports_and_a_leaf_for_each(
    tmp_path: Path, kind: str
) -> None:
    """Nine leaves per request, raw answers with their digests, signed reports citing them."""
    requests = _requests(3)
    with contextlib.ExitStack() as stack:
        spec = GatewaySpec(
            str(tmp_path), "sqlite:///unused", base_url=stack.enter_context(_sources(kind))
        )
        server = stack.enter_context(ServerProcess(floor_main, spec))
        ch = stack.enter_context(grpc.insecure_channel(server.address))
        call = ch.unary_unary(METHOD)
        replies = [pb.SubmitVerificationResponse.FromString(call(r, timeout=10)) for r in requests]
    with sqlite3.connect(tmp_path / "floor.db") as db:
        leaves = [orjson.loads(e) for (e,) in db.execute("SELECT entry FROM leaves ORDER BY idx")]
        answers = db.execute("SELECT source, raw, raw_digest FROM answers").fetchall()
        stored = [bytes(p) for (p,) in db.execute("SELECT payload FROM reports")]
        requests_stored = db.execute("SELECT count(*) FROM requests").fetchone()[0]
    kinds = [leaf["type"] for leaf in leaves]
    assert kinds == (["request_accepted"] + ["source_answered"] * 7 + ["report_signed"]) * 3
    assert requests_stored == 3
    assert len(answers) == 21
    assert all(hashlib.sha256(raw).hexdigest() == digest for _, raw, digest in answers)
    assert all(isinstance(orjson.loads(raw), dict) for _, raw, _ in answers)  # departments' JSON
    for reply in replies:
        signature = reply.envelope.signatures[0]
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature.keyid))
        key.verify(signature.sig, pae(reply.envelope.payload))  # raises if it does not verify
        report = orjson.loads(reply.envelope.payload)
        assert [a["source"] for a in report["answers"]] == list(SEVEN)
    assert sorted(stored) == sorted(r.envelope.payload for r in replies)


def test_the_contract_prototype_integrates_every_leaf_into_the_rfc6962_tree(
    tmp_path: Path,
) -> None:
    """At shutdown the stored nodes hold the tree of all leaves; the last checkpoint names it."""
    spec = GatewaySpec(str(tmp_path), "sqlite:///unused")
    with ServerProcess(floor_main, spec) as server, grpc.insecure_channel(server.address) as ch:
        call = ch.unary_unary(METHOD)
        for raw in _requests(2):
            call(raw, timeout=10)
    with sqlite3.connect(tmp_path / "floor.db") as db:
        entries = [bytes(e) for (e,) in db.execute("SELECT entry FROM leaves ORDER BY idx")]
        nodes = {(lv, i): bytes(h) for lv, i, h in db.execute("SELECT * FROM nodes")}
        size, note = db.execute("SELECT size, note FROM checkpoints ORDER BY size DESC").fetchone()
    expected = merkle.root([merkle.leaf_hash(e) for e in entries])
    assert size == len(entries) == 18
    assert merkle.fold([nodes[n] for n in merkle.perfect_nodes(0, size)]) == expected
    assert expected.hex().encode() in bytes(note)
