"""Replay end to end: real submissions replay byte-identically; tampered rows are named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from audit import dsse
from audit.errors import SignatureError, TamperedEntry
from audit.sql import leaves
from audit.verify import verify_log
from gateway.api._proto.hedui.v1 import audit_pb2 as apb
from gateway.api._proto.hedui.v1 import audit_pb2_grpc as apb_grpc
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.models import reports, source_answers
from gateway.replay import ReplayMismatch, replay_stored
from gateway.server import RunningServer


def adapters_of(gateway: Gateway) -> dict[str, Any]:
    return {item.adapter.name: item.adapter for item in gateway.adapters}


async def submit(client: Client, cases: list[dict[str, Any]], n: int, tag: str) -> list[str]:
    """Submit ``n`` households — first those a shipped policy file covers (Shaanxi 61, Ningxia
    64), then those with planted discrepancies; return their report ids."""
    today = datetime.now(UTC).date()
    covered = ("61", "64")
    chosen = sorted(
        cases, key=lambda c: (c["region_code"][:2] not in covered, not c["discrepancies"])
    )[:n]
    ids = []
    for i, case in enumerate(chosen):
        response = await client.submit(
            request_from_case(case, today=today, request_id=f"{tag}-{i}")
        )
        ids.append(response.report.report_id)
    return ids


@pytest.mark.asyncio
async def test_real_submissions_replay_byte_identical(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Every report built from real simulator answers replays to the very same bytes."""
    pinned = 0
    for report_id in await submit(client, cases, 6, "replay"):
        result = await replay_stored(gateway.pipeline.store, report_id, adapters_of(gateway))
        assert result.identical, result.differences
        result.check()
        pinned += bool(json.loads(result.signed).get("policies"))
    assert pinned, "no report pinned a policy document: replay of policies is untested"


@pytest.mark.asyncio
async def test_replay_report_rpc_says_identical(
    client: Client, server: RunningServer, cases: list[dict[str, Any]]
) -> None:
    """ReplayReport over gRPC answers identical with equal digests and no differences."""
    (report_id,) = await submit(client, cases, 1, "rpc-replay")
    stub = apb_grpc.AuditServiceStub(client.channel)
    response = await stub.ReplayReport(apb.ReplayReportRequest(report_id=report_id))
    assert response.identical
    assert not response.differences
    assert response.signed_digest == response.replayed_digest


@pytest.mark.asyncio
async def test_tampered_payload_copy_is_named_by_replay(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Editing the stored report payload fails its signature and the replay names the field."""
    (report_id,) = await submit(client, cases, 1, "tamper-payload")
    stored = await gateway.pipeline.store.get_report(report_id)
    assert stored is not None
    edited = json.loads(stored.payload)
    edited["complete"] = not edited["complete"]
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(reports)
            .where(reports.c.report_id == report_id)
            .values(payload=json.dumps(edited).encode())
        )
    tampered = await gateway.pipeline.store.get_report(report_id)
    assert tampered is not None
    trusted = {gateway.keys.signer("report").keyid: gateway.keys.private_key("report").public_key()}
    with pytest.raises(SignatureError):
        dsse.verify(tampered.envelope, trusted)
    result = await replay_stored(gateway.pipeline.store, report_id, adapters_of(gateway))
    assert not result.identical
    assert [d.path for d in result.differences] == ["$.complete"]
    with pytest.raises(ReplayMismatch, match=r"\$\.complete"):
        result.check()


@pytest.mark.asyncio
async def test_tampered_raw_answer_is_named_by_replay(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Editing one stored raw answer changes that source's raw_digest in the replay."""
    (report_id,) = await submit(client, cases, 1, "tamper-raw")
    stored = await gateway.pipeline.store.get_report(report_id)
    assert stored is not None
    async with gateway.engine.begin() as conn:
        query = select(source_answers.c.id, source_answers.c.raw).where(
            source_answers.c.request_id == stored.request_id, source_answers.c.source == "hukou"
        )
        row = (await conn.execute(query)).one()
        await conn.execute(
            update(source_answers)
            .where(source_answers.c.id == row.id)
            .values(raw=bytes(row.raw).replace(b'"', b" ", 1))
        )
    result = await replay_stored(gateway.pipeline.store, report_id, adapters_of(gateway))
    paths = [d.path for d in result.differences]
    hukou = [s["source"] for s in json.loads(result.signed)["sources"]].index("hukou")
    assert f"$.sources[{hukou}].raw_digest" in paths, paths
    with pytest.raises(ReplayMismatch):
        result.check()


@pytest.mark.asyncio
async def test_tampered_leaf_row_is_named_by_verify_log(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Editing one stored leaf makes verify_log name that leaf's index."""
    (report_id,) = await submit(client, cases, 1, "tamper-leaf")
    await gateway.integrator.run_once()
    stored = await gateway.pipeline.store.get_report(report_id)
    assert stored is not None
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(leaves)
            .where(leaves.c.idx == stored.leaf_index)
            .values(entry=b'{"type":"report_signed","v":1}')
        )
    verifier = gateway.integrator.signer.verifier()
    with pytest.raises(TamperedEntry) as caught:
        await verify_log(gateway.audit_log, verifier)
    assert caught.value.index == stored.leaf_index
