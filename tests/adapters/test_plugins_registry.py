"""Plug-ins: found through the hedui.adapters entry points, validated when loaded, allowlisted;
the example 残联 package is installed and passes the conformance suite through its entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.base import Adapter, AdapterConfig, SourceCategory, SourceQuery
from adapters.simulator import Simulator, run_simulator
from adapters.testing import AdapterConformance, FakeAdapter, make_query
from gateway.config import load_settings
from gateway.registry import ENTRY_POINT_GROUP, RegistryError, contract_problems, load_adapters

GROUP = ENTRY_POINT_GROUP


def settings(**overrides: Any) -> Any:
    """Settings that never touch the default database or keys."""
    return load_settings(database_url="sqlite:///unused.db", key_dir=Path("unused"), **overrides)


def disability_entry_point() -> EntryPoint:
    """The example package's entry point, as installed by `make` (pip install -e examples/…)."""
    return next(ep for ep in entry_points(group=GROUP) if ep.name == "disability")


def test_example_package_is_installed_with_its_version() -> None:
    """The 残联 plug-in is a separate distribution with its own name and version."""
    ep = disability_entry_point()
    assert ep.dist is not None
    assert (ep.dist.name, ep.dist.version) == ("hedui-disability-adapter", "0.1.0")


def test_registry_records_distribution_and_version() -> None:
    """Each loaded adapter carries `distribution version`, which reports record."""
    loaded = {item.adapter.name: item for item in load_adapters(settings())}
    assert loaded["disability"].version_label == "hedui-disability-adapter 0.1.0"
    assert loaded["hukou"].version_label.startswith("hedui ")
    assert loaded["disability"].adapter.category is SourceCategory.DISABILITY


def test_allowlist_decides_what_loads() -> None:
    """With an allowlist only the named adapters load; disabled ones never do."""
    names = {
        i.adapter.name for i in load_adapters(settings(adapter_allowlist=["bank", "disability"]))
    }
    assert names == {"bank", "disability"}
    off = settings(adapters={"disability": {"enabled": False}})
    assert "disability" not in {i.adapter.name for i in load_adapters(off)}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("adapters.testing:make_query", "does not implement the Adapter protocol"),
        ("adapters.nowhere:Nothing", "failed to load"),
    ],
)
def test_bad_entry_points_fail_at_load_time(value: str, reason: str) -> None:
    """A broken plug-in stops start-up with its name and the reason, not at first call."""
    bad = EntryPoint(name="broken", value=value, group=GROUP)
    with pytest.raises(RegistryError, match=reason) as caught:
        load_adapters(settings(), [bad])
    assert "'broken'" in str(caught.value)


def test_a_name_used_twice_is_refused() -> None:
    """Two entry points with one name (e.g. two distributions) stop start-up."""
    ep = EntryPoint(name="bank", value="adapters.builtin:BankAdapter", group=GROUP)
    with pytest.raises(RegistryError, match="used twice"):
        load_adapters(settings(), [ep, ep])


class _SyncFetch(FakeAdapter):
    def fetch(self, query: SourceQuery) -> Any:  # type: ignore[override]
        return None


def test_contract_signature_is_checked() -> None:
    """A synchronous fetch, or a name differing from the configured one, is a contract problem."""
    good = FakeAdapter("bank", SourceCategory.BANK, department="银行")
    assert contract_problems(good, "bank") == []
    assert contract_problems(good, "other") == [
        "name 'bank' differs from its configured name 'other'"
    ]
    bad = _SyncFetch("bank", SourceCategory.BANK, department="银行")
    assert "fetch must be async def" in contract_problems(bad, "bank")


@pytest_asyncio.fixture
async def department() -> AsyncIterator[Simulator]:
    """The simulator, serving the 残联 API."""
    async with run_simulator(port=0, seed=7, households=30) as sim:
        yield sim


class TestDisabilityThroughEntryPoint(AdapterConformance):
    """The example plug-in, built the way the gateway builds it, passes the conformance suite."""

    @pytest_asyncio.fixture
    async def adapter(self, department: Simulator) -> AsyncIterator[Adapter]:
        ep = disability_entry_point()
        made = ep.load()(AdapterConfig(name=ep.name, base_url=department.base_url))
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self, department: Simulator) -> SourceQuery:
        disabled = [
            p.id_number for h in department.population for p in h.persons if p.disability_grade
        ]
        return make_query(*disabled[:3])
