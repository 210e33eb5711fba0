"""DSSE v1 envelopes (secure-systems-lab/dsse, ``envelope.md`` and ``protocol.md``).

Signing: ``sig = Sign(PAE(payloadType, payload))`` where
``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` (lengths in ASCII
decimal bytes). The JSON form is ``{"payload": b64, "payloadType": str, "signatures":
[{"keyid": str, "sig": b64}]}`` with standard base64. Verification follows protocol.md: decode,
compute PAE, accept if a signature by a trusted key verifies; otherwise raise.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.errors import SignatureError

try:
    import orjson
except ImportError:  # an auditor's install without orjson: json alone, the same bytes
    orjson = None  # type: ignore[assignment]

__all__ = ["REPORT_PAYLOAD_TYPE", "Envelope", "Signature", "Signer", "pae", "sign", "verify"]

REPORT_PAYLOAD_TYPE = "application/vnd.hedui.report.v1+json"


class Signer(Protocol):
    """Anything that signs bytes under a key id."""

    keyid: str

    def sign(self, data: bytes) -> bytes: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    keyid: str
    sig: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE envelope; ``payload`` holds the exact signed bytes."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> bytes:
        """The standard DSSE JSON serialisation (compact, keys sorted, non-ASCII escaped)."""
        doc = {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": _signature_docs(self.signatures),
        }
        return _compact_sorted(doc, [self.payload_type, *(s.keyid for s in self.signatures)])

    def signatures_json(self) -> bytes:
        """Only the ``signatures`` member of :meth:`to_json`, in the same form.

        With the payload and its type kept elsewhere (the gateway stores the payload once),
        :meth:`from_parts` rebuilds the envelope, and ``to_json`` gives the same bytes again.
        """
        keyids = [s.keyid for s in self.signatures]
        return _compact_sorted(_signature_docs(self.signatures), keyids)

    @classmethod
    def from_parts(cls, payload_type: str, payload: bytes, signatures_json: bytes) -> Envelope:
        """The envelope of ``payload`` and the output of :meth:`signatures_json`."""
        try:
            docs = json.loads(signatures_json)
            return cls(payload_type, payload, _signatures_of(docs))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise SignatureError(f"malformed DSSE signatures: {exc!r}") from exc

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        """Parse the JSON form; raise :class:`SignatureError` naming what is malformed."""
        try:
            doc = json.loads(data)
            return cls(
                payload_type=str(doc["payloadType"]),
                payload=base64.b64decode(doc["payload"], validate=True),
                signatures=_signatures_of(doc["signatures"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise SignatureError(f"malformed DSSE envelope: {exc!r}") from exc


def _signature_docs(signatures: Sequence[Signature]) -> list[dict[str, str]]:
    return [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in signatures]


def _signatures_of(docs: list[dict[str, str]]) -> tuple[Signature, ...]:
    """``signatures`` of the JSON form, parsed (ValueError, KeyError, TypeError when malformed)."""
    if not isinstance(docs, list) or not all(isinstance(s, dict) for s in docs):
        raise TypeError(f"expected a list of signature objects, found {type(docs).__name__}")
    return tuple(
        Signature(str(s.get("keyid", "")), base64.b64decode(s["sig"], validate=True)) for s in docs
    )


def _compact_sorted(doc: object, texts: Sequence[str]) -> bytes:
    """``json.dumps(doc, sort_keys=True, separators=(",", ":"))`` as bytes.

    Where every free-form string (``texts``; base64 is printable ASCII anyway) is printable
    ASCII, orjson writes json.dumps's exact bytes (only ``"`` and ``\\`` escaped), for ~1 % of
    the CPU on a report-sized payload.
    """
    if orjson is not None and all(_printable_ascii(t) for t in texts):
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding, DSSE v1 (protocol.md)."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign(payload_type: str, payload: bytes, signers: Sequence[Signer]) -> Envelope:
    """Sign ``payload`` with every signer."""
    message = pae(payload_type, payload)
    sigs = tuple(Signature(s.keyid, s.sign(message)) for s in signers)
    return Envelope(payload_type, payload, sigs)


def verify(
    envelope: Envelope,
    keys: Mapping[str, Ed25519PublicKey],
    payload_type: str = REPORT_PAYLOAD_TYPE,
) -> None:
    """Return if one signature by a key in ``keys`` verifies; otherwise raise SignatureError."""
    if envelope.payload_type != payload_type:
        raise SignatureError(
            f"payload type: expected {payload_type!r}, found {envelope.payload_type!r}"
        )
    message = pae(envelope.payload_type, envelope.payload)
    tried: list[str] = []
    for signature in envelope.signatures:
        key = keys.get(signature.keyid)
        if key is None:
            tried.append(f"{signature.keyid[:16]}…: unknown key id")
            continue
        try:
            key.verify(signature.sig, message)
        except InvalidSignature:
            tried.append(f"{signature.keyid[:16]}…: signature does not verify")
            continue
        return
    found = "; ".join(tried) or "no signatures"
    raise SignatureError(f"no valid signature by a trusted key ({found})")
