"""What the gateway publishes about its audit log: checkpoints, proofs, entries, public keys.

:class:`AuditLog` is the one read-side view shared by the ``AuditService`` servicer and the bundle
exporter; it speaks plain Python (bytes, ints, small dataclasses), never protobuf. Sizes of ``0``
mean "the latest signed checkpoint": proofs are only useful against a tree head the auditor can
check a signature on. Each call's reads share one pooled connection (``LogStorage.reading``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import LogRangeError
from audit.keys import load_public_pem
from audit.merkle import leaf_hash
from audit.note import NoteVerifier
from audit.storage import LogStorage
from gateway.errors import NotFound
from gateway.keyring import ROLES, KeyRing
from gateway.store import Store

__all__ = ["AuditLog", "CheckpointView", "Inclusion", "SigningKey"]


@dataclasses.dataclass(frozen=True, slots=True)
class CheckpointView:
    """A verified checkpoint with its note text, as published."""

    note: str
    checkpoint: Checkpoint
    signed_at: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Inclusion:
    """One leaf, its audit path in the tree of ``tree_size`` leaves, and that tree's root."""

    leaf_index: int
    tree_size: int
    entry: bytes
    hashes: tuple[bytes, ...]
    root_hash: bytes

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.entry)


@dataclasses.dataclass(frozen=True, slots=True)
class SigningKey:
    """A published public key; checkpoint keys also carry their signed-note verifier key."""

    role: str
    keyid: str
    algorithm: str
    pem: str
    vkey: str
    created_at: datetime
    retired_at: datetime | None


def entry_type(entry: bytes) -> str:
    """The ``type`` field of a leaf, or ``""`` if the bytes are not an event object."""
    try:
        data = json.loads(entry)
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(data.get("type", "")) if isinstance(data, dict) else ""


class AuditLog:
    """Read access to the log, the checkpoints and the keys of one gateway."""

    def __init__(self, store: Store, log: LogStorage, keys: KeyRing, origin: str) -> None:
        self.store = store
        self.log = log
        self.keys = keys
        self.origin = origin

    def verifiers(self) -> list[NoteVerifier]:
        """Every checkpoint note key, current and retired."""
        return [
            NoteVerifier(self.origin, load_public_pem(k.pem.encode()))
            for k in self.keys.public_keys("checkpoint")
        ]

    def signing_keys(self) -> list[SigningKey]:
        """Report and checkpoint public keys, retired ones included, oldest first per role."""
        out = []
        for role in ROLES:
            for key in self.keys.public_keys(role):
                vkey = ""
                if role == "checkpoint":
                    vkey = NoteVerifier(self.origin, load_public_pem(key.pem.encode())).vkey()
                out.append(
                    SigningKey(
                        role,
                        key.keyid,
                        key.algorithm,
                        key.pem,
                        vkey,
                        key.created_at,
                        key.retired_at,
                    )
                )
        return out

    async def checkpoint(self) -> CheckpointView:
        """The latest checkpoint, its signature checked against our own keys."""
        stored = await self.log.latest_checkpoint()
        if stored is None:
            raise NotFound("no checkpoint has been signed yet")
        opened = open_checkpoint(stored.note, self.verifiers(), origin=self.origin)
        return CheckpointView(stored.note, opened, stored.signed_at)

    async def resolve_size(self, size: int) -> int:
        """``size``, or the latest checkpoint's size when it is 0."""
        return await _resolve_size(self.log, size)

    async def report_leaf(self, report_id: str) -> int:
        """The index of a report's ReportSigned leaf."""
        report = await self.store.get_report(report_id)
        if report is None:
            raise NotFound(f"no report {report_id!r}")
        return int(report.leaf_index)

    async def inclusion(self, index: int, size: int = 0) -> Inclusion:
        """Leaf ``index`` with its audit path to the root at ``size`` (0: latest checkpoint)."""
        async with self.log.reading() as log:
            size = await _resolve_size(log, size)
            if index >= size:
                raise LogRangeError(
                    f"leaf {index} is not in the tree of size {size} (not yet signed)"
                )
            hashes = await log.inclusion_proof(index, size)
            (entry,) = await log.entries(index, index + 1)
            root = await log.root(size)
        return Inclusion(index, size, entry, tuple(hashes), root)

    async def consistency(self, first: int, second: int = 0) -> tuple[int, int, list[bytes]]:
        """Sizes and the consistency proof from ``first`` to ``second`` (0: latest)."""
        async with self.log.reading() as log:
            second = await _resolve_size(log, second)
            return first, second, await log.consistency_proof(first, second)

    async def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)`` of the appended log."""
        async with self.log.reading() as log:
            size = await log.size()
            if end > size:
                raise LogRangeError(f"entries up to {end}: the log holds {size}")
            return await log.entries(start, end)


async def _resolve_size(log: LogStorage, size: int) -> int:
    if size:
        return size
    stored = await log.latest_checkpoint()
    if stored is None:
        raise LogRangeError("no checkpoint has been signed yet")
    return stored.size
