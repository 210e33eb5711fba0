"""The gateway's error tree; each error knows its gRPC status and says what went wrong.

::

    GatewayError                      INTERNAL
     ├── InvalidArgument               INVALID_ARGUMENT  (FieldViolations → google.rpc.BadRequest)
     ├── NotFound                      NOT_FOUND
     ├── PermissionDenied              PERMISSION_DENIED
     ├── FailedPrecondition            FAILED_PRECONDITION
     └── Unavailable                   UNAVAILABLE

The servicers raise these; one interceptor (``gateway.api.errors``) maps them to gRPC statuses.
The core never imports grpc: the status is named by its string.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "FailedPrecondition",
    "FieldViolation",
    "GatewayError",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Unavailable",
]


@dataclasses.dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field: its path as in the .proto (``household.members[2].id_number``) and why."""

    field: str
    description: str


class GatewayError(Exception):
    """Base of the tree; ``status`` is the name of a ``grpc.StatusCode``."""

    status: ClassVar[str] = "INTERNAL"


class InvalidArgument(GatewayError):
    """The request is malformed; every violation is listed at once."""

    status: ClassVar[str] = "INVALID_ARGUMENT"

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        self.violations = tuple(violations)
        fields = ", ".join(v.field for v in self.violations)
        super().__init__(f"{len(self.violations)} invalid field(s): {fields}")


class NotFound(GatewayError):
    """The named object does not exist."""

    status: ClassVar[str] = "NOT_FOUND"


class PermissionDenied(GatewayError):
    """The caller or the authorization does not allow this."""

    status: ClassVar[str] = "PERMISSION_DENIED"


class FailedPrecondition(GatewayError):
    """The state does not allow this (e.g. an idempotency key reused for another request)."""

    status: ClassVar[str] = "FAILED_PRECONDITION"


class Unavailable(GatewayError):
    """A dependency the request cannot do without (the database) is down."""

    status: ClassVar[str] = "UNAVAILABLE"
