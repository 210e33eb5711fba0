"""The gateway's data sources: found (entry points), built, and each put behind its guard.

Every source — an entry-point plug-in or one handed in by a test — is wrapped in an
:class:`~adapters.resilience.ResilientAdapter` with the policy from
``[adapters.<name>.resilience]``, so the fan-out sees attempts, circuit state and throttling.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from adapters.base import Adapter
from adapters.resilience import Clock, ResilientAdapter
from gateway.config import Settings
from gateway.registry import LoadedAdapter, load_adapters

__all__ = ["build_sources", "close_sources", "guarded"]


def guarded(item: LoadedAdapter, settings: Settings, clock: Clock | None = None) -> LoadedAdapter:
    """``item`` behind its resilience policy (an already guarded adapter is left alone)."""
    if isinstance(item.adapter, ResilientAdapter):
        return item
    own = settings.adapter(item.adapter.name)
    guard = ResilientAdapter(item.adapter, own.resilience.policy(), clock=clock)
    return dataclasses.replace(item, adapter=guard, tiers=tuple(own.tiers))


def build_sources(
    settings: Settings, adapters: Sequence[Adapter] | None = None, clock: Clock | None = None
) -> list[LoadedAdapter]:
    """Every enabled source, guarded; ``adapters`` replaces entry-point discovery (tests)."""
    loaded = (
        [LoadedAdapter(a, "in-process", "0") for a in adapters]
        if adapters is not None
        else load_adapters(settings)
    )
    return [guarded(item, settings, clock) for item in loaded]


async def close_sources(items: Sequence[LoadedAdapter]) -> None:
    """Release every source's connections."""
    for item in items:
        await item.adapter.aclose()
