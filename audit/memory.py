"""An in-memory log store: the reference backend, for tests and for auditors' offline replays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from audit.errors import CheckpointError, LogRangeError
from audit.merkle import NodeId
from audit.storage import IntegrationTx, StoredCheckpoint, TreeStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["MemoryStorage"]


class _MemoryTx:
    """Writes are staged and land in the store only when the pass finishes cleanly."""

    def __init__(self, store: MemoryStorage) -> None:
        self._store = store
        self.integrated_size = store.integrated_size_now()
        self.staged: list[tuple[NodeId, bytes]] = []

    async def write_nodes(self, nodes: Sequence[tuple[NodeId, bytes]]) -> None:
        self.staged.extend(nodes)


class MemoryStorage(TreeStore):
    """Leaves in a list, nodes in a dict keyed by ``(level, index)``, checkpoints by size."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self.nodes: dict[NodeId, bytes] = {}
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._integrated = 0
        self._integrating = asyncio.Lock()

    async def append(self, entries: Sequence[bytes], conn: AsyncConnection | None = None) -> int:
        """Sequence ``entries``; an in-memory store has no SQL transaction to join."""
        if conn is not None:
            raise ValueError("MemoryStorage cannot write inside an SQL transaction")
        first = len(self.leaves)
        self.leaves.extend(bytes(e) for e in entries)
        return first

    async def size(self) -> int:
        return len(self.leaves)

    def integrated_size_now(self) -> int:
        """Leaf hashes are the level-0 nodes, written in order: their count is the size."""
        return self._integrated

    async def integrated_size(self) -> int:
        return self._integrated

    async def entries(self, start: int, end: int) -> list[bytes]:
        if not 0 <= start <= end <= len(self.leaves):
            raise LogRangeError(f"entries [{start}, {end}) not in a log of size {len(self.leaves)}")
        return self.leaves[start:end]

    async def read_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        return {n: self.nodes[n] for n in ids if n in self.nodes}

    async def node_range(self, level: int, start: int, end: int) -> list[bytes]:
        found = (self.nodes.get((level, i)) for i in range(start, end))
        return [h for h in found if h is not None]

    @asynccontextmanager
    async def integration(self) -> AsyncIterator[IntegrationTx]:
        async with self._integrating:
            tx = _MemoryTx(self)
            yield tx
            self.nodes.update(tx.staged)
            self._integrated += sum(1 for (level, _), _h in tx.staged if level == 0)

    async def save_checkpoint(
        self, size: int, note_text: str, *, signed_at: datetime | None = None
    ) -> None:
        """Store a checkpoint; saving the same note again is a no-op, a different one an error."""
        old = self._checkpoints.get(size)
        if old is not None and old.note != note_text:
            raise CheckpointError(f"a different checkpoint is stored at size {size}", size=size)
        if old is None:
            self._checkpoints[size] = StoredCheckpoint(size, note_text, signed_at)

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self._checkpoints[max(self._checkpoints)] if self._checkpoints else None

    async def checkpoints(self) -> list[StoredCheckpoint]:
        return [self._checkpoints[s] for s in sorted(self._checkpoints)]
