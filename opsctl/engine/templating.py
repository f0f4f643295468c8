"""Sandboxed Jinja2 for ``with:`` values and ``when:`` expressions.

Templates come from checklist files that anyone in the team can edit, so they
run in Jinja2's immutable sandbox with StrictUndefined: a typo is an error,
not an empty string, and ``{{ ''.__class__ }}`` is refused.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from opsctl.engine.plainexpr import evaluate_plain, is_plain

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

_SINGLE_EXPR = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.S)


class TemplateProblem(Exception):
    """A template that cannot be rendered; the message is one line for the user."""


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _problem(exc: Exception) -> TemplateProblem:
    from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

    if isinstance(exc, SecurityError):
        return TemplateProblem(f"template refused by the sandbox: {exc}")
    if isinstance(exc, UndefinedError):
        return TemplateProblem(f"template error: {exc}")
    if isinstance(exc, TemplateSyntaxError):
        return TemplateProblem(f"template syntax error: {exc.message}")
    return TemplateProblem(f"template error: {type(exc).__name__}: {exc}")


def _defined(value: Any) -> Any:
    """Raise for an undefined result: StrictUndefined only fails when used, and we return it."""
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def check_syntax(value: Any) -> None:
    """Parse every template inside ``value`` (load time), raising TemplateProblem."""
    if isinstance(value, str):
        if _is_template(value):
            try:
                _environment().parse(value)
            except Exception as exc:
                raise _problem(exc) from None
    elif isinstance(value, dict):
        for item in value.values():
            check_syntax(item)
    elif isinstance(value, list):
        for item in value:
            check_syntax(item)


def render(value: Any, context: dict[str, Any]) -> Any:
    """Render strings anywhere in ``value``. ``"{{ x }}"`` alone keeps x's type (int, list...)."""
    if isinstance(value, str):
        if not _is_template(value):
            return value
        try:
            single = _SINGLE_EXPR.match(value)
            if single:
                return _defined(_environment().compile_expression(single["expr"], undefined_to_none=False)(**context))
            return _environment().from_string(value).render(**context)
        except Exception as exc:
            raise _problem(exc) from None
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """A ``when:`` expression (with or without ``{{ }}``) as a boolean."""
    text = expression.strip()
    single = _SINGLE_EXPR.match(text)
    if single:
        text = single["expr"]
    plain = evaluate_plain(text, context)  # the common forms, without importing Jinja2
    if plain is not None:
        return plain
    try:
        return bool(_defined(_environment().compile_expression(text, undefined_to_none=False)(**context)))
    except Exception as exc:
        raise _problem(exc) from None


def check_expression(expression: str) -> None:
    text = expression.strip()
    single = _SINGLE_EXPR.match(text)
    if is_plain(single["expr"] if single else text):
        return
    try:
        _environment().compile_expression(single["expr"] if single else text)
    except Exception as exc:
        raise _problem(exc) from None
