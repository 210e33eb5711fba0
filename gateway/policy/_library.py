"""All policy files of a directory: resolve the one in force, or fetch a pinned one by digest.

Resolution (for a new request) picks, among the files for the programme whose region prefix the
household's region code starts with, the most specific region, then the latest ``issued`` date
not after the day asked about. Replay never resolves: it asks for the pinned digest, so a report
is always rebuilt with exactly the rules it was made with. Superseded files therefore stay in
the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from gateway.policy._load import load_policy_file
from gateway.policy._model import PolicyDocument, PolicyError

__all__ = ["SHIPPED_DIR", "PolicyLibrary"]

SHIPPED_DIR = Path(__file__).parent / "policies"


class PolicyLibrary:
    """An immutable set of checked policy documents."""

    def __init__(self, documents: Iterable[PolicyDocument]) -> None:
        self.documents = tuple(documents)
        self._by_digest = {d.digest: d for d in self.documents}

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> PolicyLibrary:
        """Every ``*.toml`` under ``directory`` (default: the shipped examples), all checked."""
        root = directory or SHIPPED_DIR
        if not root.is_dir():
            raise PolicyError(str(root), "(directory)", "is not a directory")
        return cls(load_policy_file(p) for p in sorted(root.rglob("*.toml")))

    def resolve(self, region_code: str, programme: str, day: date) -> PolicyDocument | None:
        """The document in force for a household of ``region_code`` on ``day``, if any."""
        candidates = [
            d
            for d in self.documents
            if d.programme == programme and region_code.startswith(d.prefix) and d.issued <= day
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda d: (len(d.prefix), d.issued, d.version))

    def by_digest(self, digest: str) -> PolicyDocument:
        """The pinned document; :class:`PolicyError` when this library does not hold it."""
        try:
            return self._by_digest[digest]
        except KeyError:
            raise PolicyError("(library)", digest, "no policy file with this digest") from None
