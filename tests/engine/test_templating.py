"""``with:`` templates and ``when:`` expressions: sandboxed Jinja2 with StrictUndefined."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.engine.templating import TemplateProblem, check_syntax, evaluate, render
from opsctl.engine.variables import template_context
from tests.support.context import make_ctx

CONTEXT = {"env": {"name": "staging", "vars": {"replicas": 3}}, "params": {"image": "hvb:1.8.0"}, "items": [1, 2]}


def test_a_lone_expression_keeps_its_type() -> None:
    assert render("{{ env.vars.replicas }}", CONTEXT) == 3
    assert render("{{ items }}", CONTEXT) == [1, 2]
    assert render("image={{ params.image }}", CONTEXT) == "image=hvb:1.8.0"
    assert render({"a": ["{{ env.name }}", 5, None]}, CONTEXT) == {"a": ["staging", 5, None]}
    assert render("no template here", CONTEXT) == "no template here"


def test_when_expressions_with_or_without_braces() -> None:
    assert evaluate("env.name == 'staging'", CONTEXT) is True
    assert evaluate("{{ env.vars.replicas > 5 }}", CONTEXT) is False


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ relase }}", "template error: 'relase' is undefined"),
        ("x {{ params.tag }}", "template error: 'dict object' has no attribute 'tag'"),
        (
            "{{ ''.__class__.__mro__ }}",
            "template refused by the sandbox: access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "{{ env.update({'name': 'production'}) }}",
            "template refused by the sandbox: access to attribute 'update' of 'dict' object is unsafe.",
        ),
        (
            "{{ items.append(3) }}",
            "template refused by the sandbox: access to attribute 'append' of 'list' object is unsafe.",
        ),
    ],
)
def test_render_problems(template: str, message: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        render(template, CONTEXT)
    assert str(caught.value) == message


def test_the_context_cannot_be_changed_by_a_template() -> None:
    with pytest.raises(TemplateProblem):
        render("{{ items.append(3) }}", CONTEXT)
    assert CONTEXT["items"] == [1, 2]


def test_when_problems() -> None:
    with pytest.raises(TemplateProblem) as caught:
        evaluate("nope == 1", CONTEXT)
    assert str(caught.value) == "template error: 'nope' is undefined"
    with pytest.raises(TemplateProblem) as caught:
        evaluate("''.__class__", CONTEXT)
    assert str(caught.value).startswith("template refused by the sandbox: ")


def test_syntax_is_checked_without_rendering() -> None:
    check_syntax({"argv": ["echo", "{{ undefined_is_fine_here }}"]})
    with pytest.raises(TemplateProblem) as caught:
        check_syntax({"argv": ["echo", "{% if %}"]})
    assert str(caught.value).startswith("template syntax error: ")


def test_run_context_names(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, params={"image": "hvb:1.8.0"})
    names = template_context(ctx)
    assert set(names) >= {"env", "params", "release", "previous", "run", "git", "service", "slo"}
    assert render("{{ env.name }}/{{ env.platform.cluster }}/{{ service }}", names) == (
        "staging/hvb-staging/hotel-voice-bot"
    )
    assert render("{{ run.actor }}", names) == "tester@example.com"
    assert render("{{ slo.p95_ms }}", names) == 2000
    with pytest.raises(TemplateProblem) as caught:
        render("{{ git._path }}", names)
    assert str(caught.value) == (
        "template refused by the sandbox: access to attribute '_path' of 'LazyGit' object is unsafe."
    )
