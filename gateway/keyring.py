"""The gateway's key directory: report-signing keys, the checkpoint key, the subject salt.

Layout (created on first run, private files mode 0600)::

    key_dir/keys.json            index: key id, role, created/retired times, file name
    key_dir/<keyid>.pem          PKCS#8 private key (Ed25519)
    key_dir/subject-salt         32 random bytes for salted digests of ID numbers

Roles: ``report`` (signs DSSE envelopes) and ``checkpoint`` (signs log checkpoints). Rotating a
role retires its current key; retired keys stay published so old signatures stay verifiable.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.keys import Ed25519Signer, PublicKey

__all__ = ["ROLES", "KeyRecord", "KeyRing"]

ROLES = ("report", "checkpoint")


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRecord:
    keyid: str
    role: str
    created_at: datetime
    retired_at: datetime | None = None


class KeyRing:
    """Loads (or creates) the keys in ``key_dir``; ``created`` lists keys made by this call."""

    def __init__(
        self, key_dir: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.dir = Path(key_dir)
        self.clock = clock
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.records = self._read_index()
        self.created: list[KeyRecord] = []
        for role in ROLES:
            if not any(r.role == role and r.retired_at is None for r in self.records):
                self.created.append(self._new_key(role))
        self.salt = self._salt()

    def reload(self) -> None:
        """Re-read the index, e.g. after ``hedui keys rotate`` ran in another process."""
        self.records = self._read_index()

    def signer(self, role: str = "report") -> Ed25519Signer:
        """The current signer for ``role``."""
        return Ed25519Signer(self.private_key(role))

    def private_key(self, role: str) -> Ed25519PrivateKey:
        """The current private key of ``role`` (the checkpoint key is used as a note key)."""
        record = next(r for r in self.records if r.role == role and r.retired_at is None)
        return self._private(record.keyid)

    def public_keys(self, role: str = "report") -> list[PublicKey]:
        """Every key of ``role``, current and retired, as publishable records."""
        return [
            PublicKey(
                r.keyid,
                Ed25519Signer(self._private(r.keyid)).public_pem(),
                r.created_at,
                r.retired_at,
            )
            for r in self.records
            if r.role == role
        ]

    def rotate(self, role: str) -> tuple[KeyRecord, KeyRecord]:
        """Retire the current key of ``role`` and create a new one; returns (retired, new)."""
        now = self.clock()
        old = next(r for r in self.records if r.role == role and r.retired_at is None)
        retired = dataclasses.replace(old, retired_at=now)
        self.records = [retired if r is old else r for r in self.records]
        new = self._new_key(role)
        return retired, new

    def _new_key(self, role: str) -> KeyRecord:
        key = Ed25519PrivateKey.generate()
        signer = Ed25519Signer(key)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(self.dir / f"{signer.keyid}.pem", pem)
        record = KeyRecord(signer.keyid, role, self.clock())
        self.records.append(record)
        self._write_index()
        return record

    def _private(self, keyid: str) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(
            (self.dir / f"{keyid}.pem").read_bytes(), password=None
        )
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{keyid}.pem is not an Ed25519 private key")
        return key

    def _salt(self) -> bytes:
        path = self.dir / "subject-salt"
        if not path.exists():
            _write_private(path, secrets.token_bytes(32))
        return path.read_bytes()

    def _read_index(self) -> list[KeyRecord]:
        path = self.dir / "keys.json"
        if not path.exists():
            return []
        return [
            KeyRecord(
                d["keyid"],
                d["role"],
                datetime.fromisoformat(d["created_at"]),
                datetime.fromisoformat(d["retired_at"]) if d.get("retired_at") else None,
            )
            for d in json.loads(path.read_text())
        ]

    def _write_index(self) -> None:
        data = [
            {
                "keyid": r.keyid,
                "role": r.role,
                "created_at": r.created_at.isoformat(),
                "retired_at": r.retired_at.isoformat() if r.retired_at else None,
            }
            for r in self.records
        ]
        tmp = self.dir / "keys.json.tmp"
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.dir / "keys.json")


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by the owner only, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)
