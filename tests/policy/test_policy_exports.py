"""The public surfaces of gateway.policy and gateway.assessment are what ``__all__`` says."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["gateway.policy", "gateway.assessment"])
def test_every_exported_name_exists_and_is_public(name: str) -> None:
    """Each name in ``__all__`` resolves; no private module leaks into it."""
    module = importlib.import_module(name)
    for export in module.__all__:
        assert hasattr(module, export), export
        assert not export.startswith("_")
    assert sorted(module.__all__, key=str.casefold) == sorted(set(module.__all__), key=str.casefold)
