"""The audit package's error tree; each error knows its gRPC status and says what went wrong.

::

    AuditError                        INTERNAL
     ├── VerificationError            DATA_LOSS         something that must verify does not
     │    ├── ProofError              an inclusion/consistency proof does not lead to the root
     │    ├── SignatureError          no trusted key signed the note, or a trusted signature is bad
     │    ├── CheckpointError         a checkpoint is malformed or disagrees with the log (.size)
     │    └── TamperedEntry           a stored leaf or node differs from the entries (.index)
     ├── MalformedNote                INVALID_ARGUMENT  not a signed note, or a malformed key string
     ├── EventError                   INVALID_ARGUMENT  bytes are not a known, canonical audit event
     └── LogRangeError                OUT_OF_RANGE      an index or size beyond the (integrated) log

Verifiers return ``None`` and raise one of these, naming what was expected and what was found.
The package never imports grpc: the status is named by its string, as in ``gateway.errors``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditError",
    "CheckpointError",
    "EventError",
    "LogRangeError",
    "MalformedNote",
    "ProofError",
    "SignatureError",
    "TamperedEntry",
    "VerificationError",
]


class AuditError(Exception):
    """Base of the tree; ``status`` is the name of a ``grpc.StatusCode``."""

    status: ClassVar[str] = "INTERNAL"


class VerificationError(AuditError):
    """Something that must verify does not: a log, proof or signature is not what it claims."""

    status: ClassVar[str] = "DATA_LOSS"


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not verify (RFC 6962 §2.1.1, §2.1.2)."""


class SignatureError(VerificationError):
    """A signed note carries no valid signature by a trusted key (C2SP signed-note)."""


class CheckpointError(VerificationError):
    """A checkpoint is malformed, names another origin or disagrees with the log.

    ``size`` is the tree size of the offending checkpoint, when known.
    """

    def __init__(self, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.size = size


class TamperedEntry(VerificationError):
    """A stored leaf or subtree hash differs from what the stored entries recompute to.

    ``index`` is the first bad leaf index (for a node: the first leaf it covers); ``level`` is
    0 for a leaf and the subtree height for a stored node.
    """

    def __init__(self, message: str, *, index: int, level: int = 0) -> None:
        super().__init__(message)
        self.index = index
        self.level = level


class MalformedNote(AuditError):
    """Text that should be a signed note, or a note key string, does not parse."""

    status: ClassVar[str] = "INVALID_ARGUMENT"


class EventError(AuditError):
    """Leaf bytes are not a known audit event in canonical (RFC 8785) form."""

    status: ClassVar[str] = "INVALID_ARGUMENT"


class LogRangeError(AuditError):
    """An index or tree size lies beyond the log, or beyond its integrated part."""

    status: ClassVar[str] = "OUT_OF_RANGE"
