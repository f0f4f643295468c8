"""The action registry finds the built-in families by package *name* (the engine never imports opsctl.actions)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import opsctl.engine.actions as registry
from opsctl.errors import BadInput

FAMILY = '''
from pydantic import BaseModel

from opsctl.engine.actions import action
from opsctl.engine.outcome import Outcome


class Params(BaseModel):
    pass


@action("{name}", Params)
def run(ctx, params):
    """{doc}"""
    return Outcome.passed("ok")
'''


def write_package(root: Path, package: str, modules: dict[str, str]) -> None:
    folder = root / package
    folder.mkdir()
    (folder / "__init__.py").write_text('"""Test families."""\n')
    for module, name in modules.items():
        (folder / f"{module}.py").write_text(FAMILY.format(name=name, doc=f"The {name} action."))


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty registry that has not loaded yet; ``tmp_path`` is importable."""
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_extra_modules", [])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_families_are_found_by_package_name_on_first_lookup(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "c_families_one", {"alpha": "alpha.check", "beta": "beta.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("c_families_one",))
    assert registry.family_modules("c_families_one") == ["c_families_one.alpha", "c_families_one.beta"]
    assert registry._REGISTRY == {}  # listing imports nothing
    assert registry.get_action("beta.check").doc == "The beta.check action."
    assert list(registry.all_actions()) == ["alpha.check", "beta.check"]


def test_extensions_load_with_the_families_and_after_them(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "c_families_two", {"core": "core.check"})
    write_package(fresh_registry, "c_plugins_two", {"early": "early.check", "late": "late.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("c_families_two",))
    registry.extend("c_plugins_two.early")
    assert list(registry.all_actions()) == ["core.check", "early.check"]
    registry.extend("c_plugins_two.late")  # the registry is in use: loaded at once, not never
    assert registry.get_action("late.check").name == "late.check"


def test_a_whole_plugin_package_can_be_added(fresh_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(fresh_registry, "c_families_four", {"core": "core.check"})
    write_package(fresh_registry, "c_plugins_four", {"one": "one.check", "two": "two.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("c_families_four",))
    registry.extend("c_plugins_four")
    assert list(registry.all_actions()) == ["core.check", "one.check", "two.check"]


def test_an_unknown_action_names_the_known_ones(fresh_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(fresh_registry, "c_families_three", {"alpha": "alpha.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("c_families_three",))
    with pytest.raises(BadInput) as caught:
        registry.get_action("nope")
    assert str(caught.value) == "unknown action 'nope' (known: alpha.check)"


def test_a_family_package_must_be_a_package(fresh_registry: Path) -> None:
    (fresh_registry / "c_single_module.py").write_text('"""Not a package."""\n')
    with pytest.raises(BadInput) as caught:
        registry.family_modules("c_single_module")
    assert str(caught.value) == "action family package 'c_single_module' is a module, not a package"


def test_the_built_in_families_are_the_default_and_are_never_imported_by_the_engine() -> None:
    assert registry.FAMILY_PACKAGES == ("opsctl.actions",)
    assert "http.get" in registry.all_actions()
    tree = ast.parse(inspect.getsource(registry))
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith("opsctl.actions")]
