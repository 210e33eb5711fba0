"""Replay (DESIGN.md, contract 4): rebuild a signed report from stored data, compare the bytes.

A replay uses only what was stored when the report was made:

1. the canonical request (``requests.request_json``);
2. the raw answers with their metadata (``source_answers``), decoded again by the adapter of the
   same name — decoding is pure, no department is asked;
3. the pins in the signed payload: ``report_id``, ``created_at``, ``policy_version``,
   ``code_version`` and the policy documents under ``policies`` (fetched by digest from a
   :class:`~gateway.policy.PolicyLibrary`, never resolved again).

It then runs :func:`gateway.report.build_report` and :func:`gateway.report.payload_bytes` — the
code that built the report — and compares the bytes with the signed payload. On a difference,
:func:`diff_json` lists every differing field by JSON path. The offline bundle verifier
(:mod:`gateway.bundle_verify`) calls :func:`replay_payload` too: one replay, two front ends.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.base import Adapter, AnswerStatus
from gateway.errors import FailedPrecondition, NotFound
from gateway.fanout import Answer, decode_answer
from gateway.findings import FindingPolicy
from gateway.policy import PolicyDocument, PolicyError, PolicyLibrary
from gateway.report import build_report, payload_bytes
from gateway.request_codec import request_from_dict
from gateway.store import Store

__all__ = [
    "ABSENT",
    "Difference",
    "ReplayMismatch",
    "ReplayResult",
    "answer_from_row",
    "diff_json",
    "known_policies",
    "parse_time",
    "replay_payload",
    "replay_stored",
]

ABSENT = "<absent>"
_MAX_DIFFERENCES = 200


@dataclasses.dataclass(frozen=True, slots=True)
class Difference:
    """One field that differs: its JSON path, the signed value and the replayed one (JSON text)."""

    path: str
    expected: str
    found: str


class ReplayMismatch(FailedPrecondition):
    """The replayed payload is not byte-identical to the signed one."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReplayResult:
    """The outcome of one replay; :meth:`check` raises unless the bytes are identical."""

    report_id: str
    signed: bytes
    replayed: bytes
    differences: tuple[Difference, ...]
    policy_version: str
    code_version: str

    @property
    def identical(self) -> bool:
        return self.signed == self.replayed and not self.differences

    def check(self) -> None:
        """Raise :class:`ReplayMismatch` naming the first differences unless byte-identical."""
        if self.identical:
            return
        first = self.differences[:3]
        shown = "; ".join(f"{d.path}: expected {d.expected}, found {d.found}" for d in first)
        more = len(self.differences) - 3
        raise ReplayMismatch(
            f"replay of {self.report_id} differs from the signed payload: {shown}"
            + (f" (and {more} more)" if more > 0 else "")
        )


def known_policies() -> dict[str, FindingPolicy]:
    """The finding policies this code can replay, by version."""
    policy = FindingPolicy()
    return {policy.version: policy}


def parse_time(text: str) -> datetime:
    """Inverse of :func:`gateway.report.iso_time` (``…T08:00:00.000000Z``), exact."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the store writes and means UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _decoded(answer: Answer, adapters: Mapping[str, Adapter]) -> Answer:
    """Decode a stored answer again. Bytes that arrived are decoded even when the stored status
    says decoding failed, so the failure itself is reproduced, not copied."""
    if answer.status is not AnswerStatus.OK and not answer.raw:
        return answer  # the source never answered: nothing to decode
    adapter = adapters.get(answer.source)
    if adapter is None:
        raise FailedPrecondition(f"no adapter named {answer.source!r} is installed to decode")
    fresh = dataclasses.replace(answer, status=AnswerStatus.OK, error="", records=())
    return decode_answer(adapter, fresh)


def _documents(pins: Mapping[str, Any], library: PolicyLibrary) -> list[PolicyDocument]:
    """The pinned policy documents, by digest, in the order the report lists them."""
    try:
        return [library.by_digest(p["digest"]) for p in pins.get("policies", [])]
    except PolicyError as exc:
        raise FailedPrecondition(f"a pinned policy document is not available: {exc}") from exc


def replay_payload(
    signed: bytes,
    request: Mapping[str, Any],
    answers: Sequence[Answer],
    adapters: Mapping[str, Adapter],
    library: PolicyLibrary | None = None,
    policies: Mapping[str, FindingPolicy] | None = None,
) -> ReplayResult:
    """Rebuild the report from ``request`` and the raw ``answers``; pins come from ``signed``.

    ``library`` holds the policy documents (default: the shipped ones); ``policies`` the
    finding policies this code knows, by version.
    """
    pins = json.loads(signed)
    library = PolicyLibrary.from_directory() if library is None else library
    policies = known_policies() if policies is None else policies
    policy = policies.get(pins["policy_version"])
    if policy is None:
        known = ", ".join(sorted(policies))
        raise FailedPrecondition(
            f"policy version {pins['policy_version']!r} is unknown to this code (knows {known})"
        )
    report = build_report(
        report_id=pins["report_id"],
        request=request_from_dict(dict(request)),
        answers=[_decoded(a, adapters) for a in answers],
        created_at=parse_time(pins["created_at"]),
        policy=policy,
        code_version=pins["code_version"],
        policies=_documents(pins, library),
    )
    replayed = payload_bytes(report)
    differences = () if replayed == signed else tuple(_differences(signed, replayed))
    return ReplayResult(
        pins["report_id"], signed, replayed, differences, policy.version, pins["code_version"]
    )


def _differences(signed: bytes, replayed: bytes) -> list[Difference]:
    found = list(diff_json(json.loads(signed), json.loads(replayed)))[:_MAX_DIFFERENCES]
    if not found:  # same data, different bytes: the signed payload is not canonical JSON
        found = [Difference("$", "canonical JSON (RFC 8785)", "other bytes, same data")]
    return found


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_json(expected: Any, found: Any, path: str = "$") -> Iterable[Difference]:
    """Every leaf-level difference between two JSON values, by path, in document order."""
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(expected.keys() | found.keys()):
            sub = f"{path}.{key}"
            if key not in found:
                yield Difference(sub, _text(expected[key]), ABSENT)
            elif key not in expected:
                yield Difference(sub, ABSENT, _text(found[key]))
            else:
                yield from diff_json(expected[key], found[key], sub)
    elif isinstance(expected, list) and isinstance(found, list):
        for i in range(max(len(expected), len(found))):
            sub = f"{path}[{i}]"
            if i >= len(found):
                yield Difference(sub, _text(expected[i]), ABSENT)
            elif i >= len(expected):
                yield Difference(sub, ABSENT, _text(found[i]))
            else:
                yield from diff_json(expected[i], found[i], sub)
    elif expected != found or type(expected) is not type(found):
        yield Difference(path, _text(expected), _text(found))


def answer_from_row(row: Any) -> Answer:
    """A stored ``source_answers`` row as an (undecoded) Answer."""
    return Answer(
        source=row.source,
        category=row.category,
        department=row.department,
        adapter_version=row.adapter_version,
        status=AnswerStatus(row.status),
        error=row.error,
        raw=bytes(row.raw),
        as_of=row.as_of,
        fetched_at=utc(row.fetched_at),
        latency_us=int(row.latency_us),
        attempts=int(row.attempts),
        circuit_open=bool(row.circuit_open),  # migration 0002
        throttled=bool(row.throttled),
    )


async def replay_stored(
    store: Store,
    report_id: str,
    adapters: Mapping[str, Adapter],
    library: PolicyLibrary | None = None,
) -> ReplayResult:
    """Replay a report from the database behind ``store``."""
    report = await store.get_report(report_id)
    if report is None:
        raise NotFound(f"no report {report_id!r}")
    request = await store.find_request(report.request_id)
    if request is None:
        raise NotFound(f"report {report_id!r} points at a missing request {report.request_id!r}")
    # The payload is stored once, as signed (the envelope is kept in parts): a changed copy
    # fails the signature, which the bundle verifier checks; here it fails the replay.
    answers = [answer_from_row(r) for r in await store.answers(report.request_id)]
    request_data = json.loads(request.request_json)
    return replay_payload(report.payload, request_data, answers, adapters, library)
