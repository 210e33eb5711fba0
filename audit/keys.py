"""Ed25519 signing keys as the audit package sees them: a signer, key ids, published public keys.

A key id is the lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo, so anyone
holding the PEM can recompute it. Private keys never leave the process that signs; verifiers
need only :class:`PublicKey` records (PEM + key id + validity), retired ones included.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["Ed25519Signer", "PublicKey", "keyid_of", "load_public_pem"]


def keyid_of(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo of ``public_key``."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    """Parse a PEM public key; raise ``ValueError`` unless it is Ed25519."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, found {type(key).__name__}")
    return key


@dataclasses.dataclass(frozen=True, slots=True)
class PublicKey:
    """A published verification key with its validity period (``retired_at`` None = current)."""

    keyid: str
    pem: str
    created_at: datetime
    retired_at: datetime | None = None
    algorithm: str = "ed25519"

    def key(self) -> Ed25519PublicKey:
        """The key object; checks that the PEM matches the key id."""
        key = load_public_pem(self.pem.encode())
        if keyid_of(key) != self.keyid:
            raise ValueError(f"key id {self.keyid} does not match its PEM ({keyid_of(key)})")
        return key


class Ed25519Signer:
    """Signs bytes with one Ed25519 private key; ``keyid`` names it in envelopes."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.keyid = keyid_of(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data)

    def public_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo)."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
