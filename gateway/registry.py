"""Finding adapters: the ``hedui.adapters`` entry-point group, filtered by an allowlist.

Entry points are loaded when the gateway starts (never as an import side effect) and checked at
once: the object must build an :class:`~adapters.base.Adapter` with a unique name and a declared
category. The distribution name and version of each are recorded in every report.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from adapters.base import Adapter, AdapterConfig, SourceCategory
from adapters.declarative import build_source, spec_digest
from gateway.config import Settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedAdapter",
    "RegistryError",
    "contract_problems",
    "load_adapters",
]

ENTRY_POINT_GROUP = "hedui.adapters"


class RegistryError(Exception):
    """An adapter could not be loaded; the message names it and says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedAdapter:
    adapter: Adapter
    distribution: str
    version: str
    kind: str = "plugin"  # "plugin" (entry point) | "declarative" ([sources.<name>])
    tiers: tuple[str, ...] = ("county", "provincial", "national")  # where it may be queried

    @property
    def version_label(self) -> str:
        return f"{self.distribution} {self.version}"


def _arity(method: Any) -> int:
    """How many parameters a bound method takes (besides self)."""
    try:
        return len(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return -1


def contract_problems(adapter: Adapter, name: str) -> list[str]:
    """What is wrong with a built adapter's shape (empty: nothing), checked at load time."""
    out = []
    if adapter.name != name:
        out.append(f"name {adapter.name!r} differs from its configured name {name!r}")
    if not isinstance(adapter.department, str) or not adapter.department:
        out.append("department must be a non-empty string")
    for method, is_async, arity in (("fetch", True, 1), ("decode", False, 1), ("aclose", True, 0)):
        fn = getattr(adapter, method)
        if inspect.iscoroutinefunction(fn) is not is_async:
            out.append(f"{method} must be {'async def' if is_async else 'a plain def'}")
        if _arity(fn) != arity:
            out.append(f"{method} must take {arity} argument(s), takes {_arity(fn)}")
    return out


def load_adapters(
    settings: Settings, eps: Sequence[EntryPoint] | None = None
) -> list[LoadedAdapter]:
    """Build every enabled, allowed adapter; raise RegistryError on the first bad one."""
    found = list(eps if eps is not None else entry_points(group=ENTRY_POINT_GROUP))
    allow = set(settings.adapter_allowlist)
    loaded: dict[str, LoadedAdapter] = {}
    for ep in sorted(found, key=lambda e: e.name):
        if (allow and ep.name not in allow) or not settings.adapter(ep.name).enabled:
            continue
        item = _load_one(ep, settings)
        if item.adapter.name in loaded:
            raise RegistryError(f"adapter name {item.adapter.name!r} is used twice ({ep.value})")
        loaded[item.adapter.name] = item
    for name in sorted(settings.sources):
        if settings.adapter(name).enabled:
            loaded[name] = _load_declarative(name, settings, {ep.name for ep in found} | {*loaded})
    return list(loaded.values())


def _load_declarative(name: str, settings: Settings, taken: set[str]) -> LoadedAdapter:
    """The source ``[sources.<name>]`` describes (the allowlist is for plug-ins only)."""
    if name in taken:
        raise RegistryError(f"sources.{name}: the name is taken by an installed adapter plug-in")
    spec = settings.sources[name]
    try:
        adapter = build_source(name, spec, settings.adapter(name).base_url)
    except Exception as exc:
        raise RegistryError(f"sources.{name}: cannot be built: {exc}") from exc
    return LoadedAdapter(adapter, "config", spec_digest(spec), kind="declarative")


def _load_one(ep: EntryPoint, settings: Settings) -> LoadedAdapter:
    own = settings.adapter(ep.name)
    try:
        factory = ep.load()
        adapter = factory(AdapterConfig(name=ep.name, base_url=own.base_url, options=own.options))
    except Exception as exc:
        raise RegistryError(f"adapter {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
    if not isinstance(adapter, Adapter):
        raise RegistryError(
            f"adapter {ep.name!r} ({ep.value}) does not implement the Adapter protocol"
        )
    if not isinstance(adapter.category, SourceCategory):
        raise RegistryError(
            f"adapter {ep.name!r} declares no SourceCategory (got {adapter.category!r})"
        )
    problems = contract_problems(adapter, ep.name)
    if problems:
        raise RegistryError(f"adapter {ep.name!r} ({ep.value}) breaks the contract: {problems[0]}")
    dist = ep.dist
    return LoadedAdapter(adapter, dist.name if dist else "unknown", dist.version if dist else "0")
