"""hedui's audit log: an RFC 6962 Merkle log with C2SP signed checkpoints, usable with no server.

Append audit events (:mod:`audit.events`) to a store (:class:`MemoryStorage`, :class:`SqlStorage`),
integrate and sign them (:func:`integrate_and_sign`, :class:`Integrator`), hand out proofs, and
let auditors check proofs (:func:`verify_inclusion`, :func:`verify_consistency`), checkpoints
(:func:`open_checkpoint`) and whole logs (:func:`verify_log`).
"""

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.dsse import REPORT_PAYLOAD_TYPE, Envelope, Signature, Signer
from audit.errors import (
    AuditError,
    CheckpointError,
    EventError,
    LogRangeError,
    MalformedNote,
    ProofError,
    SignatureError,
    TamperedEntry,
    VerificationError,
)
from audit.events import (
    AdapterConfigChanged,
    AuditEvent,
    KeyCreated,
    KeyRetired,
    ReportRead,
    ReportSigned,
    RequestAccepted,
    SourceAnswered,
    entry_bytes,
    parse_entry,
    sha256_hex,
    subject_digest,
)
from audit.integrate import Integrator, PassResult, integrate_and_sign
from audit.keys import Ed25519Signer, PublicKey, keyid_of, load_public_pem
from audit.memory import MemoryStorage
from audit.merkle import EMPTY_ROOT, leaf_hash, node_hash
from audit.note import NoteSigner, NoteVerifier, open_note, sign_note
from audit.proof import verify_consistency, verify_inclusion
from audit.sql import SqlStorage, metadata
from audit.storage import LogStorage, StoredCheckpoint
from audit.verify import verify_log

__all__ = [
    "EMPTY_ROOT",
    "REPORT_PAYLOAD_TYPE",
    "AdapterConfigChanged",
    "AuditError",
    "AuditEvent",
    "Checkpoint",
    "CheckpointError",
    "Ed25519Signer",
    "Envelope",
    "EventError",
    "Integrator",
    "KeyCreated",
    "KeyRetired",
    "LogRangeError",
    "LogStorage",
    "MalformedNote",
    "MemoryStorage",
    "NoteSigner",
    "NoteVerifier",
    "PassResult",
    "ProofError",
    "PublicKey",
    "ReportRead",
    "ReportSigned",
    "RequestAccepted",
    "Signature",
    "SignatureError",
    "Signer",
    "SourceAnswered",
    "SqlStorage",
    "StoredCheckpoint",
    "TamperedEntry",
    "VerificationError",
    "entry_bytes",
    "integrate_and_sign",
    "keyid_of",
    "leaf_hash",
    "load_public_pem",
    "metadata",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "parse_entry",
    "sha256_hex",
    "sign_checkpoint",
    "sign_note",
    "subject_digest",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
