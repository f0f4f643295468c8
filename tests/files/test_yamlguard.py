"""Hostile YAML structure is refused before anything walks it; ordinary anchors and merge keys still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.errors import ConfigError
from opsctl.files.yamlguard import MAX_ALIAS_NODES, MAX_DEPTH
from opsctl.files.yamlsrc import load_yaml_mapping

CORPUS = Path(__file__).parent / "corpus"


def refusal(text: str) -> str:
    Path("f.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_yaml_mapping(Path("f.yaml"))
    return str(caught.value)


def laughs(levels: int, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(10)
def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_budget() -> None:
    assert refusal(laughs(9)) == (
        "f.yaml:5: l4 -> 0: aliases expand to more than 10,000 values (a YAML bomb?); write the values out"
    )


def test_the_corpus_bomb_is_the_documented_one() -> None:
    text = (CORPUS / "billion-laughs.yaml").read_text()
    assert text.count("*l") == 81  # 9 levels of 9 aliases


def test_aliases_within_the_budget_are_fine() -> None:
    # 9 + 81 + 729 strings (plus their lists) through aliases: well under the budget of 10,000.
    Path("f.yaml").write_text(laughs(3))
    doc = load_yaml_mapping(Path("f.yaml"))
    assert len(doc.data["l3"]) == 9
    assert doc.data["l3"][0][0][0] == ["lol"] * 9


def test_the_budget_counts_values_reached_through_aliases() -> None:
    base = "base: &b [" + ", ".join(["x"] * 99) + "]\n"  # the list and its 99 strings: 100 values
    Path("f.yaml").write_text(base + "uses: [" + ", ".join(["*b"] * 100) + "]\n")  # exactly 10,000
    assert len(load_yaml_mapping(Path("f.yaml")).data["uses"]) == 100
    assert MAX_ALIAS_NODES == 10_000
    assert refusal(base + "uses: [" + ", ".join(["*b"] * 101) + "]\n") == (
        "f.yaml:2: uses -> 100: aliases expand to more than 10,000 values (a YAML bomb?); write the values out"
    )


def test_merge_keys_keep_working() -> None:
    Path("f.yaml").write_text(
        "defaults: &defaults\n  platform: {kind: fly, app: hvb}\n  vars: {tier: gold}\n"
        "staging:\n  <<: *defaults\n  protected: false\nproduction:\n  <<: *defaults\n  protected: true\n"
    )
    doc = load_yaml_mapping(Path("f.yaml"))
    assert doc.data["production"] == {
        "platform": {"kind": "fly", "app": "hvb"},
        "vars": {"tier": "gold"},
        "protected": True,
    }
    assert doc.line_of(("production", "protected")) == 9


def test_scalar_anchors_and_aliases_keep_working() -> None:
    Path("f.yaml").write_text("image: &img hvb:1.8.0\nenvironments: {a: *img, b: *img}\n")
    assert load_yaml_mapping(Path("f.yaml")).data["environments"] == {"a": "hvb:1.8.0", "b": "hvb:1.8.0"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("items: &loop [1, *loop]\n", "f.yaml:1: items -> 1: alias *loop is inside its own anchor &loop"),
        ("env: &e\n  staging: *e\n", "f.yaml:2: env -> staging: alias *e is inside its own anchor &e"),
        ("a: &x\n  b:\n    - c: [*x]\n", "f.yaml:3: a -> b -> 0 -> c -> 0: alias *x is inside its own anchor &x"),
    ],
    ids=["list", "mapping", "nested"],
)
@pytest.mark.timeout(10)
def test_an_anchor_that_contains_itself(text: str, expected: str) -> None:
    assert refusal(text) == f"{expected}; a value cannot contain itself"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x [1]\nb: &x [*x, 2]\n", "f.yaml:2: b: anchor &x is defined twice (first at line 1)"),
        ("a: &x 1\nb:\n  c: &x 2\n", "f.yaml:3: b -> c: anchor &x is defined twice (first at line 1)"),
        ("a: [&x 1, 2, &x 3]\n", "f.yaml:1: a -> 2: anchor &x is defined twice (first at line 1)"),
    ],
    ids=["collection", "scalar", "list-item"],
)
def test_an_anchor_defined_twice(text: str, expected: str) -> None:
    assert refusal(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("? [a, b]\n: 1\n", "f.yaml:1: a key must be a plain name, not a list"),
        ("x:\n  ? {a: 1}\n  : 2\n", "f.yaml:2: x: a key must be a plain name, not a mapping"),
        (
            "a:\n  b:\n    - x\n    - {c: 1, ? [1]: 2}\n",
            "f.yaml:4: a -> b -> 1: a key must be a plain name, not a list",
        ),
        ("base: &m {a: 1}\nitems:\n  ? *m\n  : 2\n", "f.yaml:3: items: a key must be a plain name, not a mapping"),
        ("base: &l [1]\n*l : 2\n", "f.yaml:2: a key must be a plain name, not a list"),
    ],
    ids=["list", "mapping", "nested", "alias-to-mapping", "alias-to-list"],
)
def test_keys_must_be_plain_names(text: str, expected: str) -> None:
    assert refusal(text) == expected


def test_an_alias_to_a_scalar_is_a_fine_key() -> None:
    Path("f.yaml").write_text("name: &n staging\nenvironments:\n  *n : {protected: true}\n")
    assert load_yaml_mapping(Path("f.yaml")).data["environments"] == {"staging": {"protected": True}}


def nested(depth: int) -> str:
    """A top-level mapping whose key ``x`` holds ``depth - 1`` nested lists."""
    return "x: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


def test_nesting_up_to_the_limit_is_fine() -> None:
    Path("f.yaml").write_text(nested(MAX_DEPTH))
    assert load_yaml_mapping(Path("f.yaml")).data["x"] is not None


def test_nesting_past_the_limit_names_the_top_level_key() -> None:
    assert refusal(nested(MAX_DEPTH + 1)) == "f.yaml:1: x: nested more than 100 levels deep; flatten it"


@pytest.mark.timeout(20)
def test_deep_block_nesting_is_refused_before_the_c_composer_sees_it() -> None:
    # 200,000 nested `- ` crash libyaml's composer (segfault): the event scan stops at level 101.
    assert refusal("x:\n  " + "- " * 200_000 + "deep\n") == "f.yaml:2: x: nested more than 100 levels deep; flatten it"


def test_an_undefined_alias_is_still_reported_by_the_parser() -> None:
    assert refusal("a: 1\nb: *nope\n") == "f.yaml:2: invalid YAML: found undefined alias"
