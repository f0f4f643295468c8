"""Strategic merge patch and JSON merge patch (RFC 7386), as the API server applies them to apps/v1 objects.

Only what Deployments need: lists of named things (containers, env, volumes...)
merge by their patch merge key, other lists are replaced, ``null`` deletes.
"""

from __future__ import annotations

import copy
from typing import Any

# The patchMergeKey of the list fields of a pod template (k8s.io/api core/v1 types).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, everything else (lists too) is replaced, null deletes."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, key: str | None = None) -> Any:
    """A strategic merge patch: like :func:`merge_patch`, but lists with a merge key merge item by item."""
    if isinstance(patch, list) and key in MERGE_KEYS and isinstance(target, list):
        merge_key = MERGE_KEYS[str(key)]
        result = [copy.deepcopy(item) for item in target]
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                raise ValueError(f"{key}: every item needs its merge key {merge_key!r}")
            for index, existing in enumerate(result):
                if existing.get(merge_key) == item[merge_key]:
                    result[index] = strategic_merge_patch(existing, item)
                    break
            else:
                result.append(copy.deepcopy(item))
        return result
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = strategic_merge_patch(result.get(name), value, name)
    return result


def json_patch(target: Any, operations: list[dict[str, Any]]) -> Any:
    """RFC 6902, ``replace``/``add`` on object paths only (enough for tests that use it)."""
    result = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).lstrip("/").split("/")]
        node = result
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if op["op"] in ("replace", "add"):
            if isinstance(node, list):
                node[int(last)] = op["value"]
            else:
                node[last] = op["value"]
        elif op["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        else:
            raise ValueError(f"unsupported JSON patch op {op['op']}")
    return result
