"""The adapter contract: everything an adapter author needs, in one module.

An adapter turns one department's API into typed :mod:`adapters.records`. It has two halves:

* ``fetch(query) -> RawAnswer`` does the I/O (HTTP, SQL, an upstream tier) and returns the exact
  bytes the department sent. It raises an :class:`AdapterError` subclass for a failure it can
  name (the department refused, answered garbage, was unreachable).
* ``decode(raw) -> tuple[Record, ...]`` is pure: the same bytes always give the same records.
  The gateway stores the raw bytes, so an auditor can replay ``decode`` years later.

The gateway, not the adapter, enforces the deadline, measures latency and turns errors into a
:class:`AnswerStatus`. Adapters import nothing from ``gateway``.

Error tree::

    AdapterError                 -> UNAVAILABLE (the department could not answer)
     ├── SourceDenied            -> DENIED      (the department refused: no authorization, quota)
     ├── SourceNotFound          -> NOT_FOUND   (the department knows none of the subjects)
     ├── SourceTimeout           -> TIMEOUT     (the transport's own timeout, set to the time left)
     ├── SourceThrottled         -> UNAVAILABLE (HTTP 429 or similar; ``retry_after_s`` if given)
     └── MalformedAnswer         -> UNAVAILABLE (bytes arrived but do not parse)
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Protocol, runtime_checkable

from adapters.records import Record

__all__ = [
    "Adapter",
    "AdapterConfig",
    "AdapterError",
    "AnswerStatus",
    "MalformedAnswer",
    "RawAnswer",
    "SourceCategory",
    "SourceDenied",
    "SourceNotFound",
    "SourceQuery",
    "SourceThrottled",
    "SourceTimeout",
    "Subject",
]


class SourceCategory(enum.StrEnum):
    """Kinds of data source named by the seeds (seed 000, 四.2) and the monitoring section."""

    HOUSEHOLD_REGISTRATION = "household_registration"  # 户籍
    SOCIAL_INSURANCE = "social_insurance"  # 社会保险
    VEHICLE = "vehicle"  # 机动车辆
    PROPERTY = "property"  # 房屋登记
    FUNERAL = "funeral"  # 殡葬
    HOUSING_FUND = "housing_fund"  # 住房公积金
    BANK = "bank"  # 银行 (through the central bank's financial network)
    MEDICAL_INSURANCE = "medical_insurance"  # 医保
    EDUCATION = "education"  # 教育
    HUMAN_RESOURCES = "human_resources"  # 人社
    DISABILITY = "disability"  # 残联


class AnswerStatus(enum.StrEnum):
    """What became of one source's part of a verification."""

    OK = "OK"
    NOT_FOUND = "NOT_FOUND"
    UNAVAILABLE = "UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    DENIED = "DENIED"


@dataclasses.dataclass(frozen=True, slots=True)
class Subject:
    """One person to look up: resident ID number (GB 11643, already validated) and name."""

    id_number: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SourceQuery:
    """One question to one source, for all subjects of a household at once.

    Every query names the persons, what is checked (the adapter's category), the as-of time
    (核对时点), the purpose and the authorization (授权书) it is made under.
    """

    request_id: str
    subjects: tuple[Subject, ...]
    as_of: date
    purpose: str
    authorization_ref: str
    timeout_s: float  # time left before the request's deadline; pass it on to the department


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RawAnswer:
    """The exact bytes a department returned, with the department's own as-of date."""

    body: bytes
    content_type: str = "application/json"
    department: str = ""  # the providing department, as it names itself
    as_of: date | None = None
    attempts: int = 1


class AdapterError(Exception):
    """The department could not give an answer; the message says why, for the report."""

    status: ClassVar[AnswerStatus] = AnswerStatus.UNAVAILABLE


class SourceDenied(AdapterError):
    """The department refused the query (no authorization for it, quota exhausted)."""

    status: ClassVar[AnswerStatus] = AnswerStatus.DENIED


class SourceNotFound(AdapterError):
    """The department knows none of the subjects."""

    status: ClassVar[AnswerStatus] = AnswerStatus.NOT_FOUND


class SourceTimeout(AdapterError):
    """The department did not answer within the time left (the adapter's transport gave up)."""

    status: ClassVar[AnswerStatus] = AnswerStatus.TIMEOUT


class SourceThrottled(AdapterError):
    """The department asked us to slow down (HTTP 429); worth retrying after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MalformedAnswer(AdapterError):
    """The department answered, but the bytes are not what its API promises."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AdapterConfig:
    """How the gateway configures an adapter: the entry point is called as ``factory(config)``."""

    name: str
    base_url: str = ""
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@runtime_checkable
class Adapter(Protocol):
    """A data source. Build it from settings, ``fetch`` concurrently, ``aclose`` at shutdown."""

    name: str  # unique, stable: appears in reports and the audit log
    category: SourceCategory
    department: str  # human name of the providing department, e.g. "公安户籍"

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """Ask the department; return its exact bytes or raise an :class:`AdapterError`."""
        ...

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """Parse the department's bytes into records; pure; raise :class:`MalformedAnswer`."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
