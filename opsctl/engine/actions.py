"""The action registry: dotted names -> functions with a typed ``with:`` model.

An action is ``fn(ctx, params) -> Outcome`` where ``params`` is an instance of
the action's pydantic model (``extra="forbid"``), so the keys a checklist may
write under ``with:`` are exactly the model's fields.

Families load on first use: a lookup imports the one module that declares
the action (found by reading the family modules' source), so a run imports
only the families its steps use; :func:`all_actions` still imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from pydantic import BaseModel

    from opsctl.engine.context import RunContext
    from opsctl.engine.outcome import Outcome

P = TypeVar("P", bound="BaseModel")
ActionFn = Callable[["RunContext", Any], "Outcome"]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    fn: ActionFn
    params: type[BaseModel]
    mutating: bool
    doc: str
    # Reads the run's environment (its config, platform or health endpoints): a checklist that
    # uses it cannot run without --env, which the executor says before anything runs.
    needs_env: bool = False

    def required_keys(self) -> list[str]:
        return [n for n, f in self.params.model_fields.items() if f.is_required()]

    def known_keys(self) -> list[str]:
        return [f.alias or n for n, f in self.params.model_fields.items()]


# Packages whose every module registers a family of actions, imported by name (like entry points):
# the engine sits below opsctl.actions and must not import it.
FAMILY_PACKAGES: tuple[str, ...] = ("opsctl.actions",)

# How a family module registers an action: the decorator with the name written out. Read from the
# source (a regex, not an import and not ast: a whole-package scan costs about a millisecond), so that
# a lookup imports only the one module that defines the action and what that module needs (a deploy
# of plain checklists then never imports httpx, GitPython or the health stack).
_DECLARED = re.compile(r"""^[ \t]*@action\(\s*(?P<q>["'])(?P<name>[^"'\\\n]+)(?P=q)""", re.M)

_REGISTRY: dict[str, ActionSpec] = {}
_extra_modules: list[str] = []
_loaded = False  # every family and extension imported (all_actions, an unknown name, extensions)
_lookup = threading.RLock()  # checklist items look actions up from worker threads


def action(
    name: str, params: type[P], *, mutating: bool = False, needs_env: bool = False
) -> Callable[[Callable[[RunContext, P], Outcome]], Callable[[RunContext, P], Outcome]]:
    """Register ``fn`` as the action ``name``; ``mutating`` actions are skipped in dry runs,
    ``needs_env`` ones cannot run without an environment."""

    def register(fn: Callable[[RunContext, P], Outcome]) -> Callable[[RunContext, P], Outcome]:
        known = _REGISTRY.get(name)
        if known is not None and _from_extension(known.fn) and not _from_extension(fn):
            return fn  # a plugin replaced this built-in; a family imported later does not take it back
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _REGISTRY[name] = ActionSpec(name, fn, params, mutating, doc, needs_env)
        return fn

    return register


def extend(*names: str) -> None:
    """Add modules or packages (every module of a package) that register actions: plugins, tests.

    They load with the built-in families and may replace a built-in action; once the registry is
    in use, at once.
    """
    _extra_modules.extend(n for n in names if n not in _extra_modules)
    if _loaded or _REGISTRY:
        for name in names:
            _import(name)


def _from_extension(fn: Callable[..., Any]) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return any(module == name or module.startswith(f"{name}.") for name in _extra_modules)


def family_modules(package_name: str) -> list[str]:
    """The modules of the package ``package_name``, sorted (listed, not imported)."""
    package = importlib.import_module(package_name)
    path = getattr(package, "__path__", None)
    if path is None:
        raise BadInput(f"action family package '{package_name}' is a module, not a package")
    return sorted(f"{package_name}.{m.name}" for m in pkgutil.iter_modules(path))


def declared_actions(packages: tuple[str, ...] | None = None) -> dict[str, str]:
    """Action name -> the family module that declares it, read from the modules' source (nothing imported).

    A name declared twice maps to the module that a full load imports last, as the registry would.
    A module whose source cannot be read (a wheel without sources) simply declares nothing here:
    looking up one of its actions falls back to importing every family.
    """
    return dict(_declared(FAMILY_PACKAGES if packages is None else packages))


@lru_cache(maxsize=8)
def _declared(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for package in packages:
        path = getattr(importlib.import_module(package), "__path__", None) or []
        for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
            source = _source(path, info.name)
            for match in _DECLARED.finditer(source):
                found[match["name"]] = f"{package}.{info.name}"
    return tuple(found.items())


def _source(path: Iterable[str], module: str) -> str:
    for folder in path:
        try:
            return (Path(folder) / f"{module}.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return ""


def _import(name: str) -> None:
    """Import the module ``name``, or every module of it when it is a package."""
    module = importlib.import_module(name)
    if hasattr(module, "__path__"):
        for member in family_modules(name):
            importlib.import_module(member)


def _load() -> None:
    """Import every module of :data:`FAMILY_PACKAGES` (each registers its family), then the extensions."""
    global _loaded
    with _lookup:
        if not _loaded:
            for name in (*FAMILY_PACKAGES, *_extra_modules):
                _import(name)
            _loaded = True


def _find(name: str) -> ActionSpec | None:
    """``name``'s spec, importing only the family module that declares it when that is enough."""
    with _lookup:
        spec = _REGISTRY.get(name)
        if spec is not None or _loaded:
            return spec
        module = None if _extra_modules else declared_actions().get(name)
        if module is not None:  # extensions may replace built-ins: with any, everything loads in order
            importlib.import_module(module)
            spec = _REGISTRY.get(name)
        if spec is None:  # not declared where the scan looks (or replaced): load everything, as before
            _load()
            spec = _REGISTRY.get(name)
        return spec


def get_action(name: str) -> ActionSpec:
    """The action ``name``; imports its family module on first use (BadInput naming the known ones)."""
    spec = _find(name)
    if spec is None:
        _load()
        raise BadInput(f"unknown action '{name}' (known: {', '.join(sorted(_REGISTRY))})") from None
    return spec


def all_actions() -> dict[str, ActionSpec]:
    """Every action of every family and extension, by name (imports all of them)."""
    _load()
    return dict(sorted(_REGISTRY.items()))
