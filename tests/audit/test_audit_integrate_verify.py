"""The integrator signs checkpoints for a growing tree; verify_log finds any tampering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import merkle
from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import CheckpointError, TamperedEntry
from audit.integrate import Integrator, integrate_and_sign
from audit.memory import MemoryStorage
from audit.note import NoteSigner
from audit.sql import SqlStorage, leaves, nodes
from audit.storage import LogStorage
from audit.testing import sample_entries
from audit.verify import verify_log

ORIGIN = "hedui.test/audit"  # the name of the ``signer`` fixture's key
T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def _signed_log(store: LogStorage, signer: NoteSigner, batches: list[int]) -> None:
    """Append batches of entries, running one integrate-and-sign pass after each."""
    clock, total = FakeClock(), 0
    for n in batches:
        await store.append(sample_entries(n, total))
        total += n
        await integrate_and_sign(store, signer, ORIGIN, clock, max_batch=1000)
        clock.now += timedelta(minutes=1)


@pytest.mark.asyncio
async def test_a_pass_signs_only_when_the_tree_grew(signer: NoteSigner) -> None:
    """A pass integrates a bounded batch and signs it; an idle pass signs nothing."""
    store, clock = MemoryStorage(), FakeClock()
    assert (await integrate_and_sign(store, signer, ORIGIN, clock)).checkpoint is None
    await store.append(sample_entries(5))
    first = await integrate_and_sign(store, signer, ORIGIN, clock, max_batch=3)
    assert first.integrated_size == 3
    assert first.checkpoint == Checkpoint(ORIGIN, 3, await store.root(3))
    assert (await integrate_and_sign(store, signer, ORIGIN, clock)).integrated_size == 5
    assert (await integrate_and_sign(store, signer, ORIGIN, clock)).checkpoint is None
    stored = await store.checkpoints()
    assert [c.size for c in stored] == [3, 5]
    assert stored[0].signed_at == T0
    assert open_checkpoint(stored[1].note, signer.verifier()).root_hash == await store.root(5)


class CountingStorage(MemoryStorage):
    """A memory log that records how many leaves each integration transaction took."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions: list[int] = []

    async def integrate(self, max_batch: int = 10_000) -> int:
        before = await self.integrated_size()
        size = await super().integrate(max_batch)
        self.transactions.append(size - before)
        return size


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pending", "max_batch", "chunk", "transactions"),
    [
        (8, 10, 3, [3, 3, 2]),  # everything pending, in chunks, the last one short
        (9, 10, 3, [3, 3, 3, 0]),  # a full last chunk: one more look finds nothing
        (25, 10, 4, [4, 4, 2]),  # the pass stops at max_batch, mid-chunk
        (5, 10, 10, [5]),  # chunk ≥ max_batch: one transaction, as without chunks
    ],
)
async def test_a_pass_integrates_in_chunks_and_signs_once(
    signer: NoteSigner, pending: int, max_batch: int, chunk: int, transactions: list[int]
) -> None:
    """Chunks bound each transaction; the pass still takes max_batch leaves and signs one head."""
    store = CountingStorage()
    await store.append(sample_entries(pending))
    result = await integrate_and_sign(
        store, signer, ORIGIN, FakeClock(), max_batch=max_batch, chunk=chunk
    )
    assert store.transactions == transactions
    size = min(pending, max_batch)
    assert result.checkpoint == Checkpoint(ORIGIN, size, await store.root(size))
    assert [c.size for c in await store.checkpoints()] == [size]


@pytest.mark.asyncio
async def test_other_tasks_run_between_chunks(signer: NoteSigner) -> None:
    """A pass of several chunks lets a waiting task run before it finishes."""
    store, ran_at = CountingStorage(), []
    await store.append(sample_entries(12))

    async def other() -> None:
        ran_at.append(len(store.transactions))

    task = asyncio.create_task(other())
    await integrate_and_sign(store, signer, ORIGIN, FakeClock(), max_batch=100, chunk=4)
    await task
    assert ran_at, "the other task never ran"
    assert 0 < ran_at[0] < len(store.transactions)


class SlowStorage(CountingStorage):
    """Each integration transaction takes ``seconds`` of wall time (as SQLite's would hold it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def integrate(self, max_batch: int = 10_000) -> int:
        await asyncio.sleep(self.seconds)
        return await super().integrate(max_batch)


@pytest.mark.asyncio
async def test_a_paced_pass_pauses_after_each_full_chunk(signer: NoteSigner) -> None:
    """With pause_ratio 2, each chunk but the last is followed by twice its own time."""
    store = SlowStorage(0.02)
    await store.append(sample_entries(8))
    integrator = Integrator(store, signer, ORIGIN, FakeClock(), chunk=3, pause_ratio=2.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await integrator.run_once()
    # three chunks (3, 3, 2) of ≥ 20 ms, pauses of ≥ 40 ms after the first two
    assert loop.time() - began >= 3 * 0.02 + 2 * 2 * 0.02
    assert store.transactions == [3, 3, 2]


@pytest.mark.asyncio
async def test_periodic_loop_catches_up_and_stops(signer: NoteSigner) -> None:
    """The loop integrates everything pending, batch after batch, and returns once stopped."""
    store, stop = MemoryStorage(), asyncio.Event()
    await store.append(sample_entries(25))
    integrator = Integrator(store, signer, ORIGIN, FakeClock(), max_batch=10)
    task = asyncio.create_task(integrator.run_periodically(0.01, stop))
    for _ in range(200):
        if await store.integrated_size() == 25:
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
    assert [c.size for c in await store.checkpoints()] == [10, 20, 25]


@pytest.mark.asyncio
async def test_clean_logs_verify(engine: AsyncEngine, signer: NoteSigner) -> None:
    """A log built by append + integrate-and-sign verifies on both stores, in small chunks."""
    for store in (MemoryStorage(), SqlStorage(engine)):
        await _signed_log(store, signer, [5, 1, 16, 9])
        await store.append(sample_entries(3, 31))  # pending leaves are fine
        await verify_log(store, signer.verifier(), chunk=4)


@pytest.mark.asyncio
async def test_chunked_passes_build_the_tree_one_transaction_builds(
    engine: AsyncEngine, signer: NoteSigner
) -> None:
    """On SQL storage, passes in paced chunks of 7 sign the same heads as unchunked passes."""
    chunked, whole, clock = SqlStorage(engine), MemoryStorage(), FakeClock()
    for n in (5, 23, 1, 40):
        for store in (chunked, whole):
            await store.append(sample_entries(n, await store.size()))
        paced = await integrate_and_sign(
            chunked, signer, ORIGIN, clock, max_batch=30, chunk=7, pause_ratio=0.5
        )
        once = await integrate_and_sign(whole, signer, ORIGIN, clock, max_batch=30)
        assert paced.checkpoint == once.checkpoint
    await verify_log(chunked, signer.verifier())


async def _tamper(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(sql))


@pytest.mark.asyncio
async def test_tampered_leaf_row_is_named(engine: AsyncEngine, signer: NoteSigner) -> None:
    """Overwriting a stored entry is reported as TamperedEntry at that leaf's index."""
    store = SqlStorage(engine)
    await _signed_log(store, signer, [10, 10])
    async with engine.begin() as conn:
        await conn.execute(update(leaves).where(leaves.c.idx == 13).values(entry=b"forged"))
    with pytest.raises(TamperedEntry, match="leaf 13") as caught:
        await verify_log(store, signer.verifier(), chunk=6)
    assert (caught.value.index, caught.value.level) == (13, 0)


@pytest.mark.asyncio
async def test_tampered_node_row_is_named(engine: AsyncEngine, signer: NoteSigner) -> None:
    """Overwriting a stored subtree hash is reported with the node and its first leaf."""
    store = SqlStorage(engine)
    await _signed_log(store, signer, [20])
    async with engine.begin() as conn:
        row = (nodes.c.level == 2) & (nodes.c.idx == 3)
        await conn.execute(update(nodes).where(row).values(hash=bytes(32)))
    with pytest.raises(TamperedEntry, match=r"node \(2, 3\)") as caught:
        await verify_log(store, signer.verifier())
    assert (caught.value.index, caught.value.level) == (12, 2)


@pytest.mark.asyncio
async def test_deleted_node_row_is_detected(engine: AsyncEngine, signer: NoteSigner) -> None:
    """A missing subtree hash is reported as TamperedEntry."""
    store = SqlStorage(engine)
    await _signed_log(store, signer, [20])
    await _tamper(engine, "DELETE FROM audit_nodes WHERE level = 1 AND idx = 4")
    with pytest.raises(TamperedEntry, match="expected"):
        await verify_log(store, signer.verifier())


@pytest.mark.asyncio
async def test_tampered_checkpoint_row_is_named(engine: AsyncEngine, signer: NoteSigner) -> None:
    """Editing a stored checkpoint's note breaks its signature, reported with its size."""
    store = SqlStorage(engine)
    await _signed_log(store, signer, [4, 4, 4])
    await _tamper(engine, "UPDATE audit_checkpoints SET note = replace(note, '\n8\n', '\n7\n') "
                  "WHERE size = 8")  # fmt: skip
    with pytest.raises(CheckpointError, match="size 8") as caught:
        await verify_log(store, signer.verifier())
    assert caught.value.size == 8


@pytest.mark.asyncio
async def test_signed_wrong_root_is_named(signer: NoteSigner) -> None:
    """A correctly signed checkpoint whose root disagrees with the entries is named by size."""
    store = MemoryStorage()
    await _signed_log(store, signer, [6])
    bad = Checkpoint(ORIGIN, 3, merkle.EMPTY_ROOT)
    await store.save_checkpoint(3, sign_checkpoint(bad, signer))
    with pytest.raises(CheckpointError, match="size 3") as caught:
        await verify_log(store, signer.verifier())
    assert caught.value.size == 3


@pytest.mark.asyncio
async def test_checkpoint_beyond_integration_is_refused(signer: NoteSigner) -> None:
    """A checkpoint for more leaves than are integrated is refused."""
    store = MemoryStorage()
    await _signed_log(store, signer, [2])
    await store.save_checkpoint(9, sign_checkpoint(Checkpoint(ORIGIN, 9, bytes(32)), signer))
    with pytest.raises(CheckpointError, match="beyond"):
        await verify_log(store, signer.verifier())
