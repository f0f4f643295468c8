"""``when:`` and ``with:`` of checklist items and runbook steps: one path, the same messages for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.actions.http import HttpGetParams
from opsctl.engine.actions import get_action
from opsctl.engine.inputs import action_params, applies
from opsctl.errors import ConfigError
from opsctl.files.yamlsrc import YamlDoc, load_yaml_mapping

ENTRY = """\
  - id: probe
    uses: http.get
    when: "{{ nope.x }}"
    with:
      url: "{{ missing }}"
      status: "{{ code }}"
"""


def _doc(tmp_path: Path, key: str) -> YamlDoc:
    path = tmp_path / f"{key}.yaml"
    path.write_text(f"{key}:\n{ENTRY}")
    return load_yaml_mapping(path)


@pytest.mark.parametrize("key", ["items", "steps"])
def test_a_bad_when_names_its_line_and_key(tmp_path: Path, key: str) -> None:
    doc = _doc(tmp_path, key)
    with pytest.raises(ConfigError) as caught:
        applies(doc, (key, 0), "{{ nope.x }}", {})
    assert str(caught.value) == f"{doc.label}:4: {key} -> 0 -> when: template error: 'nope' is undefined"


def test_when_absent_applies_and_a_false_when_does_not(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "steps")
    assert applies(doc, ("steps", 0), None, {}) is True
    assert applies(doc, ("steps", 0), "env == 'production'", {"env": "staging"}) is False
    assert applies(doc, ("steps", 0), "{{ env == 'staging' }}", {"env": "staging"}) is True


@pytest.mark.parametrize("key", ["items", "steps"])
def test_a_with_template_that_fails_names_the_with_key(tmp_path: Path, key: str) -> None:
    doc = _doc(tmp_path, key)
    with pytest.raises(ConfigError) as caught:
        action_params(doc, (key, 0), get_action("http.get"), "http.get", with_={"url": "{{ missing }}"}, variables={})
    assert str(caught.value) == f"{doc.label}:5: {key} -> 0 -> with: template error: 'missing' is undefined"


@pytest.mark.parametrize("key", ["items", "steps"])
def test_a_rendered_value_the_action_refuses_names_the_field_and_the_action(tmp_path: Path, key: str) -> None:
    doc = _doc(tmp_path, key)
    with pytest.raises(ConfigError) as caught:
        action_params(
            doc,
            (key, 0),
            get_action("http.get"),
            "http.get",
            with_={"url": "http://127.0.0.1/", "status": "{{ code }}"},
            variables={"code": "abc"},
        )
    assert str(caught.value) == (
        f"{doc.label}:7: {key} -> 0 -> with -> status: "
        "input should be a valid integer, unable to parse string as an integer (for http.get)"
    )


def test_rendered_values_keep_their_type_and_validate_into_the_actions_model(tmp_path: Path) -> None:
    params = action_params(
        _doc(tmp_path, "items"),
        ("items", 0),
        get_action("http.get"),
        "http.get",
        with_={"url": "http://127.0.0.1/{{ path }}", "status": "{{ code }}"},
        variables={"code": 204, "path": "health"},
    )
    assert isinstance(params, HttpGetParams)
    assert (params.url, params.status) == ("http://127.0.0.1/health", 204)
