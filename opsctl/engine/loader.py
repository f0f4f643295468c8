"""Find and validate checklist and runbook files.

A project's own ``checklists/`` and ``runbooks/`` folders (beside its
opsctl.yaml) come first; a file there replaces the built-in of the same name.
All problems are reported as ``file:line: path: message`` before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from opsctl.engine.models import Checklist, Item, Runbook, Step
from opsctl.errors import BadInput, ConfigError
from opsctl.files.yamlsrc import YamlDoc, load_yaml_mapping, validation_error

Kind = Literal["checklists", "runbooks"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_EXAMPLE: dict[Kind, str] = {"checklists": "pre-deploy", "runbooks": "rollback"}
DEFAULT_ROLLBACK = "rollback"  # the runbook a failed step rolls back with when its runbook names none


def builtin_dir(kind: Kind) -> Path:
    """Built-ins ship as ``opsctl/builtin/<kind>`` in the wheel; in a checkout they sit at the top."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "builtin" / kind
    return packaged if packaged.is_dir() else package.parent / kind


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    origin: Literal["project", "built-in"]


def sources(kind: Kind, project_dir: Path | None) -> list[Source]:
    """Every available file of ``kind``, project files replacing built-ins of the same name."""
    found: dict[str, Source] = {}
    for path in sorted(builtin_dir(kind).glob("*.yaml")):
        found[path.stem] = Source(path.stem, path, "built-in")
    if project_dir is not None and (project_dir / kind).is_dir():
        for path in sorted((project_dir / kind).glob("*.yaml")):
            found[path.stem] = Source(path.stem, path, "project")
    return [found[name] for name in sorted(found)]


def find(kind: Kind, name: str, project_dir: Path | None) -> Source:
    singular = kind[:-1]
    if not _NAME.match(name):
        raise BadInput(f"'{name}' is not a {singular} name (use letters, digits and dashes, like pre-deploy)")
    available = sources(kind, project_dir)
    for source in available:
        if source.name == name:
            return source
    names = ", ".join(s.name for s in available) or "none"
    raise BadInput(f"no {singular} named '{name}' (available: {names})")


@dataclass(frozen=True)
class LoadedChecklist:
    name: str
    source: Source
    model: Checklist
    doc: YamlDoc

    def item_error(self, index: int, key: str | None, message: str) -> ConfigError:
        loc: tuple[str | int, ...] = ("items", index) if key is None else ("items", index, key)
        return self.doc.error(loc, message)


@dataclass(frozen=True)
class LoadedRunbook:
    name: str
    source: Source
    model: Runbook
    doc: YamlDoc
    digest: str  # sha256 of the file: `resume` refuses a runbook that changed


M = TypeVar("M", Checklist, Runbook)


def _parse(kind: Kind, name: str, project_dir: Path | None, model: type[M]) -> tuple[Source, YamlDoc, M]:
    source = find(kind, name, project_dir)
    doc = load_yaml_mapping(source.path, what=kind[:-1])
    try:
        return source, doc, model.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(doc, exc) from None


def load_checklist(name: str, project_dir: Path | None) -> LoadedChecklist:
    source, doc, model = _parse("checklists", name, project_dir, Checklist)
    _check_items(doc, model.items, "items")
    return LoadedChecklist(name, source, model, doc)


def load_runbook(name: str, project_dir: Path | None) -> LoadedRunbook:
    """Load ``name`` and everything it refers to: its checklists and the runbook it rolls back with.

    A bad reference found only when a failed deploy reaches for its rollback
    would leave the failed release running; here it is bad input before any change.
    """
    loaded = _load_runbook(name, project_dir)
    rollback = _rollback_reference(loaded.doc, loaded.model, project_dir)
    if rollback is not None and rollback != name:
        # Its own rollback reference is checked by name only: following it would allow loops.
        _load_runbook(rollback, project_dir)
    return loaded


def _load_runbook(name: str, project_dir: Path | None) -> LoadedRunbook:
    source, doc, model = _parse("runbooks", name, project_dir, Runbook)
    _check_steps(doc, model.steps, project_dir)
    _rollback_reference(doc, model, project_dir)
    # The digest of the bytes that were parsed: reading the file again could see another file (or block).
    return LoadedRunbook(name, source, model, doc, doc.digest)


def _rollback_reference(doc: YamlDoc, model: Runbook, project_dir: Path | None) -> str | None:
    """The runbook a failed step rolls back with (checked to exist), or None when no step can ask for one."""
    if model.rollback_runbook is not None:
        _check_reference(doc, ("rollback_runbook",), "runbooks", model.rollback_runbook, project_dir)
        return model.rollback_runbook
    asking = next((i for i, step in enumerate(model.steps) if step.on_failure == "rollback"), None)
    if asking is None:
        return None
    # Without rollback_runbook the runner uses `rollback` (opsctl.runs.rollback): it must exist too.
    _check_reference(doc, ("steps", asking, "on_failure"), "runbooks", DEFAULT_ROLLBACK, project_dir)
    return DEFAULT_ROLLBACK


def _check_reference(doc: YamlDoc, loc: tuple[str | int, ...], kind: Kind, name: str, project_dir: Path | None) -> None:
    """``name`` is a well-formed name of an existing ``kind`` file (project or built-in); else where it is written."""
    singular = kind[:-1]
    if not _NAME.fullmatch(name):
        shown = f"'{name}'" if name.isprintable() else repr(name)  # the message stays one line
        raise doc.error(
            loc, f"{shown} is not a {singular} name (use letters, digits and dashes, like {_EXAMPLE[kind]})"
        )
    known = [source.name for source in sources(kind, project_dir)]
    if name not in known:
        raise doc.error(loc, f"no {singular} '{name}' (known: {', '.join(known) or 'none'})")


def _check_items(doc: YamlDoc, items: list[Item], key: str) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in seen:
            raise doc.error((key, index, "id"), f"duplicate id '{item.id}' (also item {seen[item.id] + 1})")
        seen[item.id] = index
        _check_action(doc, (key, index), item.uses, item.with_)
        _check_templates(doc, (key, index), item.when, item.with_)
    for index, item in enumerate(items):
        for need in item.needs:
            if need not in seen:
                raise doc.error((key, index, "needs"), f"no item with id '{need}' in this checklist")
            if seen[need] >= index:
                raise doc.error((key, index, "needs"), f"'{need}' must come before '{item.id}'")


def _check_steps(doc: YamlDoc, steps: list[Step], project_dir: Path | None) -> None:
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step.id in seen:
            raise doc.error(("steps", index, "id"), f"duplicate id '{step.id}'")
        seen.add(step.id)
        if (step.checklist is None) == (step.uses is None):
            raise doc.error(("steps", index), "a step needs exactly one of 'checklist' or 'uses'")
        if step.checklist is not None:
            if step.with_:
                raise doc.error(("steps", index, "with"), "a checklist step takes no 'with'")
            _check_reference(doc, ("steps", index, "checklist"), "checklists", step.checklist, project_dir)
            load_checklist(step.checklist, project_dir)  # its own errors name its own file
        elif step.uses is not None:
            _check_action(doc, ("steps", index), step.uses, step.with_)
        _check_templates(doc, ("steps", index), step.when, step.with_)


def _check_action(doc: YamlDoc, loc: tuple[str | int, ...], uses: str, with_: dict[str, Any]) -> None:
    from opsctl.engine.actions import get_action

    try:
        spec = get_action(uses)
    except BadInput as exc:
        raise doc.error((*loc, "uses"), str(exc)) from None
    known = spec.known_keys()
    for key in with_:
        if key not in known:
            raise doc.error((*loc, "with", key), f"unknown key for {uses} (known: {', '.join(known) or 'none'})")
    for key in spec.required_keys():
        alias = spec.params.model_fields[key].alias or key
        if alias not in with_:
            raise doc.error((*loc, "with"), f"missing required key '{alias}' for {uses}")


def _check_templates(doc: YamlDoc, loc: tuple[str | int, ...], when: str | None, with_: dict[str, Any]) -> None:
    from opsctl.engine.templating import TemplateProblem, check_expression, check_syntax

    try:
        if when is not None:
            check_expression(when)
    except TemplateProblem as exc:
        raise doc.error((*loc, "when"), str(exc)) from None
    for key, value in with_.items():
        try:
            check_syntax(value)
        except TemplateProblem as exc:
            raise doc.error((*loc, "with", key), str(exc)) from None
