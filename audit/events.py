"""The audit log's leaf kinds: typed events, each stored as canonical JSON (RFC 8785).

Every leaf is a JSON object with ``"type"`` (the event kind), ``"v"`` (the schema version) and
the event's fields. Times are UTC RFC 3339 strings with microseconds (``…T08:00:00.000000Z``);
numbers are integers (no floats in canonical bytes); fields ending in ``_digest`` are lowercase
SHA-256 hex. Plain resident ID numbers never enter the log: :func:`subject_digest` keys them
with a per-deployment secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from audit.canonical import canonical_json
from audit.errors import EventError

__all__ = [
    "SCHEMA_VERSION",
    "AdapterConfigChanged",
    "AuditEvent",
    "KeyCreated",
    "KeyRetired",
    "ReportRead",
    "ReportSigned",
    "RequestAccepted",
    "SourceAnswered",
    "entry_bytes",
    "parse_entry",
    "sha256_hex",
    "subject_digest",
]

SCHEMA_VERSION = 1
_MAX_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: integers stay exact up to here
_HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256, the form of every ``*_digest`` field."""
    return hashlib.sha256(data).hexdigest()


def subject_digest(id_numbers: Iterable[str], salt: bytes) -> str:
    """HMAC-SHA256 keyed by the deployment's secret salt over the sorted ID numbers (JCS array).

    ID numbers are upper-cased first, so a check digit ``x`` and ``X`` give the same digest.
    """
    if len(salt) < 16:
        raise ValueError("the subject salt must be a secret of at least 16 bytes")
    ids = sorted(i.strip().upper() for i in id_numbers)
    return hmac.new(salt, canonical_json(ids), hashlib.sha256).hexdigest()


class AuditEvent:
    """Base of the leaf kinds: validates every field when built."""

    __slots__ = ()
    TYPE: ClassVar[str]

    def __post_init__(self) -> None:
        for name, kind in _fields(type(self)):
            _check_field(name, kind, getattr(self, name))


def _check_field(name: str, kind: type, value: object) -> None:
    if kind is int and (type(value) is not int or not 0 <= value <= _MAX_INT):
        raise EventError(f"{name} must be an integer between 0 and 2^53 - 1, not {value!r}")
    if kind is str and not isinstance(value, str):
        raise EventError(f"{name} must be a string, not {value!r}")
    if kind is datetime and (not isinstance(value, datetime) or value.tzinfo is None):
        raise EventError(f"{name} must be a timezone-aware datetime, not {value!r}")
    if name.endswith("_digest") and not _HEX64.fullmatch(str(value)):
        raise EventError(f"{name} must be 64 lowercase hex digits, not {value!r}")


_HINTS: dict[str, dict[str, type]] = {}


def _hints(cls: type[AuditEvent]) -> dict[str, type]:
    """Field types by name, resolved once per event kind."""
    if cls.TYPE not in _HINTS:
        _HINTS[cls.TYPE] = typing.get_type_hints(cls)
    return _HINTS[cls.TYPE]


_FIELDS: dict[type[AuditEvent], tuple[tuple[str, type], ...]] = {}


def _fields(cls: type[AuditEvent]) -> tuple[tuple[str, type], ...]:
    """Each field's name and type, in declaration order, resolved once per event kind
    (``dataclasses.fields`` is too slow to ask for every leaf)."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = _hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        found = _FIELDS[cls] = tuple((name, hints[name]) for name in names)
    return found


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RequestAccepted(AuditEvent):
    """A caseworker's verification request passed validation and authorization."""

    TYPE: ClassVar[str] = "request_accepted"
    request_id: str
    accepted_at: datetime
    purpose: str
    region_code: str
    member_count: int
    subject_digest: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SourceAnswered(AuditEvent):
    """A data source answered (or failed to); ``raw_digest`` is SHA-256 of its raw bytes."""

    TYPE: ClassVar[str] = "source_answered"
    request_id: str
    source: str
    status: str
    raw_digest: str
    latency_ms: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReportSigned(AuditEvent):
    """A report was signed; ``envelope_digest`` is SHA-256 of the DSSE envelope bytes."""

    TYPE: ClassVar[str] = "report_signed"
    request_id: str
    report_id: str
    envelope_digest: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReportRead(AuditEvent):
    """Someone read a signed report."""

    TYPE: ClassVar[str] = "report_read"
    report_id: str
    reader: str
    read_at: datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class KeyCreated(AuditEvent):
    """A signing key was created."""

    TYPE: ClassVar[str] = "key_created"
    key_id: str
    algorithm: str
    at: datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class KeyRetired(AuditEvent):
    """A signing key was retired (it stays verifiable)."""

    TYPE: ClassVar[str] = "key_retired"
    key_id: str
    algorithm: str
    at: datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AdapterConfigChanged(AuditEvent):
    """An adapter's configuration changed; ``change_digest`` is SHA-256 of the new config."""

    TYPE: ClassVar[str] = "adapter_config_changed"
    adapter: str
    change_digest: str
    by: str
    at: datetime


_KINDS: dict[str, type[AuditEvent]] = {
    k.TYPE: k
    for k in (
        *(RequestAccepted, SourceAnswered, ReportSigned, ReportRead),
        *(KeyCreated, KeyRetired, AdapterConfigChanged),
    )
}


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(timespec="microseconds") + "Z"
    return value


def _decode(name: str, kind: type, value: object) -> object:
    if kind is not datetime:
        return value
    if not isinstance(value, str) or not value.endswith("Z"):
        raise EventError(f"{name} must be a UTC time string ending in Z, not {value!r}")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise EventError(f"{name}: {value!r} is not an RFC 3339 time") from exc


def entry_bytes(event: AuditEvent) -> bytes:
    """The leaf bytes: RFC 8785 canonical JSON of type, version and fields."""
    fields: dict[str, Any] = {
        name: _encode(getattr(event, name)) for name, _ in _fields(type(event))
    }
    return canonical_json({"type": event.TYPE, "v": SCHEMA_VERSION, **fields})


def parse_entry(data: bytes) -> AuditEvent:
    """The event in leaf bytes; raise :class:`EventError` unless known, valid and canonical."""
    try:
        obj: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError("leaf is not JSON") from exc
    if not isinstance(obj, dict):
        raise EventError("leaf is not a JSON object")
    kind = _KINDS.get(obj.pop("type", None))
    if kind is None or obj.pop("v", None) != SCHEMA_VERSION:
        raise EventError(f"unknown event type or version in {data[:80]!r}")
    hints, names = _hints(kind), {name for name, _ in _fields(kind)}
    if set(obj) != names:
        raise EventError(f"{kind.TYPE}: fields {sorted(obj)}, expected {sorted(names)}")
    event = kind(**{k: _decode(k, hints[k], v) for k, v in obj.items()})
    if entry_bytes(event) != data:
        raise EventError(f"{kind.TYPE}: leaf bytes are not canonical (RFC 8785)")
    return event
