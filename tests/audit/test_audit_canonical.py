"""Everything the audit package canonicalises is the ``rfc8785`` reference's bytes."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import events as ev
from audit.canonical import canonical_json

SALT = b"per-deployment-secret-salt"
_ids = st.lists(st.text(max_size=20) | st.from_regex(r"[0-9]{17}[0-9xX]", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(_ids)
def test_subject_digest_keys_the_reference_bytes(ids: list[str]) -> None:
    """subject_digest is HMAC-SHA256 over rfc8785's array of the sorted, normalised IDs."""
    normalised = sorted(i.strip().upper() for i in ids)
    expected = hmac.new(SALT, rfc8785.dumps(normalised), hashlib.sha256).hexdigest()
    assert ev.subject_digest(ids, SALT) == expected


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.text() | st.integers(0, 2**53 - 1), max_size=8))
def test_leaf_shaped_objects_match_the_reference(fields: dict[str, str | int]) -> None:
    """Flat objects of strings and integers, the shape of every leaf: the reference's bytes."""
    assert canonical_json(fields) == rfc8785.dumps(fields)


def test_without_orjson_the_reference_alone_gives_the_same_bytes() -> None:
    """An auditor's install without orjson: canonical JSON and DSSE JSON still import and agree."""
    script = """
import sys
sys.modules["orjson"] = None  # import orjson now raises ImportError
import rfc8785
from audit import canonical, dsse
assert not canonical._FAST
value = {"b": [1, "\u00e9", None], "a": True}
assert canonical.canonical_json(value) == rfc8785.dumps(value)
envelope = dsse.Envelope("t", b"{}", (dsse.Signature("k", b"s"),))
expected = b'{"payload":"e30=","payloadType":"t","signatures":[{"keyid":"k","sig":"cw=="}]}'
assert envelope.to_json() == expected
"""
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)
