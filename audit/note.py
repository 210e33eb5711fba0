"""C2SP ``signed-note`` with Ed25519 keys, compatible with golang.org/x/mod/sumdb/note.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(key ID ‖ signature)>``. The key ID is the first four bytes of
SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key); 0x01 is the Ed25519 signature type.
Verifier keys are written ``name+hex(key ID)+base64(0x01 ‖ public key)`` and signer keys
``PRIVATE+KEY+name+hex(key ID)+base64(0x01 ‖ seed)``, as in sumdb/note.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from audit.errors import MalformedNote, SignatureError

__all__ = ["NoteSigner", "NoteVerifier", "key_id", "open_note", "sign_note"]

_ED25519 = b"\x01"  # signed-note signature type for Ed25519
_DASH = "\u2014 "
_MAX_SIGNATURES = 100  # sumdb/note's limit; the spec asks verifiers to accept at least 16
_BAD_NAME = re.compile(r"[\s+]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _check_name(name: str) -> str:
    if not name or _BAD_NAME.search(name):
        raise MalformedNote(f"key name {name!r}: must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (signed-note, "Ed25519 signatures")."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise MalformedNote(f"{what}: not standard base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise MalformedNote(f"{what}: not canonical base64")
    return raw


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclasses.dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, key ID and public key."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, _raw_public(self.public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+hex(key ID)+base64(0x01 ‖ public key)``; the key ID must match."""
        parts = vkey.split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise MalformedNote(f"verifier key {vkey!r}: expected name+keyid+key")
        name, raw = _check_name(parts[0]), _b64decode(parts[2], "verifier key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise MalformedNote(f"verifier key {name}: expected 0x01 and a 32-byte Ed25519 key")
        if key_id(name, raw[1:]).hex() != parts[1]:
            raise MalformedNote(f"verifier key {name}: key ID {parts[1]} does not match the key")
        return cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def vkey(self) -> str:
        """This key as a verifier key string, the form auditors are given."""
        raw = base64.b64encode(_ED25519 + _raw_public(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    def verify(self, text: bytes, signature: bytes) -> None:
        """Raise :class:`SignatureError` unless ``signature`` is this key's over ``text``."""
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature as exc:
            who = f"{self.name}+{self.key_id.hex()}"
            raise SignatureError(f"signature by {who} does not verify") from exc


@dataclasses.dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 note signing key with its name (for a log: the checkpoint origin)."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+name+hex(key ID)+base64(0x01 ‖ seed)``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise MalformedNote("signer key: expected PRIVATE+KEY+name+keyid+key")
        raw = _b64decode(parts[4], "signer key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise MalformedNote("signer key: expected 0x01 and a 32-byte Ed25519 seed")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier().key_id.hex() != parts[3]:
            raise MalformedNote(f"signer key {parts[2]}: key ID {parts[3]} does not match")
        return signer

    def skey(self) -> str:
        """This key as a signer key string (keep it secret)."""
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = base64.b64encode(_ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{raw}"

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.private_key.public_key())

    def signature_line(self, text: bytes) -> str:
        sig = self.verifier().key_id + self.private_key.sign(text)
        return f"{_DASH}{self.name} {base64.b64encode(sig).decode()}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise MalformedNote("note text must end in a newline and hold no control characters")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Text, a blank line, and one signature line per signer."""
    _check_text(text)
    return text + "\n" + "".join(s.signature_line(text.encode()) for s in signers)


def _split(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Text and (name, key ID, signature) per line; text ends at the last blank line."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise MalformedNote("not a signed note: no blank line before the signatures")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    _check_text(text)
    if len(lines) > _MAX_SIGNATURES:
        raise MalformedNote(f"note carries {len(lines)} signatures, more than {_MAX_SIGNATURES}")
    sigs = []
    for line in lines:
        name, _, b64 = line.removeprefix(_DASH).partition(" ")
        if not line.startswith(_DASH) or not b64 or " " in b64:
            raise MalformedNote(f"malformed signature line {line!r}")
        raw = _b64decode(b64, f"signature by {_check_name(name)}")
        if len(raw) < 5:
            raise MalformedNote(f"signature by {name} is too short")
        sigs.append((name, raw[:4], raw[4:]))
    return text, sigs


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """Return the note's text if a trusted key signed it; ignore signatures by unknown keys.

    A signature by a trusted key that fails is an error even if another one verifies.
    """
    text, sigs = _split(note)
    trusted = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for name, kid, sig in sigs:
        verifier = trusted.get((name, kid))
        if verifier is not None:
            verifier.verify(text.encode(), sig)
            verified += 1
    if not verified:
        found = ", ".join(f"{n}+{k.hex()}" for n, k, _ in sigs)
        wanted = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise SignatureError(f"no signature by a trusted key: found {found}; trusted {wanted}")
    return text
