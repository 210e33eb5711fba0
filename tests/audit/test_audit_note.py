"""Signed notes (C2SP signed-note, sumdb/note vectors) and checkpoints (C2SP tlog-checkpoint)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import CheckpointError, MalformedNote, SignatureError
from audit.note import NoteSigner, NoteVerifier, open_note, sign_note

# golang.org/x/mod/sumdb/note note_test.go
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"  # noqa: E501
NOTE = TEXT + "\n" + SIG

# C2SP tlog-checkpoint's example body
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_go_vector_keys_round_trip() -> None:
    """The sumdb/note example verifier and signer keys parse and print back identically."""
    assert NoteVerifier.from_vkey(VKEY).vkey() == VKEY
    signer = NoteSigner.from_skey(SKEY)
    assert signer.skey() == SKEY
    assert signer.verifier().vkey() == VKEY


def test_signing_reproduces_the_go_vector() -> None:
    """Signing the example text with the example key gives the published note byte for byte."""
    assert sign_note(TEXT, [NoteSigner.from_skey(SKEY)]) == NOTE


def test_go_vector_opens() -> None:
    """The published note opens with the published verifier key."""
    assert open_note(NOTE, [NoteVerifier.from_vkey(VKEY)]) == TEXT


def test_altered_text_fails() -> None:
    """Changing one letter of the text makes the trusted signature fail."""
    with pytest.raises(SignatureError, match="PeterNeumann"):
        open_note(NOTE.replace("cryptography", "cryptographY"), [NoteVerifier.from_vkey(VKEY)])


def test_unknown_keys_are_ignored_but_not_enough(signer: NoteSigner) -> None:
    """Signatures by unknown keys are skipped; with no trusted signature the note is rejected."""
    note = sign_note(TEXT, [NoteSigner.from_skey(SKEY), signer])
    assert open_note(note, [signer.verifier()]) == TEXT
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        open_note(NOTE, [signer.verifier()])


@pytest.mark.parametrize(
    "vkey",
    [
        VKEY[:-1],
        VKEY.replace("c74f20a3", "c74f20a4"),
        VKEY.replace("+ARpc", "+AZpc"),
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    """Truncated, mismatched or mangled verifier keys raise MalformedNote."""
    with pytest.raises(MalformedNote):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + SIG.replace("— ", "- "),
        TEXT + "\n" + SIG[:-1],
        "a\x01\n\n" + SIG,
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    """Notes without signatures, with bad signature lines or control characters do not parse."""
    with pytest.raises(MalformedNote):
        open_note(note, [NoteVerifier.from_vkey(VKEY)])


def test_spec_example_checkpoint_parses_and_prints_back() -> None:
    """The tlog-checkpoint example body parses and formats back to the same text."""
    cp = Checkpoint.from_body(SOFA)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.body() == SOFA


def test_signed_checkpoint_opens(signer: NoteSigner) -> None:
    """A checkpoint signed by the log key opens to the same checkpoint, extensions included."""
    cp = Checkpoint(signer.name, 7, bytes(range(32)), ("ext one",))
    assert open_checkpoint(sign_checkpoint(cp, signer), signer.verifier()) == cp


def test_checkpoint_from_another_origin_is_refused(signer: NoteSigner) -> None:
    """A validly signed checkpoint naming another origin raises CheckpointError."""
    note = sign_checkpoint(Checkpoint("elsewhere.example/log", 1, bytes(32)), signer)
    with pytest.raises(CheckpointError, match="elsewhere"):
        open_checkpoint(note, signer.verifier())


def test_checkpoint_signed_by_another_key_is_refused(signer: NoteSigner) -> None:
    """A checkpoint signed by an untrusted key with the log's name raises SignatureError."""
    impostor = NoteSigner(signer.name, Ed25519PrivateKey.generate())
    note = sign_checkpoint(Checkpoint(signer.name, 1, bytes(32)), impostor)
    with pytest.raises(SignatureError):
        open_checkpoint(note, signer.verifier())


ROOT = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"o\n01\n{ROOT}\n",
        f"o\n-1\n{ROOT}\n",
        f"o\n1\n{ROOT}",
        "o\n1\nAAAA\n",
        "o\n1\n!!\n",
        f"\n1\n{ROOT}\n",
        f"o\n1\n{ROOT}\n\n",
        "o\n1\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    """Leading zeroes, bad base64, short hashes, empty lines or missing lines raise."""
    with pytest.raises(CheckpointError):
        Checkpoint.from_body(body)
