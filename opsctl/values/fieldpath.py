"""Dotted field paths into parsed JSON: ``dependencies.database.status``, ``items.0.id``.

``with: json`` of ``http.get``, the health probes and the synthetic request
all name fields this way; one reader keeps their answers (and messages) alike.
"""

from __future__ import annotations

from typing import Any, Final

MISSING: Final = object()
"""What :func:`field_at` returns for a path that is not there (``None`` is a JSON value)."""


def field_at(data: Any, path: str) -> Any:
    """The value at ``path`` inside ``data``, or :data:`MISSING`.

    A part that is an integer indexes a list (negative counts from the end).
    """
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def compare_fields(body: Any, expected: dict[str, Any]) -> str | None:
    """The first mismatch as a sentence, or None when all fields match."""
    for path, want in expected.items():
        got = field_at(body, path)
        if got is MISSING:
            return f"field {path} is missing from the response"
        if got != want:
            return f"field {path}: expected {want!r}, got {got!r}"
    return None
