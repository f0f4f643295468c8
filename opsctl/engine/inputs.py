"""An item's or a step's ``when:`` and ``with:``, rendered for a run; a problem names the file, line and key.

Checklist items (``items -> 3``) and runbook steps (``steps -> 2``) share
this one path, so both report a bad template or a bad ``with:`` value alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from opsctl.engine.actions import ActionSpec
from opsctl.engine.templating import TemplateProblem, evaluate, render
from opsctl.files.yamlsrc import Loc, YamlDoc, describe_error


def applies(doc: YamlDoc, loc: Loc, when: str | None, variables: dict[str, Any]) -> bool:
    """Whether the entry at ``loc`` runs: no ``when``, or it is true."""
    try:
        return when is None or evaluate(when, variables)
    except TemplateProblem as exc:
        raise doc.error((*loc, "when"), str(exc)) from None


def action_params(
    doc: YamlDoc, loc: Loc, spec: ActionSpec, uses: str, *, with_: dict[str, Any], variables: dict[str, Any]
) -> Any:
    """``with_`` rendered against ``variables`` and validated as ``spec``'s parameters (the action's with-model)."""
    try:
        rendered = render(with_, variables)
    except TemplateProblem as exc:
        raise doc.error((*loc, "with"), str(exc)) from None
    try:
        return spec.params.model_validate(rendered)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise doc.error((*loc, "with", *err["loc"]), f"{describe_error(err)} (for {uses})") from None
