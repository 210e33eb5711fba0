"""The integrator: a bounded pass that grows the tree and signs a checkpoint for it.

Appending (the gateway, inside its own transactions) is separate from integrating: a pass hashes
at most ``max_batch`` pending leaves into stored subtree hashes and, if the integrated tree grew
past the latest checkpoint, signs a C2SP checkpoint for it. Passes are serialised by the store
(an advisory lock on PostgreSQL), so any number of replicas may run the loop. The clock is
injected; it stamps when each checkpoint was signed.

A pass may integrate in transactions of at most ``chunk`` leaves and pause after each for
``pause_ratio`` times as long as it took. The gateway integrates on the loop that serves its
requests, where on SQLite a statement never yields: one transaction for a second's worth of
leaves at half of saturation (about 2,250) held every request for 16 ms, and chunks run back to
back still held them for 25 ms, letting each request one step further per chunk. Chunks of 256
leaves with a pause of three times their length keep the integrator under a quarter of the loop
(docs/BENCHMARKS.md, session 5). One checkpoint is still signed per pass, for all its chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.note import NoteSigner
from audit.storage import LogStorage

__all__ = ["Clock", "Integrator", "PassResult", "integrate_and_sign"]

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (e.g. ``lambda: datetime.now(UTC)``)."""

_log = logging.getLogger(__name__)
_MAX_PAUSE_S = 1.0  # the longest pause after a chunk, whatever pause_ratio says


@dataclasses.dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did: the integrated size after it, and the checkpoint it signed, if any."""

    integrated_size: int
    checkpoint: Checkpoint | None


async def integrate_and_sign(
    store: LogStorage,
    signer: NoteSigner,
    origin: str,
    clock: Clock,
    *,
    max_batch: int = 10_000,
    chunk: int = 10_000,
    pause_ratio: float = 0.0,
) -> PassResult:
    """One bounded pass: integrate up to ``max_batch`` leaves; sign the tree if it grew."""
    size = await _integrate(store, max_batch, chunk, pause_ratio)  # 1. hash pending leaves
    latest = await store.latest_checkpoint()  # 2. has the tree grown past the last checkpoint?
    if size == 0 or (latest is not None and latest.size >= size):
        return PassResult(size, None)
    checkpoint = Checkpoint(origin, size, await store.root(size))  # 3. sign the new tree head
    await store.save_checkpoint(size, sign_checkpoint(checkpoint, signer), signed_at=clock())
    return PassResult(size, checkpoint)


async def _integrate(store: LogStorage, max_batch: int, chunk: int, pause_ratio: float) -> int:
    """Integrate up to ``max_batch`` leaves, ``chunk`` per transaction; the size reached."""
    if chunk >= max_batch:
        return await store.integrate(max_batch)
    loop = asyncio.get_running_loop()
    start = size = await store.integrated_size()
    while size - start < max_batch:
        asked = min(chunk, max_batch - (size - start))
        began = loop.time()
        grown = await store.integrate(asked)
        if grown - size < asked:  # nothing more was pending
            return grown
        size = grown
        # the other tasks on this loop run between chunks (at least one turn of the loop); a
        # chunk that took long (a database stall) does not hold the log back for long after it
        await asyncio.sleep(min((loop.time() - began) * pause_ratio, _MAX_PAUSE_S))
    return size


@dataclasses.dataclass(slots=True)
class Integrator:
    """Runs :func:`integrate_and_sign` once or periodically with fixed store, key and clock."""

    store: LogStorage
    signer: NoteSigner
    origin: str
    clock: Clock
    max_batch: int = 10_000
    chunk: int = 10_000  # leaves per transaction; the gateway passes a smaller one
    pause_ratio: float = 0.0  # after each chunk, pause this many times as long as it took

    async def run_once(self, *, paced: bool = True) -> PassResult:
        """One pass; ``paced=False`` runs its chunks back to back (catching up)."""
        return await integrate_and_sign(
            self.store,
            self.signer,
            self.origin,
            self.clock,
            max_batch=self.max_batch,
            chunk=self.chunk,
            pause_ratio=self.pause_ratio if paced else 0.0,
        )

    async def run_periodically(self, interval_s: float, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; catch up without waiting while a batch pends.

        Only a full batch (``max_batch`` leaves or more still pending) skips the wait. Under
        steady load a few leaves always arrive during a pass; running passes back to back for
        them cost the request loop about a tenth of its CPU (docs/BENCHMARKS.md), so they wait
        for the next interval instead. A failing pass is logged and retried after the interval:
        the log only ever waits. A pass is paced (``pause_ratio``) unless the one before it
        ended a full batch behind: then the chunks run back to back until the log has caught up.
        """
        behind = False
        while not stop.is_set():
            try:
                result = await self.run_once(paced=not behind)
                pending = await self.store.size() - result.integrated_size
                behind = pending >= self.max_batch
            except Exception:
                behind = False
                _log.exception("audit integration pass failed; retrying in %ss", interval_s)
            if not behind:
                await _wait(stop, interval_s)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` is set, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
