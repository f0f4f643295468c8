"""The package's structure, drawn from its own imports, matches docs/architecture.md.

The layer table is read from the doc, so the doc and the code cannot drift:
a lower layer importing a higher one, an import cycle, or a loose top-level
module fails here, naming the offending import.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "opsctl"
DOC = REPO / "docs" / "architecture.md"
TOP_LEVEL_ALLOWED = {"__init__", "__main__", "errors", "workspace"}


def layers() -> dict[str, int]:
    """{top-level package or module: rank}, rank 0 = the top layer, from the doc's fenced table."""
    text = DOC.read_text()
    block = re.search(r"<!-- layers:.*?-->\s*```text\n(.*?)```", text, re.DOTALL)
    assert block, "docs/architecture.md lost its layer table"
    ranks: dict[str, int] = {}
    for rank, line in enumerate(line for line in block.group(1).splitlines() if line.strip()):
        _, _, packages = line.partition(":")
        for name in packages.split():
            ranks[name] = rank
    return ranks


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(importer: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(importer: str, path: Path) -> set[tuple[str, int]]:
    """(opsctl module, line) for every import statement, lazy and TYPE_CHECKING ones included."""
    known = modules()
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(importer, path, node)
            # `from opsctl.x import y` imports the module opsctl.x.y when y is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for name in targets:
            target = name
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("opsctl.") and target != importer:
                found.add((target, node.lineno))
    return found


def top(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def graph() -> dict[str, set[tuple[str, int]]]:
    return {name: imported_modules(name, path) for name, path in modules().items()}


def test_every_top_level_package_has_a_layer() -> None:
    ranks = layers()
    missing = sorted({top(m) for m in modules() if m != "opsctl"} - set(ranks))
    assert not missing, f"add these to the layer table in docs/architecture.md: {missing}"
    stale = sorted(set(ranks) - {top(m) for m in modules()})
    assert not stale, f"docs/architecture.md names packages that do not exist: {stale}"


def test_no_loose_top_level_modules() -> None:
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in TOP_LEVEL_ALLOWED)
    assert not loose, f"put these modules in a package that names their subsystem: {loose}"


def test_imports_point_down() -> None:
    ranks = layers()
    upward = [
        f"{modules()[importer].relative_to(REPO)}:{line} imports {target} ({top(importer)} is below {top(target)})"
        for importer, targets in graph().items()
        if importer != "opsctl"
        for target, line in sorted(targets)
        if ranks[top(target)] < ranks[top(importer)]
    ]
    assert not upward, "lower layers import higher ones:\n" + "\n".join(sorted(upward))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, targets in graph().items():
        for target, _ in targets:
            if not (importer != "opsctl" and target.startswith(importer + ".")):
                edges[importer].add(target)
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_the_import_reader_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from opsctl.cli.app import app\n"
        "def f():\n    from opsctl.runs import run\n"
        "from . import errors\n"
    )
    probe = PACKAGE / "values" / "imageref.py"
    tree_targets = {t for t, _ in imported_modules("opsctl.values.imageref", probe)}
    assert "opsctl.errors" in tree_targets
    fake = tmp_path / "mod.py"
    fake.write_text(source)
    targets = {t for t, _ in imported_modules("opsctl.mod", fake)}
    assert {"opsctl.cli.app", "opsctl.runs.run", "opsctl.errors"} <= targets
