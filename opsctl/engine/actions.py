"""The action registry: dotted names -> functions with a typed ``with:`` model.

An action is ``fn(ctx, params) -> Outcome`` where ``params`` is an instance of
the action's pydantic model (``extra="forbid"``), so the keys a checklist may
write under ``with:`` are exactly the model's fields.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
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


# Packages whose every module registers a family of actions, imported by name on first lookup
# (like entry points): the engine sits below opsctl.actions and must not import it.
FAMILY_PACKAGES: tuple[str, ...] = ("opsctl.actions",)

_REGISTRY: dict[str, ActionSpec] = {}
_extra_modules: list[str] = []
_loaded = False


def action(
    name: str, params: type[P], *, mutating: bool = False, needs_env: bool = False
) -> Callable[[Callable[[RunContext, P], Outcome]], Callable[[RunContext, P], Outcome]]:
    """Register ``fn`` as the action ``name``; ``mutating`` actions are skipped in dry runs,
    ``needs_env`` ones cannot run without an environment."""

    def register(fn: Callable[[RunContext, P], Outcome]) -> Callable[[RunContext, P], Outcome]:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        _REGISTRY[name] = ActionSpec(name, fn, params, mutating, doc, needs_env)
        return fn

    return register


def extend(*names: str) -> None:
    """Add modules or packages (every module of a package) that register actions: plugins, tests.

    They load with the built-in families; once the registry is in use, at once.
    """
    _extra_modules.extend(n for n in names if n not in _extra_modules)
    if _loaded:
        for name in names:
            _import(name)


def family_modules(package_name: str) -> list[str]:
    """The modules of the package ``package_name``, sorted (listed, not imported)."""
    package = importlib.import_module(package_name)
    path = getattr(package, "__path__", None)
    if path is None:
        raise BadInput(f"action family package '{package_name}' is a module, not a package")
    return sorted(f"{package_name}.{m.name}" for m in pkgutil.iter_modules(path))


def _import(name: str) -> None:
    """Import the module ``name``, or every module of it when it is a package."""
    module = importlib.import_module(name)
    if hasattr(module, "__path__"):
        for member in family_modules(name):
            importlib.import_module(member)


def _load() -> None:
    """Import every module of :data:`FAMILY_PACKAGES` (each registers its family), then the extensions.

    Deferred so that `opsctl --help` never pays for them.
    """
    global _loaded
    if not _loaded:
        for name in (*FAMILY_PACKAGES, *_extra_modules):
            _import(name)
        _loaded = True


def get_action(name: str) -> ActionSpec:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BadInput(f"unknown action '{name}' (known: {', '.join(sorted(_REGISTRY))})") from None


def all_actions() -> dict[str, ActionSpec]:
    _load()
    return dict(sorted(_REGISTRY.items()))
