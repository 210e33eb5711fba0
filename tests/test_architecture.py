"""The architecture stays visible: dependencies point one way, wire types stay at the edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules allowed to touch generated protobuf code: the gRPC edge, its client and its CLI users.
PROTOBUF_EDGE = (
    "gateway/api/",
    "gateway/server.py",
    "gateway/client.py",
    "gateway/demo.py",
    "gateway/cli_adapters.py",  # a client of the AdminService (`hedui adapters … --target`)
)


def imports_of(path: Path) -> set[str]:
    """Every module name ``path`` imports (absolute imports only; the project uses no others)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"), [("adapters", ("gateway",)), ("audit", ("gateway", "adapters"))]
)
def test_lower_layers_never_import_upper_ones(package: str, forbidden: tuple[str, ...]) -> None:
    """`adapters` never imports `gateway`; `audit` imports neither `gateway` nor `adapters`."""
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imports_of(path)
        if name.split(".")[0] in forbidden
    }
    assert not offenders


def test_generated_protobuf_code_is_used_only_at_the_edge() -> None:
    """Only the gRPC servicers, the server, the client and the demo import generated code."""
    offenders = {
        str(path.relative_to(ROOT))
        for path in modules("gateway")
        if "_proto" not in path.parts
        and not str(path.relative_to(ROOT)).startswith(PROTOBUF_EDGE)
        and any("_proto" in name or name.endswith("_pb2") for name in imports_of(path))
    }
    assert not offenders


def test_no_relative_imports_hide_a_dependency() -> None:
    """Every import is absolute, so the checks above see every dependency."""
    relative = {
        str(path.relative_to(ROOT))
        for package in ("gateway", "adapters", "audit")
        for path in modules(package)
        if "_proto" not in path.parts
        and any(
            isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert not relative
