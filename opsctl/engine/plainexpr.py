"""``when:`` expressions plain enough to answer without Jinja2.

Importing Jinja2 and compiling an expression is a noticeable part of a short
run, yet the built-in runbooks and checklists only ever write a dotted name
(``env.migrate``), its negation (``not run.dry_run``) or a ``none`` test
(``github is not none``). For exactly those forms this module gives the
answer the immutable sandbox with StrictUndefined would give. It answers
``None`` ("ask Jinja2") whenever Jinja2 would say more than a value or the
form is anything else: an unknown name, a missing key, an attribute starting
with ``_``, a callable or interpreter internals on the way, a keyword used as
a name. Jinja2 then produces its own answer or its own error, unchanged.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_PLAIN = re.compile(
    rf"^\s*(?P<negated>not\s+)?(?P<path>{_NAME}(?:\.{_NAME})*)(?P<test>\s+is\s+(?P<is_not>not\s+)?none)?\s*$"
)
# Words the Jinja2 parser reads as operators or constants, not as names.
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None"})
# Objects whose attributes the sandbox guards (see jinja2.sandbox.is_internal_attribute).
_INTERNALS = (
    types.CodeType,
    types.TracebackType,
    types.FrameType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
)
_MISSING = object()


def _path(expression: str) -> tuple[list[str], bool, bool | None] | None:
    """``(names, negated, none_test)`` of a plain expression, or None; ``none_test``: True for ``is none``."""
    found = _PLAIN.match(expression)
    if found is None:
        return None
    names = found["path"].split(".")
    if any(name in _KEYWORDS for name in names):
        return None
    none_test = None if found["test"] is None else not found["is_not"]
    return names, bool(found["negated"]), none_test


def is_plain(expression: str) -> bool:
    """Whether ``expression`` is one of the plain forms (then it is also valid Jinja2 syntax)."""
    return _path(expression) is not None


def _attribute(obj: Any, name: str) -> Any:
    """``obj.name`` as Jinja2's sandbox looks it up (attribute first, then item), or _MISSING."""
    try:
        return getattr(obj, name)
    except AttributeError:
        try:
            return obj[name]
        except (TypeError, LookupError):
            return _MISSING


def _plain_value(value: Any) -> bool:
    return value is not _MISSING and not callable(value) and not isinstance(value, _INTERNALS)


def evaluate_plain(expression: str, context: Mapping[str, Any]) -> bool | None:
    """The truth of a plain ``expression`` in ``context``, or None when Jinja2 must answer."""
    parsed = _path(expression)
    if parsed is None:
        return None
    names, negated, none_test = parsed
    value = context.get(names[0], _MISSING)
    try:
        for name in names[1:]:
            if not _plain_value(value):
                return None
            value = _attribute(value, name)
        if not _plain_value(value):
            return None
        result = bool(value) if none_test is None else (value is None) is none_test
    except Exception:  # whatever a lookup raised, Jinja2 reports it in its own words
        return None
    return not result if negated else result
