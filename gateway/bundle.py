"""The offline evidence bundle: one JSON file holding all an auditor needs to check one report.

Format ``hedui.bundle.v1`` (specified field by field in docs/audit.md)::

    {"format": "hedui.bundle.v1", "report_id": …, "exported_at": "…Z",
     "envelope": {DSSE JSON: payload, payloadType, signatures[{keyid, sig}]},
     "request": {the canonical request as stored},
     "answers": [{source, category, department, adapter_version, status, error,
                  as_of, fetched_at, latency_us, attempts, circuit_open, throttled,
                  raw (base64)}],
     "log": {origin, leaf_index, entry (base64), tree_size, inclusion_proof [hex], checkpoint},
     "keys": {"report": [{keyid, algorithm, pem, created_at, retired_at}],
              "checkpoint": [{keyid, algorithm, pem, vkey, created_at, retired_at}]}}

:func:`export_bundle` builds one from the database; :meth:`Bundle.from_json` parses one back
into checked values (a malformed bundle raises :class:`BundleError` naming the field).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from adapters.base import AnswerStatus
from audit.dsse import Envelope
from audit.events import ReportRead, entry_bytes
from gateway.auditlog import AuditLog, SigningKey
from gateway.errors import GatewayError, NotFound
from gateway.fanout import Answer
from gateway.replay import answer_from_row, parse_time
from gateway.report import iso_time

__all__ = ["FORMAT", "Bundle", "BundleError", "export_bundle"]

FORMAT = "hedui.bundle.v1"


class BundleError(GatewayError):
    """The bundle file is not a well-formed ``hedui.bundle.v1`` document."""

    status: ClassVar[str] = "INVALID_ARGUMENT"


@dataclasses.dataclass(frozen=True, slots=True)
class Bundle:
    """A parsed bundle; every field decoded (bytes are bytes, times are aware datetimes)."""

    report_id: str
    envelope: Envelope
    request: dict[str, Any]
    answers: tuple[Answer, ...]
    origin: str
    leaf_index: int
    entry: bytes
    tree_size: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: str
    report_keys: tuple[SigningKey, ...]
    checkpoint_keys: tuple[SigningKey, ...]
    exported_at: str = ""

    def to_json(self) -> bytes:
        """The bundle document, indented for people (its checks never depend on whitespace)."""
        doc = {
            "format": FORMAT,
            "report_id": self.report_id,
            "exported_at": self.exported_at,
            "envelope": json.loads(self.envelope.to_json()),
            "request": self.request,
            "answers": [_answer_doc(a) for a in self.answers],
            "log": {
                "origin": self.origin,
                "leaf_index": self.leaf_index,
                "entry": base64.b64encode(self.entry).decode(),
                "tree_size": self.tree_size,
                "inclusion_proof": [h.hex() for h in self.inclusion_proof],
                "checkpoint": self.checkpoint,
            },
            "keys": {
                "report": [_key_doc(k) for k in self.report_keys],
                "checkpoint": [_key_doc(k) for k in self.checkpoint_keys],
            },
        }
        return json.dumps(doc, ensure_ascii=False, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> Bundle:
        """Parse and check a bundle document."""
        try:
            doc = json.loads(data)
            if doc.get("format") != FORMAT:
                raise BundleError(f"format: expected {FORMAT!r}, found {doc.get('format')!r}")
            log, keys = doc["log"], doc["keys"]
            return cls(
                report_id=str(doc["report_id"]),
                envelope=Envelope.from_json(json.dumps(doc["envelope"])),
                request=dict(doc["request"]),
                answers=tuple(_answer(a) for a in doc["answers"]),
                origin=str(log["origin"]),
                leaf_index=int(log["leaf_index"]),
                entry=base64.b64decode(log["entry"], validate=True),
                tree_size=int(log["tree_size"]),
                inclusion_proof=tuple(bytes.fromhex(h) for h in log["inclusion_proof"]),
                checkpoint=str(log["checkpoint"]),
                report_keys=tuple(_key("report", k) for k in keys["report"]),
                checkpoint_keys=tuple(_key("checkpoint", k) for k in keys["checkpoint"]),
                exported_at=str(doc.get("exported_at", "")),
            )
        except BundleError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise BundleError(f"not a {FORMAT} bundle: {type(exc).__name__}: {exc}") from exc


def _answer_doc(a: Answer) -> dict[str, Any]:
    return {
        "source": a.source,
        "category": a.category,
        "department": a.department,
        "adapter_version": a.adapter_version,
        "status": a.status.value,
        "error": a.error,
        "as_of": a.as_of.isoformat() if a.as_of else None,
        "fetched_at": iso_time(a.fetched_at),
        "latency_us": a.latency_us,
        "attempts": a.attempts,
        "circuit_open": a.circuit_open,
        "throttled": a.throttled,
        "raw": base64.b64encode(a.raw).decode(),
    }


def _answer(d: dict[str, Any]) -> Answer:
    return Answer(
        source=str(d["source"]),
        category=str(d["category"]),
        department=str(d["department"]),
        adapter_version=str(d["adapter_version"]),
        status=AnswerStatus(d["status"]),
        error=str(d["error"]),
        raw=base64.b64decode(d["raw"], validate=True),
        as_of=date.fromisoformat(d["as_of"]) if d["as_of"] else None,
        fetched_at=parse_time(d["fetched_at"]),
        latency_us=int(d["latency_us"]),
        attempts=int(d["attempts"]),
        circuit_open=bool(d["circuit_open"]),
        throttled=bool(d["throttled"]),
    )


def _key_doc(k: SigningKey) -> dict[str, Any]:
    doc: dict[str, Any] = {"keyid": k.keyid, "algorithm": k.algorithm, "pem": k.pem}
    if k.role == "checkpoint":
        doc["vkey"] = k.vkey
    doc["created_at"] = iso_time(k.created_at)
    doc["retired_at"] = iso_time(k.retired_at) if k.retired_at else None
    return doc


def _key(role: str, d: dict[str, Any]) -> SigningKey:
    retired = d.get("retired_at")
    return SigningKey(
        role=role,
        keyid=str(d["keyid"]),
        algorithm=str(d["algorithm"]),
        pem=str(d["pem"]),
        vkey=str(d.get("vkey", "")),
        created_at=parse_time(d["created_at"]),
        retired_at=parse_time(retired) if retired else None,
    )


async def export_bundle(
    log: AuditLog, report_id: str, reader: str, clock: Callable[[], datetime]
) -> Bundle:
    """A bundle for ``report_id``, proved against the latest checkpoint; the read is logged."""
    store = log.store
    report = await store.get_report(report_id)
    if report is None:
        raise NotFound(f"no report {report_id!r}")
    request = await store.find_request(report.request_id)
    if request is None:
        raise NotFound(f"report {report_id!r} points at a missing request")
    answers = [answer_from_row(r) for r in await store.answers(report.request_id)]
    view = await log.checkpoint()  # first, so the proof is to exactly this tree head
    proof = await log.inclusion(int(report.leaf_index), view.checkpoint.size)
    keys = log.signing_keys()
    await store.record_read(
        entry_bytes(ReportRead(report_id=report_id, reader=reader, read_at=clock()))
    )
    return Bundle(
        report_id=report_id,
        envelope=report.envelope,
        request=json.loads(request.request_json),
        answers=tuple(answers),
        origin=log.origin,
        leaf_index=proof.leaf_index,
        entry=proof.entry,
        tree_size=proof.tree_size,
        inclusion_proof=proof.hashes,
        checkpoint=view.note,
        report_keys=tuple(k for k in keys if k.role == "report"),
        checkpoint_keys=tuple(k for k in keys if k.role == "checkpoint"),
        exported_at=iso_time(clock()),
    )
