"""AuditService over real gRPC: checkpoints, proofs, entries, keys — each checked independently."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from audit.checkpoint import open_checkpoint
from audit.events import ReportSigned, parse_entry
from audit.merkle import leaf_hash
from audit.note import NoteVerifier
from audit.proof import verify_consistency, verify_inclusion
from gateway.api._proto.hedui.v1 import audit_pb2 as apb
from gateway.api._proto.hedui.v1 import audit_pb2_grpc as apb_grpc
from gateway.app import Gateway
from gateway.client import Client, request_from_case


def stub_of(client: Client) -> apb_grpc.AuditServiceStub:
    return apb_grpc.AuditServiceStub(client.channel)


async def submit(client: Client, case: dict[str, Any], request_id: str) -> str:
    today = datetime.now(UTC).date()
    response = await client.submit(request_from_case(case, today=today, request_id=request_id))
    return str(response.report.report_id)


def violations(exc: grpc.aio.AioRpcError) -> set[str]:
    """The fields named by the BadRequest detail of an INVALID_ARGUMENT error."""
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return {v.field for v in bad.field_violations}
    return set()


async def note_verifiers(stub: apb_grpc.AuditServiceStub) -> list[NoteVerifier]:
    keys = (await stub.ListSigningKeys(apb.ListSigningKeysRequest())).keys
    return [NoteVerifier.from_vkey(k.note_vkey) for k in keys if k.role == "checkpoint"]


@pytest.mark.asyncio
async def test_report_leaf_is_included_under_signed_checkpoint(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """The checkpoint verifies with the published vkey; the report's leaf proves into its root."""
    report_id = await submit(client, cases[0], "svc-incl")
    await gateway.integrator.run_once()
    stub = stub_of(client)
    cp = await stub.GetCheckpoint(apb.GetCheckpointRequest())
    checkpoint = open_checkpoint(cp.note, await note_verifiers(stub))
    assert (checkpoint.size, checkpoint.root_hash) == (cp.size, cp.root_hash)
    proof = await stub.GetInclusionProof(apb.GetInclusionProofRequest(report_id=report_id))
    assert proof.tree_size == cp.size
    event = parse_entry(proof.entry)
    assert isinstance(event, ReportSigned)
    assert event.report_id == report_id
    verify_inclusion(
        leaf_hash(proof.entry), proof.leaf_index, proof.tree_size, list(proof.hashes), cp.root_hash
    )
    by_index = await stub.GetInclusionProof(
        apb.GetInclusionProofRequest(leaf_index=proof.leaf_index, tree_size=proof.tree_size)
    )
    assert list(by_index.hashes) == list(proof.hashes)


@pytest.mark.asyncio
async def test_consistency_between_two_checkpoints_verifies(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """A proof between an older and the latest checkpoint verifies against both roots."""
    stub = stub_of(client)
    await submit(client, cases[1], "svc-cons-1")
    await gateway.integrator.run_once()
    old = await stub.GetCheckpoint(apb.GetCheckpointRequest())
    await submit(client, cases[2], "svc-cons-2")
    await gateway.integrator.run_once()
    new = await stub.GetCheckpoint(apb.GetCheckpointRequest())
    assert new.size > old.size
    proof = await stub.GetConsistencyProof(apb.GetConsistencyProofRequest(first_size=old.size))
    assert proof.second_size == new.size
    verify_consistency(old.size, new.size, old.root_hash, new.root_hash, list(proof.hashes))


@pytest.mark.asyncio
async def test_entries_come_in_pages_that_add_up_to_the_log(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Paging through GetEntries yields every entry once, in order, with its leaf hash."""
    await submit(client, cases[3], "svc-pages")
    await gateway.integrator.run_once()
    stub = stub_of(client)
    size = (await stub.GetCheckpoint(apb.GetCheckpointRequest())).size
    seen: list[apb.LogEntry] = []
    token = ""
    while True:
        page = await stub.GetEntries(apb.GetEntriesRequest(page_size=3, page_token=token))
        assert len(page.entries) <= 3
        seen.extend(page.entries)
        token = page.next_page_token
        if not token:
            break
    assert [e.index for e in seen] == list(range(size))
    assert [e.entry for e in seen] == await gateway.audit_log.entries(0, size)
    assert all(e.leaf_hash == leaf_hash(e.entry) for e in seen)
    assert {"request_accepted", "source_answered", "report_signed"} <= {e.type for e in seen}


@pytest.mark.asyncio
async def test_bad_requests_get_precise_statuses(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]]
) -> None:
    """Malformed input is INVALID_ARGUMENT naming fields; beyond the log is OUT_OF_RANGE."""
    stub = stub_of(client)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetCheckpoint(apb.GetCheckpointRequest())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    await submit(client, cases[4], "svc-bad")
    await gateway.integrator.run_once()
    invalid = [
        (stub.GetEntries, apb.GetEntriesRequest(page_size=5000), {"page_size"}),
        (stub.GetEntries, apb.GetEntriesRequest(page_token="nonsense"), {"page_token"}),
        (stub.GetInclusionProof, apb.GetInclusionProofRequest(), {"leaf_index"}),
        (
            stub.GetInclusionProof,
            apb.GetInclusionProofRequest(leaf_index=5, tree_size=3),
            {"leaf_index"},
        ),
        (
            stub.GetConsistencyProof,
            apb.GetConsistencyProofRequest(first_size=9, second_size=2),
            {"first_size"},
        ),
        (stub.ReplayReport, apb.ReplayReportRequest(), {"report_id"}),
    ]
    for method, request, fields in invalid:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await method(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        assert violations(caught.value) == fields
    beyond = [
        apb.GetInclusionProofRequest(leaf_index=10**6),
        apb.GetInclusionProofRequest(leaf_index=0, tree_size=10**6),
    ]
    for request in beyond:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetInclusionProof(request)
        assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE, request
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetEntries(apb.GetEntriesRequest(start=0, end=10**6))
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetInclusionProof(apb.GetInclusionProofRequest(report_id="no-such-report"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
