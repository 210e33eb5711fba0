"""[adapters.<name>.resilience] settings: validated at start-up and applied to each source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.base import SourceCategory
from adapters.resilience import ResilientAdapter
from adapters.testing import FakeAdapter
from gateway.config import load_settings
from gateway.sources import build_sources


def settings(**overrides: Any) -> Any:
    """Settings that never touch the default database or keys."""
    return load_settings(database_url="sqlite:///unused.db", key_dir=Path("unused"), **overrides)


def test_each_source_is_guarded_with_its_own_policy() -> None:
    """A source's resilience table becomes the policy of its ResilientAdapter."""
    fakes = [FakeAdapter(n, SourceCategory.BANK, department=n) for n in ("bank", "other")]
    conf = settings(adapters={"bank": {"resilience": {"max_attempts": 1, "daily_quota": 500}}})
    guarded = {i.adapter.name: i.adapter for i in build_sources(conf, fakes)}
    bank, other = guarded["bank"], guarded["other"]
    assert isinstance(bank, ResilientAdapter)
    assert isinstance(other, ResilientAdapter)
    assert (bank.policy.max_attempts, bank.quota_left) == (1, 500)
    assert (other.policy.max_attempts, other.quota_left) == (3, None)


@pytest.mark.parametrize(
    ("table", "key"),
    [({"max_attempts": 0}, "max_attempts"), ({"retries": 2}, "retries")],
)
def test_bad_resilience_settings_fail_naming_the_key(table: dict[str, Any], key: str) -> None:
    """An out-of-range value or an unknown key is refused at start-up with its full path."""
    with pytest.raises(ValidationError, match=rf"adapters\.bank\.resilience\.{key}"):
        settings(adapters={"bank": {"resilience": table}})


def test_resilience_settings_come_from_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TOML file named by HEDUI_CONFIG sets a source's policy."""
    toml = tmp_path / "hedui.toml"
    toml.write_text("[adapters.vehicle.resilience]\nfailure_threshold = 9\nrate_per_s = 2.5\n")
    monkeypatch.setenv("HEDUI_CONFIG", str(toml))
    policy = settings().adapter("vehicle").resilience.policy()
    assert (policy.failure_threshold, policy.rate_per_s) == (9, 2.5)
