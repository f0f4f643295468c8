"""Action families load on first use: a lookup imports only the module that declares the action."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import opsctl.engine.actions as registry
from opsctl.errors import BadInput
from tests.engine import test_actions
from tests.engine.test_actions import FAMILY, write_package

fresh_registry = test_actions.fresh_registry

REPO = Path(__file__).resolve().parents[2]
NAMED_BY_A_VARIABLE = '''
from pydantic import BaseModel

from opsctl.engine.actions import action
from opsctl.engine.outcome import Outcome

NAME = "hidden.check"


class Params(BaseModel):
    pass


@action(NAME, Params)
def run(ctx, params):
    """Registered under a name the source scan cannot read."""
    return Outcome.passed("ok")
'''


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


def test_every_built_in_action_is_declared_by_the_module_that_registers_it() -> None:
    declared = registry.declared_actions()
    loaded = registry.all_actions()
    assert sorted(declared) == sorted(loaded)
    # The decorator runs where the function is defined: importing that module alone registers the action.
    assert {name: spec.fn.__module__ for name, spec in loaded.items()} == declared


def test_a_lookup_in_a_fresh_process_imports_only_the_declaring_family() -> None:
    done = _python(
        "import sys\n"
        "from opsctl.engine.actions import get_action\n"
        "assert get_action('manual').name == 'manual'\n"
        "assert get_action('git.clean').name == 'git.clean'\n"
        "families = sorted(m for m in sys.modules if m.startswith('opsctl.actions.'))\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'git', 'jinja2', 'boto3', 'rich'})\n"
        "print(','.join(families)); print(','.join(heavy))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["opsctl.actions.git,opsctl.actions.manual", ""]


def test_every_built_in_action_is_found_lazily_in_a_fresh_process() -> None:
    # One process per family would be slow; one process looks each name up before any full load.
    done = _python(
        "import opsctl.engine.actions as r\n"
        "names = sorted(r.declared_actions())\n"
        "found = [r.get_action(n).name for n in names]\n"
        "assert found == names, (found, names)\n"
        "print(r._loaded, len(names))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "False"  # every lookup was answered without importing all families
    assert int(done.stdout.split()[1]) >= 39


def test_lazy_lookup_imports_one_module_of_a_family_package(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "l_families_one", {"alpha": "alpha.check", "beta": "beta.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_one",))
    assert registry.declared_actions() == {"alpha.check": "l_families_one.alpha", "beta.check": "l_families_one.beta"}
    assert registry.get_action("beta.check").doc == "The beta.check action."
    assert "l_families_one.beta" in sys.modules
    assert "l_families_one.alpha" not in sys.modules
    assert registry._loaded is False
    assert list(registry.all_actions()) == ["alpha.check", "beta.check"]  # still complete for docs and `show`
    assert "l_families_one.alpha" in sys.modules


def test_an_action_the_scan_cannot_read_is_found_by_loading_every_family(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "l_families_two", {"alpha": "alpha.check"})
    (fresh_registry / "l_families_two" / "hidden.py").write_text(NAMED_BY_A_VARIABLE)
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_two",))
    assert "hidden.check" not in registry.declared_actions()
    assert registry.get_action("hidden.check").doc == "Registered under a name the source scan cannot read."
    assert registry._loaded is True


def test_an_unknown_action_still_names_every_known_one(fresh_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(fresh_registry, "l_families_three", {"alpha": "alpha.check", "beta": "beta.check"})
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_three",))
    assert registry.get_action("alpha.check").name == "alpha.check"
    with pytest.raises(BadInput) as caught:
        registry.get_action("nope")
    assert str(caught.value) == "unknown action 'nope' (known: alpha.check, beta.check)"


def test_an_extension_still_replaces_a_built_in_action(fresh_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(fresh_registry, "l_families_four", {"core": "core.check"})
    folder = fresh_registry / "l_plugins_four"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""Plugins."""\n')
    (folder / "override.py").write_text(FAMILY.format(name="core.check", doc="The plugin's core.check."))
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_four",))
    registry.extend("l_plugins_four.override")
    assert registry.get_action("core.check").doc == "The plugin's core.check."


def test_a_family_module_the_scan_cannot_decode_is_still_found(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "l_families_five", {"alpha": "alpha.check"})
    source = fresh_registry / "l_families_five" / "alpha.py"
    source.write_bytes(b"# \xff not utf-8\n" + source.read_bytes())  # Python imports it; the scan reads nothing
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_five",))
    assert registry.declared_actions() == {}
    assert registry.get_action("alpha.check").doc == "The alpha.check action."
    assert registry._loaded is True


def test_concurrent_first_lookups_all_get_their_action(fresh_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {f"m{i}": f"c{i}.check" for i in range(8)}
    write_package(fresh_registry, "l_families_six", names)
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_six",))
    found: list[str] = []
    errors: list[BaseException] = []

    def look(name: str) -> None:
        try:
            found.append(registry.get_action(name).name)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=look, args=(n,)) for n in list(names.values()) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(found) == sorted(list(names.values()) * 3)


def test_an_extension_added_after_a_lookup_keeps_its_replacement(
    fresh_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_package(fresh_registry, "l_families_seven", {"core": "core.check", "other": "other.check"})
    (fresh_registry / "l_families_seven" / "core.py").write_text(
        FAMILY.format(name="core.check", doc="The core.check action.")
        + FAMILY.format(name="core.second", doc="The core.second action.").replace("def run(", "def run_second(")
    )
    folder = fresh_registry / "l_plugins_seven"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""Plugins."""\n')
    (folder / "override.py").write_text(FAMILY.format(name="core.check", doc="The plugin's core.check."))
    monkeypatch.setattr(registry, "FAMILY_PACKAGES", ("l_families_seven",))
    assert registry.get_action("other.check").name == "other.check"  # the registry is in use, partly loaded
    registry.extend("l_plugins_seven.override")
    assert registry.get_action("core.check").doc == "The plugin's core.check."
    assert registry.get_action("core.second").doc == "The core.second action."  # imports core.py: no take-back
    assert registry.get_action("core.check").doc == "The plugin's core.check."
    assert registry.all_actions()["core.check"].doc == "The plugin's core.check."
