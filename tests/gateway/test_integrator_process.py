"""The audit log is integrated and checkpointed by a child process, restarted if it dies."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.note import NoteSigner
from gateway.app import Gateway
from gateway.config import Settings, load_settings

pytestmark = pytest.mark.asyncio

WAIT_S = 30.0  # spawning a child imports the gateway: seconds on a busy machine


def _settings(db_url: str, tmp_path: Path, *, in_child: bool) -> Settings:
    return load_settings(
        database_url=db_url,
        key_dir=tmp_path / "keys",
        metrics_listen="",
        checkpoint_interval_s=0.05,
        integrator_process=in_child,
    )


@pytest_asyncio.fixture
async def gateway(db_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    opened = await Gateway.open(_settings(db_url, tmp_path, in_child=True), adapters=[])
    try:
        yield opened
    finally:
        await opened.close()


async def _integrated(gateway: Gateway, size: int) -> None:
    """Wait (bounded) until a checkpoint of ``size`` leaves is stored."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        latest = await gateway.audit_log.latest_checkpoint()
        if latest is not None and latest.size >= size:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no checkpoint of {size} leaves within {WAIT_S}s")


async def test_the_child_integrates_and_signs_the_leaves_the_gateway_appends(
    gateway: Gateway,
) -> None:
    """Leaves appended by the serving process are integrated by the child, which signs a
    checkpoint with the gateway's checkpoint key over the RFC 6962 root of all of them."""
    await gateway.start_background()
    child = gateway.integrator_process
    assert child is not None
    assert child.alive()
    assert child.pid != os.getpid()
    entries = [b"leaf %d" % i for i in range(300)]  # more than one chunk
    await gateway.audit_log.append(entries)
    size = await gateway.audit_log.size()
    await _integrated(gateway, size)
    latest = await gateway.audit_log.latest_checkpoint()
    assert latest is not None
    key = gateway.keys.private_key("checkpoint")
    verifier = NoteSigner(gateway.settings.log_origin, key).verifier()
    checkpoint = open_checkpoint(latest.note, verifier)
    every = await gateway.audit_log.entries(0, checkpoint.size)
    assert checkpoint.root_hash == merkle.root([merkle.leaf_hash(e) for e in every])


async def test_a_child_that_dies_is_started_again(gateway: Gateway) -> None:
    """A killed integrator process is replaced, and the new one goes on integrating."""
    await gateway.start_background()
    child = gateway.integrator_process
    assert child is not None
    first = child.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if child.restarts == 1 and child.alive():
            break
        await asyncio.sleep(0.05)
    assert child.restarts == 1
    assert child.alive()
    assert child.pid != first
    assert b"hedui_integrator_restarts_total 1.0" in gateway.metrics.exposition()
    await gateway.audit_log.append([b"after the restart"])
    await _integrated(gateway, await gateway.audit_log.size())


async def test_close_stops_the_child(gateway: Gateway) -> None:
    """Closing the gateway ends its integrator process and integrates what is left itself."""
    await gateway.start_background()
    child = gateway.integrator_process
    assert child is not None
    process_pid = child.pid
    await gateway.audit_log.append([b"last"])
    await gateway.close()
    assert not child.alive()
    assert child.pid is None
    assert process_pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process_pid, 0)  # reaped, not a zombie
    assert await gateway.audit_log.integrated_size() == await gateway.audit_log.size()


async def test_with_the_setting_off_the_loop_integrates(db_url: str, tmp_path: Path) -> None:
    """``integrator_process = false`` starts no child; the serving loop integrates."""
    gateway = await Gateway.open(_settings(db_url, tmp_path, in_child=False), adapters=[])
    try:
        await gateway.start_background()
        assert gateway.integrator_process is None
        await gateway.audit_log.append([b"on the loop"])
        await _integrated(gateway, await gateway.audit_log.size())
    finally:
        await gateway.close()
