"""Pure helpers on ECS task definitions (plain dicts as DescribeTaskDefinition returns them).

Nothing here talks to AWS, so the rules about what a new revision may differ
in (only the configured container's image) are easy to read and to test.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from opsctl.errors import BadInput
from opsctl.platforms.base import Release
from opsctl.values.redact import MASK, Redactor

TaskDef = dict[str, Any]

# Keys DescribeTaskDefinition returns that RegisterTaskDefinition rejects. The
# driver also intersects with the operation's input shape (see
# `registrable`), which catches keys AWS adds later; this list documents the
# known ones and is the fallback when no shape is at hand.
READ_ONLY_KEYS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)


def td_id(arn_or_id: str) -> str:
    """``arn:...:task-definition/hvb:12`` -> ``hvb:12`` (an id stays as it is)."""
    return arn_or_id.rsplit("/", 1)[-1]


def td_revision(arn_or_id: str) -> int:
    """The revision number of a task definition ARN or ``family:revision`` id."""
    _, _, rev = td_id(arn_or_id).rpartition(":")
    return int(rev) if rev.isdigit() else 0


def td_family(arn_or_id: str) -> str:
    return td_id(arn_or_id).rpartition(":")[0]


def container_names(td: Mapping[str, Any]) -> list[str]:
    return [str(c.get("name", "?")) for c in td.get("containerDefinitions", [])]


def container_image(td: Mapping[str, Any], container: str) -> str:
    """The image of ``container`` in ``td``; BadInput naming the containers it has."""
    for definition in td.get("containerDefinitions", []):
        if definition.get("name") == container:
            return str(definition.get("image", ""))
    has = ", ".join(container_names(td)) or "none"
    raise BadInput(
        f"container '{container}' is not in task definition {td_id(td.get('taskDefinitionArn', '?'))} "
        f"(it has: {has}); set platform.container in opsctl.yaml"
    )


def release_of(td: Mapping[str, Any], container: str) -> Release:
    """The :class:`Release` for a described task definition."""
    arn = str(td.get("taskDefinitionArn", ""))
    registered = td.get("registeredAt")
    return Release(
        id=td_id(arn),
        image=container_image(td, container),
        created_at=registered if isinstance(registered, datetime) else None,
        detail={
            "arn": arn,
            "family": td.get("family"),
            "revision": td.get("revision"),
            "status": td.get("status"),
            "container": container,
        },
    )


def registrable(td: Mapping[str, Any], accepted: Iterable[str] | None = None) -> TaskDef:
    """The RegisterTaskDefinition arguments that reproduce ``td``.

    ``accepted`` is the set of input members of RegisterTaskDefinition (from
    the client's service model); keys outside it are dropped, so a field that
    AWS starts returning tomorrow cannot make registration fail.
    """
    allowed = set(accepted) if accepted is not None else None
    body: TaskDef = {}
    for key, value in td.items():
        if key in READ_ONLY_KEYS or value is None:
            continue
        if allowed is not None and key not in allowed:
            continue
        body[key] = copy.deepcopy(value)
    return body


def with_image(body: Mapping[str, Any], container: str, image: str) -> TaskDef:
    """A copy of ``body`` where only ``container``'s image is ``image``."""
    new = copy.deepcopy(dict(body))
    for definition in new.get("containerDefinitions", []):
        if definition.get("name") == container:
            definition["image"] = image
    return new


def masked(body: Mapping[str, Any]) -> TaskDef:
    """A copy safe to show: environment values and secret references become ``***``.

    Task definitions routinely carry credentials in plain ``environment``
    values; the diff and any message must never print them.
    """
    shown = copy.deepcopy(dict(body))
    for definition in shown.get("containerDefinitions", []):
        for pair in definition.get("environment", []) or []:
            if "value" in pair:
                pair["value"] = MASK
        for secret in definition.get("secrets", []) or []:
            if "valueFrom" in secret:
                secret["valueFrom"] = MASK
        if definition.get("repositoryCredentials"):
            definition["repositoryCredentials"] = {"credentialsParameter": MASK}
    return shown


def diff_lines(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    old_name: str,
    new_name: str,
    redactor: Redactor,
    *,
    context: int = 3,
) -> tuple[str, ...]:
    """Unified-diff lines between two task definition bodies, masked and redacted."""

    def render(body: Mapping[str, Any]) -> list[str]:
        return json.dumps(masked(body), indent=2, sort_keys=True, default=str).splitlines()

    lines = difflib.unified_diff(render(old), render(new), fromfile=old_name, tofile=new_name, n=context, lineterm="")
    return tuple(redactor.text(line) for line in lines)
