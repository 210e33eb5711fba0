"""``hedui.v1.AuditService``: validate, ask :class:`~gateway.auditlog.AuditLog`, answer protobuf.

Errors from the log (``audit.errors``: OUT_OF_RANGE beyond the integrated log, DATA_LOSS when a
stored checkpoint does not verify) and from the gateway reach the client through the one error
interceptor.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime

import grpc

from adapters.base import Adapter
from audit.events import ReportRead, entry_bytes, sha256_hex
from audit.merkle import leaf_hash
from gateway.api._proto.hedui.v1 import audit_pb2 as pb
from gateway.api._proto.hedui.v1 import audit_pb2_grpc as pb_grpc
from gateway.api.convert import timestamp_of
from gateway.api.verification import caller_of
from gateway.app import Gateway
from gateway.auditlog import AuditLog, SigningKey, entry_type
from gateway.errors import FieldViolation, InvalidArgument
from gateway.policy import PolicyLibrary
from gateway.replay import replay_stored

__all__ = ["MAX_INDEX", "MAX_PAGE", "AuditServicer", "audit_servicer"]

MAX_INDEX = 2**53  # indices and sizes stay exact everywhere (JSON numbers, BigInteger columns)
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def _check_index(value: int, field: str, out: list[FieldViolation]) -> None:
    if value >= MAX_INDEX:
        out.append(FieldViolation(field, "must be below 2^53"))


def _raise_if(out: list[FieldViolation]) -> None:
    if out:
        raise InvalidArgument(out)


def _check_report_id(report_id: str, field: str, out: list[FieldViolation]) -> None:
    if not report_id or len(report_id) > 64:
        out.append(FieldViolation(field, "is required (at most 64 characters)"))


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(
        self,
        log: AuditLog,
        adapters: Mapping[str, Adapter],
        library: PolicyLibrary,
        clock: Callable[[], datetime],
    ) -> None:
        self.log = log
        self.adapters = adapters
        self.library = library
        self.clock = clock

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCheckpointResponse:
        view = await self.log.checkpoint()
        response = pb.GetCheckpointResponse(
            note=view.note,
            size=view.checkpoint.size,
            root_hash=view.checkpoint.root_hash,
            origin=view.checkpoint.origin,
        )
        if view.signed_at is not None:
            response.signed_at.CopyFrom(timestamp_of(view.signed_at))
        return response

    async def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetInclusionProofResponse:
        out: list[FieldViolation] = []
        which = request.WhichOneof("leaf")
        if which is None:
            out.append(FieldViolation("leaf_index", "leaf_index or report_id is required"))
        elif which == "report_id":
            _check_report_id(request.report_id, "report_id", out)
        else:
            _check_index(request.leaf_index, "leaf_index", out)
        _check_index(request.tree_size, "tree_size", out)
        if which == "leaf_index" and request.tree_size and request.leaf_index >= request.tree_size:
            out.append(FieldViolation("leaf_index", "must be below tree_size"))
        _raise_if(out)
        index = (
            await self.log.report_leaf(request.report_id)
            if which == "report_id"
            else request.leaf_index
        )
        proof = await self.log.inclusion(index, request.tree_size)
        return pb.GetInclusionProofResponse(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            hashes=list(proof.hashes),
            entry=proof.entry,
            leaf_hash=proof.leaf_hash,
            root_hash=proof.root_hash,
        )

    async def GetConsistencyProof(
        self, request: pb.GetConsistencyProofRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConsistencyProofResponse:
        out: list[FieldViolation] = []
        _check_index(request.first_size, "first_size", out)
        _check_index(request.second_size, "second_size", out)
        if request.second_size and request.first_size > request.second_size:
            out.append(FieldViolation("first_size", "must not exceed second_size"))
        _raise_if(out)
        first, second, hashes = await self.log.consistency(request.first_size, request.second_size)
        return pb.GetConsistencyProofResponse(first_size=first, second_size=second, hashes=hashes)

    async def GetEntries(
        self, request: pb.GetEntriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEntriesResponse:
        out: list[FieldViolation] = []
        _check_index(request.start, "start", out)
        _check_index(request.end, "end", out)
        if not 0 <= request.page_size <= MAX_PAGE:
            out.append(FieldViolation("page_size", f"must be between 1 and {MAX_PAGE}"))
        begin = _parse_token(request.page_token, request.start, out)
        if request.end and request.start > request.end:
            out.append(FieldViolation("start", "must not exceed end"))
        _raise_if(out)
        end = await self.log.resolve_size(request.end)
        if begin > end:
            raise InvalidArgument([FieldViolation("start", f"must not exceed end ({end})")])
        stop = min(end, begin + (request.page_size or DEFAULT_PAGE))
        entries = await self.log.entries(begin, stop)
        return pb.GetEntriesResponse(
            entries=[_entry(begin + i, e) for i, e in enumerate(entries)],
            next_page_token=_token(stop) if stop < end else "",
        )

    async def ReplayReport(
        self, request: pb.ReplayReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReplayReportResponse:
        out: list[FieldViolation] = []
        _check_report_id(request.report_id, "report_id", out)
        _raise_if(out)
        store, adapters = self.log.store, self.adapters
        result = await replay_stored(store, request.report_id, adapters, self.library)
        reader = caller_of(context)
        read = ReportRead(report_id=request.report_id, reader=reader, read_at=self.clock())
        await self.log.store.record_read(entry_bytes(read))
        return pb.ReplayReportResponse(
            report_id=result.report_id,
            identical=result.identical,
            differences=[
                pb.ReplayDifference(path=d.path, expected=d.expected, found=d.found)
                for d in result.differences
            ],
            signed_digest=sha256_hex(result.signed),
            replayed_digest=sha256_hex(result.replayed),
            policy_version=result.policy_version,
            code_version=result.code_version,
        )

    async def ListSigningKeys(
        self, request: pb.ListSigningKeysRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSigningKeysResponse:
        self.log.keys.reload()  # a rotation may have happened in another process
        return pb.ListSigningKeysResponse(
            keys=[_key(k) for k in self.log.signing_keys()], log_origin=self.log.origin
        )


def _entry(index: int, entry: bytes) -> pb.LogEntry:
    return pb.LogEntry(index=index, entry=entry, type=entry_type(entry), leaf_hash=leaf_hash(entry))


def _key(key: SigningKey) -> pb.SigningKey:
    msg = pb.SigningKey(
        role=key.role,
        key_id=key.keyid,
        algorithm=key.algorithm,
        public_key_pem=key.pem,
        note_vkey=key.vkey,
        created_at=timestamp_of(key.created_at),
    )
    if key.retired_at is not None:
        msg.retired_at.CopyFrom(timestamp_of(key.retired_at))
    return msg


def _token(next_index: int) -> str:
    return base64.urlsafe_b64encode(f"entries:{next_index}".encode()).decode()


def _parse_token(token: str, start: int, out: list[FieldViolation]) -> int:
    """The index a page token resumes at (``start`` without a token)."""
    if not token:
        return start
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        index = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        index, kind = -1, ""
    if kind != "entries" or not start <= index < MAX_INDEX:
        out.append(FieldViolation("page_token", "is not a token returned by GetEntries"))
        return start
    return index


def audit_servicer(gateway: Gateway) -> AuditServicer:
    """The servicer over a gateway's store, log, keys and adapters."""
    log = AuditLog(
        gateway.pipeline.store, gateway.audit_log, gateway.keys, gateway.settings.log_origin
    )
    adapters = {item.adapter.name: item.adapter for item in gateway.adapters}
    return AuditServicer(log, adapters, gateway.pipeline.policies, gateway.pipeline.clock)
