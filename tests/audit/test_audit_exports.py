"""The audit package's public surface is exactly its curated ``__all__``."""

from __future__ import annotations

import importlib

import audit

_MODULES = [
    "checkpoint", "errors", "events", "integrate", "memory", "merkle", "note", "proof", "sql",
    "storage", "verify",
]  # fmt: skip


def test_all_names_are_importable_and_unique() -> None:
    """Every name in audit.__all__ exists, once."""
    assert len(set(audit.__all__)) == len(audit.__all__)
    for name in audit.__all__:
        assert getattr(audit, name) is not None, name


def test_star_import_gives_exactly_all() -> None:
    """`from audit import *` binds exactly the names in __all__."""
    namespace: dict[str, object] = {}
    exec("from audit import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(audit.__all__)


def test_exports_come_from_their_modules() -> None:
    """Each exported name is the object its defining module lists in its own __all__."""
    owners = {}
    for mod in _MODULES:
        module = importlib.import_module(f"audit.{mod}")
        owners.update({name: getattr(module, name) for name in module.__all__})
    for name in audit.__all__:
        if name in owners:
            assert getattr(audit, name) is owners[name], name


def test_audit_never_imports_the_gateway_or_adapters() -> None:
    """audit modules import neither gateway nor adapters (the dependency points one way)."""
    import pathlib

    for path in pathlib.Path(audit.__file__).parent.glob("*.py"):
        source = path.read_text()
        for package in ("gateway", "adapters"):
            assert f"import {package}" not in source, path
            assert f"from {package}" not in source, path
