"""C2SP ``tlog-checkpoint``: a log's tree head as the text of a signed note.

The note text is at least three lines: the origin (the log's identity), the tree size in decimal
without leading zeroes, and the base64 RFC 6962 root hash; optional non-empty extension lines
follow. The log signs it with its note key, whose name SHOULD be the origin.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Sequence

from audit.errors import CheckpointError, MalformedNote
from audit.note import NoteSigner, NoteVerifier, open_note, sign_note

__all__ = ["Checkpoint", "open_checkpoint", "sign_checkpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """Origin, tree size and root hash, checked when built."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(f"checkpoint origin {self.origin!r} must be one non-empty line")
        if self.size < 0:
            raise CheckpointError(f"checkpoint size {self.size} is negative", size=self.size)
        if len(self.root_hash) != 32:
            got = len(self.root_hash)
            raise CheckpointError(f"root hash is {got} bytes, not 32", size=self.size)
        if any(not e or "\n" in e for e in self.extensions):
            raise CheckpointError("extension lines must be non-empty single lines", size=self.size)

    def body(self) -> str:
        """The note text: origin, size, base64 root hash, extensions, each ending in newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse note text; raise :class:`CheckpointError` naming the first bad line."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("checkpoint text needs three lines, each ending in newline")
        origin, size, root, *extensions = lines[:-1]
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"checkpoint size {size!r} is not a decimal without zeroes")
        try:
            raw = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise CheckpointError(f"root hash {root!r} is not base64", size=int(size)) from exc
        return cls(origin, int(size), raw, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(
    note: str, verifiers: NoteVerifier | Sequence[NoteVerifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify the note's signature, parse its checkpoint and check its origin.

    ``origin`` defaults to the (first) verifier's key name, as tlog-checkpoint recommends.
    """
    trusted = [verifiers] if isinstance(verifiers, NoteVerifier) else list(verifiers)
    try:
        checkpoint = Checkpoint.from_body(open_note(note, trusted))
    except MalformedNote as exc:
        raise CheckpointError(f"checkpoint is not a signed note: {exc}") from exc
    expected = origin if origin is not None else trusted[0].name
    if checkpoint.origin != expected:
        raise CheckpointError(
            f"checkpoint origin is {checkpoint.origin!r}, expected {expected!r}",
            size=checkpoint.size,
        )
    return checkpoint
