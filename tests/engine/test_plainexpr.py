"""Plain ``when:`` expressions are answered without Jinja2, exactly as the sandbox would answer them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

from opsctl.engine.plainexpr import evaluate_plain, is_plain
from opsctl.engine.templating import TemplateProblem, check_expression, evaluate

REPO = Path(__file__).resolve().parents[2]


class Git(BaseModel):
    tag_pattern: str | None = None


class Env(BaseModel):
    protected: bool = False
    git: Git = Git()


class Secretive:
    _private = "hidden"


class Lazy(Mapping[str, Any]):
    """Like LazyGit: a mapping read by key, not by attribute."""

    def __getitem__(self, key: str) -> Any:
        return {"branch": "main", "dirty": False}[key]

    def __iter__(self) -> Iterator[str]:
        return iter(("branch", "dirty"))

    def __len__(self) -> int:
        return 2


CONTEXT: dict[str, Any] = {
    "env": {"name": "staging", "migrate": None, "protected": True, "git": {"tag_pattern": "v*"}, "empty": {}},
    "run": {"dry_run": False, "id": "r1"},
    "github": None,
    "scan": {"max_critical": 0},
    "model": Env(protected=True, git=Git(tag_pattern="")),
    "git": Lazy(),
    "items": [],
    "count": 0,
}

PLAIN = [
    "env.migrate",
    "not env.migrate",
    "not run.dry_run",
    "run.dry_run",
    "env.protected",
    "env.git.tag_pattern",
    "github is none",
    "github is not none",
    "scan is none",
    "scan is not none",
    "not scan is none",
    "  {{ env.protected }}  ",
    "{{ not run.dry_run }}",
    "model.protected",
    "model.git.tag_pattern",
    "model.git.tag_pattern is none",
    "git.branch",
    "git.dirty",
    "env.empty",
    "items",
    "count",
    "env.migrate is none",
]


def _jinja(expression: str) -> bool:
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    text = expression.strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2]
    return bool(environment.compile_expression(text, undefined_to_none=False)(**CONTEXT))


@pytest.mark.parametrize("expression", PLAIN)
def test_plain_forms_give_the_sandbox_s_answer(expression: str) -> None:
    text = expression.strip()
    text = text[2:-2] if text.startswith("{{") else text
    assert is_plain(text)
    assert evaluate_plain(text, CONTEXT) is _jinja(expression)
    assert evaluate(expression, CONTEXT) is _jinja(expression)
    check_expression(expression)  # valid, and said so without Jinja2


@pytest.mark.parametrize(
    "expression",
    [
        "env.name == 'staging'",  # anything beyond the plain forms
        "env.protected and not run.dry_run",
        "env['protected']",
        "env.items",  # a method: Jinja2 decides what it means
        "env._private",
        "_hidden",
        "range",  # a Jinja2 global, not a context name
        "nope",  # undefined: Jinja2 raises its own error
        "env.nope",
        "none",  # keywords are not names
        "not not env.protected",
        "github is None",  # there is no test named None: Jinja2 says so
        "env . protected",
    ],
)
def test_everything_else_is_left_to_jinja(expression: str) -> None:
    assert evaluate_plain(expression, CONTEXT) is None


def test_errors_are_still_jinja_s_own() -> None:
    with pytest.raises(TemplateProblem) as caught:
        evaluate("env.nope", CONTEXT)
    assert str(caught.value) == "template error: 'dict object' has no attribute 'nope'"
    with pytest.raises(TemplateProblem) as undefined:
        evaluate("nope", CONTEXT)
    assert str(undefined.value) == "template error: 'nope' is undefined"
    with pytest.raises(TemplateProblem) as unsafe:
        evaluate("env._private", {"env": Secretive()})
    assert (
        str(unsafe.value)
        == "template refused by the sandbox: access to attribute '_private' of 'Secretive' object is unsafe."
    )
    with pytest.raises(TemplateProblem) as no_test:
        check_expression("github is None")
    assert str(no_test.value) == "template syntax error: No test named 'None'."


def test_a_lookup_that_raises_is_left_to_jinja() -> None:
    class Exploding(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("boom")

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    assert evaluate_plain("x.y", {"x": Exploding()}) is None
    with pytest.raises(TemplateProblem) as caught:
        evaluate("x.y", {"x": Exploding()})
    assert str(caught.value) == "template error: RuntimeError: boom"


def test_plain_when_expressions_do_not_import_jinja() -> None:
    code = (
        "import sys\n"
        "from opsctl.engine.templating import check_expression, evaluate\n"
        "check_expression('not run.dry_run'); check_expression('github is not none')\n"
        "assert evaluate('not run.dry_run', {'run': {'dry_run': False}}) is True\n"
        "print('jinja2' in sys.modules)\n"
        "evaluate('run.dry_run == False', {'run': {'dry_run': False}})\n"
        "print('jinja2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
