"""The package layout's one-way dependencies, checked on the source.

agent/ (the application) uses tools/ (telemetry access and analysis) and
knowledge/ (the incident memory); evals/ drives agent. So tools/ and knowledge/
never import agent or evals, and agent never imports evals. Every import
counts: at module level, inside functions, under `if TYPE_CHECKING:`, relative
ones, and `importlib.import_module("...")` / `__import__("...")` with a literal
name.

Inside agent/ the order is fixed too, top to bottom: the entry points (the
command line, the HTTP server and its pages), chat, the application service
(agent/service: the desk, runs, inbox, workers, jobs), the graph (runner,
graph, nodes, state, checkpoints), the per-process machinery (context and the
engines it is built on), and the domain packages. A module imports its own
layer or the ones below it, never one above.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "tools": {"agent", "evals"},
    "knowledge": {"agent", "evals"},
    "agent": {"evals"},
}
DYNAMIC = {"import_module", "__import__"}
AGENT_LAYERS: list[set[str]] = [
    {"__main__", "cli", "doctor_cli", "kb_cli", "worker_cli", "served", "views", "server", "web",
     "bench"},
    {"chat"},
    {"service"},
    {"runner", "graph", "nodes", "state", "checkpoint"},
    {"context", "engines"},
    {
        "__init__", "alert", "approval", "config", "dispatch", "draft", "incident", "inbox",
        "isolation", "llm", "policy", "retrospective", "routing", "severity", "sqlite", "demo",
        "cli_options",  # a leaf (typer only) that every command's module may import
    },
]  # fmt: skip


def modules(package: str, root: Path = REPO) -> list[Path]:
    return sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def resolve(node: ast.ImportFrom, path: Path, root: Path) -> str:
    """The absolute module a `from ... import` names (relative ones from the file's package)."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(root).parent.parts)
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported(path: Path, root: Path = REPO) -> Iterator[tuple[int, str]]:
    """Every module the file imports, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, resolve(node, path, root)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in DYNAMIC and isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value


def violations(package: str, root: Path = REPO) -> list[str]:
    banned = FORBIDDEN[package]
    return [
        f"{path.relative_to(root)}:{line}: imports {name}"
        for path in modules(package, root)
        for line, name in sorted(imported(path, root))
        if name.split(".")[0] in banned
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    assert modules(package), f"no modules found under {package}/"
    found = violations(package)
    assert not found, f"{package}/ must not import {sorted(FORBIDDEN[package])}:\n" + "\n".join(
        found
    )


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Function-level, TYPE_CHECKING and dynamic imports; relative ones resolved."""
    package = tmp_path / "knowledge" / "sub"
    package.mkdir(parents=True)
    (package / "mod.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "if TYPE_CHECKING:\n"
        "    from agent.incident.models import Incident\n"
        "def f():\n"
        "    import evals.harness, json\n"
        "    return importlib.import_module('agent.config')\n"
        "from .. import records\n"
        "from .agent import x\n"
    )
    found = [v.split(": ", 1)[1] for v in violations("knowledge", tmp_path)]
    assert found == [
        "imports agent.incident.models",
        "imports evals.harness",
        "imports agent.config",
    ]
    relative = [name for line, name in sorted(imported(package / "mod.py", tmp_path)) if line > 7]
    assert relative == ["knowledge", "knowledge.sub.agent"]  # in-package, not `agent`


def layer_of(name: str) -> int | None:
    """The layer of an agent module (`agent.service.desk` -> the service's), None outside."""
    parts = name.split(".")
    if parts[0] != "agent":
        return None
    top = parts[1] if len(parts) > 1 else "__init__"
    return next((n for n, layer in enumerate(AGENT_LAYERS) if top in layer), -1)


def upward_imports(root: Path = REPO) -> list[str]:
    found = []
    for path in modules("agent", root):
        own = layer_of(".".join(path.relative_to(root).with_suffix("").parts))
        for line, name in sorted(imported(path, root)):
            theirs = layer_of(name)
            if own is not None and theirs is not None and theirs < own:
                found.append(f"{path.relative_to(root)}:{line}: imports {name}")
    return found


def test_every_agent_package_has_a_layer() -> None:
    tops = {p.stem if p.is_file() else p.name for p in (REPO / "agent").iterdir()}
    tops -= {"__pycache__"}
    unplaced = sorted(t for t in tops if layer_of(f"agent.{t}") == -1)
    assert not unplaced, f"give these a layer in AGENT_LAYERS: {unplaced}"


def test_agent_layers_import_downward_only() -> None:
    found = upward_imports()
    assert not found, "an agent module imports a layer above its own:\n" + "\n".join(found)
