"""``Envelope.to_json`` writes exactly the bytes of compact, sorted ``json.dumps`` for any text."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.dsse import Envelope, Signature
from audit.errors import SignatureError

# printable ASCII (the fast path), quotes and backslashes, controls, DEL, and beyond ASCII
_text = st.text(max_size=12) | st.text(st.characters(max_codepoint=0x7F), max_size=12)


def _reference(envelope: Envelope) -> bytes:
    """The serialisation as first written: the stdlib encoder, ASCII-escaped."""
    doc = {
        "payload": base64.b64encode(envelope.payload).decode(),
        "payloadType": envelope.payload_type,
        "signatures": [
            {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in envelope.signatures
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@settings(max_examples=500, deadline=None)
@given(
    payload_type=_text,
    payload=st.binary(max_size=64),
    signatures=st.lists(st.tuples(_text, st.binary(max_size=64)), max_size=3),
)
def test_to_json_same_bytes_as_json_dumps(
    payload_type: str, payload: bytes, signatures: list[tuple[str, bytes]]
) -> None:
    """Any payload type and key ids: the bytes of json.dumps(sort_keys, compact)."""
    envelope = Envelope(payload_type, payload, tuple(Signature(k, s) for k, s in signatures))
    data = envelope.to_json()
    assert data == _reference(envelope)
    assert Envelope.from_json(data) == envelope


def test_to_json_escapes_as_json_dumps() -> None:
    """Quotes, backslashes, DEL, controls and non-ASCII key ids: escaped as json.dumps does."""
    for keyid in ('a"b', "a\\b", "a\x7fb", "a\nb", "é", "\U0001f600", "a/b"):
        envelope = Envelope("application/x", b"{}", (Signature(keyid, b"sig"),))
        assert envelope.to_json() == _reference(envelope), keyid


@settings(max_examples=300, deadline=None)
@given(
    payload_type=_text,
    payload=st.binary(max_size=64),
    signatures=st.lists(st.tuples(_text, st.binary(max_size=64)), max_size=3),
)
def test_envelope_in_parts_joins_to_the_same_json(
    payload_type: str, payload: bytes, signatures: list[tuple[str, bytes]]
) -> None:
    """Payload, payload type and ``signatures_json`` rebuild an envelope with the same JSON."""
    envelope = Envelope(payload_type, payload, tuple(Signature(k, s) for k, s in signatures))
    joined = Envelope.from_parts(payload_type, payload, envelope.signatures_json())
    assert joined == envelope
    assert joined.to_json() == envelope.to_json()
    assert json.loads(envelope.signatures_json()) == json.loads(envelope.to_json())["signatures"]


def test_malformed_signatures_json_raises_signature_error() -> None:
    """Signatures that are not the DSSE JSON form raise SignatureError, not a foreign error."""
    for bad in (b"not json", b"[{}]", b'[{"keyid":"k","sig":"%%%"}]', b"{}"):
        with pytest.raises(SignatureError, match="malformed DSSE signatures"):
            Envelope.from_parts("t", b"x", bad)
