"""The audit log's storage contract, and the tree logic every backend shares.

A backend supplies a few primitives — append and read entries, read and write node hashes inside
an *integration* transaction, keep checkpoints — and inherits from :class:`TreeStore` the
RFC 6962 parts: integrating new leaves into stored perfect-subtree hashes, roots at any
integrated size and inclusion/consistency proofs, each from O(log n) stored hashes fetched at
once. Every backend passes the conformance suite in :mod:`audit.testing`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from audit import merkle
from audit.errors import LogRangeError
from audit.merkle import NodeId

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["IntegrationTx", "LogStorage", "StoredCheckpoint", "TreeStore"]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: its tree size, the signed note text, when it was signed."""

    size: int
    note: str
    signed_at: datetime | None = None


@runtime_checkable
class LogStorage(Protocol):
    """What the gateway, the integrator and the verifier ask of a log store."""

    async def append(self, entries: Sequence[bytes], conn: AsyncConnection | None = None) -> int:
        """Sequence ``entries`` contiguously; return the index of the first one."""
        ...

    async def size(self) -> int: ...
    async def integrated_size(self) -> int: ...
    async def integrate(self, max_batch: int = 10_000) -> int:
        """Hash up to ``max_batch`` pending leaves into the tree; return the integrated size."""
        ...

    async def entries(self, start: int, end: int) -> list[bytes]: ...
    async def root(self, size: int) -> bytes: ...
    async def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...
    async def consistency_proof(self, old: int, new: int) -> list[bytes]: ...
    async def read_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]: ...
    async def node_range(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes of nodes ``(level, start) … (level, end - 1)``, in order, gaps dropped."""
        ...

    async def save_checkpoint(
        self, size: int, note_text: str, *, signed_at: datetime | None = None
    ) -> None: ...
    async def latest_checkpoint(self) -> StoredCheckpoint | None: ...
    async def checkpoints(self) -> list[StoredCheckpoint]: ...
    def reading(self) -> AbstractAsyncContextManager[LogStorage]:
        """This store for several reads in a row, one at a time (SQL: on one connection)."""
        ...


class IntegrationTx(Protocol):
    """The write of one integration pass: serialised against other integrators (it holds the
    integration lock), committed on clean exit. ``integrated_size`` is read under the lock."""

    integrated_size: int

    async def write_nodes(self, nodes: Sequence[tuple[NodeId, bytes]]) -> None: ...


class TreeStore(ABC):
    """RFC 6962 tree operations over a backend's node primitives."""

    @abstractmethod
    async def size(self) -> int: ...

    @abstractmethod
    async def integrated_size(self) -> int: ...

    @abstractmethod
    async def entries(self, start: int, end: int) -> list[bytes]: ...

    @abstractmethod
    async def read_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]: ...

    @abstractmethod
    def integration(self) -> AbstractAsyncContextManager[IntegrationTx]: ...

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Self]:
        """This store for several reads in a row; backends with connections pin one here."""
        yield self

    async def integrate(self, max_batch: int = 10_000) -> int:
        """Hash up to ``max_batch`` pending leaves into stored nodes; return the integrated size.

        1. Read, without the integration lock: the integrated size, the entries pending after
           it and the border of the integrated tree. All three are immutable once written.
        2. Hash them into the new nodes (:func:`merkle.extend`, pure).
        3. Under the lock, write the nodes if the integrated size is still the one read in 1;
           if another integrator moved it meanwhile, write nothing and return its size.

        So the lock is held for the write only. An integrator in a process of its own (the
        gateway's, gateway/integrator_process.py) then holds SQLite's write lock while it
        writes its nodes, not while it reads and hashes, and the serving process's commits
        seldom wait for it.
        """
        if max_batch < 1:
            raise ValueError(f"max_batch must be positive, not {max_batch}")
        async with self.reading() as view:  # 1.
            start = await view.integrated_size()
            end = min(await view.size(), start + max_batch)
            if end <= start:
                return start
            entries = await view.entries(start, end)
            border = merkle.perfect_nodes(0, start)
            stored = await view.read_nodes(border)
        done, size = merkle.extend(start, [stored[n] for n in border], entries)  # 2.
        async with self.integration() as tx:  # 3.
            if tx.integrated_size != start:
                return tx.integrated_size
            await tx.write_nodes(done)
            return size

    async def _fetch(self, ids: list[NodeId], what: str) -> dict[NodeId, bytes]:
        """Read the nodes a computation needs; a missing one means the size is not integrated."""
        nodes = await self.read_nodes(ids) if ids else {}
        if len(nodes) != len(ids):
            raise LogRangeError(f"{what}: the tree is not integrated that far")
        return nodes

    async def root(self, size: int) -> bytes:
        """MTH of the first ``size`` leaves (§2.1), from at most log2(size) + 1 stored nodes."""
        if size < 0:
            raise LogRangeError(f"root of size {size}: sizes are not negative")
        ids = merkle.perfect_nodes(0, size)
        nodes = await self._fetch(ids, f"root of size {size}")
        return merkle.fold([nodes[n] for n in ids])

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """§2.1.1 audit path of leaf ``index`` in the tree of ``size`` leaves."""
        if not 0 <= index < size:
            raise LogRangeError(f"leaf index {index} is not in a tree of size {size}")
        spans = merkle.inclusion_spans(index, size)
        nodes = await self._fetch(merkle.nodes_for(spans), f"inclusion proof at size {size}")
        return merkle.assemble(spans, nodes)

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """§2.1.2 proof that the tree of ``old`` leaves is a prefix of the tree of ``new``."""
        if not 0 <= old <= new:
            raise LogRangeError(f"no consistency proof from size {old} to size {new}")
        spans = merkle.consistency_spans(old, new)
        ids = merkle.nodes_for(spans)
        if new > 0 and old in (0, new):  # empty proof: still refuse sizes not integrated
            ids.append(merkle.perfect_nodes(0, new)[-1])
        nodes = await self._fetch(ids, f"consistency proof to size {new}")
        return merkle.assemble(spans, nodes)
