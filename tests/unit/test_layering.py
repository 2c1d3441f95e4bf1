"""The dependency rule, checked on the source: what each package may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pubsubgo

ROOT = Path(pubsubgo.__file__).parent
#: Packages that hold the rules and the use cases: no framework, no driver.
FRAMEWORK_FREE = ("core", "ports", "services", "runtime")
FRAMEWORKS = (
    "aiohttp",
    "asyncpg",
    "dependency_injector",
    "grpc",
    "msgspec",
    "opentelemetry",
    "prometheus_client",
    "pydantic",
    "redis",
    "typer",
)
#: The edges: each may import the shared wire layer, none another edge.
EDGES = ("http", "websocket", "grpc", "console")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_under(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", FRAMEWORK_FREE)
def test_the_inner_packages_import_no_framework(package: str) -> None:
    assert modules_under(package)
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules_under(package)
        for name in imports_of(path)
        if name.split(".")[0] in FRAMEWORKS or name.startswith("pubsubgo.adapters")
    }
    assert not offending


@pytest.mark.parametrize("edge", EDGES)
def test_no_edge_imports_another_edge(edge: str) -> None:
    others = tuple(f"pubsubgo.adapters.{other}" for other in EDGES if other != edge)
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules_under(f"adapters/{edge}")
        for name in imports_of(path)
        if name.startswith(others)
    }
    assert not offending


def test_the_wire_layer_imports_no_edge_and_no_composition_root() -> None:
    edges = tuple(f"pubsubgo.adapters.{edge}" for edge in EDGES)
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules_under("adapters/wire")
        for name in imports_of(path)
        if name.startswith(edges) or name == "pubsubgo.containers"
    }
    assert not offending


def test_only_the_composition_root_and_the_entry_points_import_the_container() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "pubsubgo.containers" in imports_of(path)
    }
    assert importers <= {"cli/server.py", "cli/workers.py"}
