"""Every user-edited YAML file goes through one loader: the same bad shapes give the same clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.config import load_config
from opsctl.errors import ConfigError
from opsctl.files.yamlsrc import load_yaml_mapping

OK = "service: hvb\nenvironments:\n  staging:\n    platform: {kind: fly, app: a}\n"


def error_for(content: bytes | str, *, what: str = "config file") -> str:
    path = Path("opsctl.yaml")
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ConfigError) as caught:
        load_yaml_mapping(path, what=what)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "service: hvb\nenvironments:\n  staging: [a, b\n  prod: 1\n",
            "opsctl.yaml:4: invalid YAML: did not find expected ',' or ']'",
        ),
        (
            "service: hvb\nenvironments:\n  staging:\n\tplatform: 1\n",
            "opsctl.yaml:4: invalid YAML: found character that cannot start any token",
        ),
        (
            "service: hvb\nenvironments:\n  staging:\n    platform:\n      kind: ecs\n     cluster: x\n",
            "opsctl.yaml:6: invalid YAML: did not find expected key",
        ),
        ('service: "hvb\nx: 1\n', "opsctl.yaml:3: invalid YAML: found unexpected end of stream"),
        ("service: hvb\n&a x: 1\nb: *a\nc: *nope\n", "opsctl.yaml:4: invalid YAML: found undefined alias"),
        ("a: 1\n---\nb: 2\n", "opsctl.yaml:2: invalid YAML: but found another document"),
    ],
    ids=["unclosed-flow", "tab", "indent", "unclosed-quote", "undefined-alias", "two-documents"],
)
def test_malformed_yaml_names_the_line(content: str, expected: str) -> None:
    assert error_for(content) == expected


@pytest.mark.parametrize(
    "content",
    ["", "\n\n", "   \n\t\n", "# only a comment\n", "# one\n\n   # two\n"],
    ids=["empty", "newlines", "blanks", "comment", "comments"],
)
def test_empty_or_comment_only_file(content: str) -> None:
    assert error_for(content) == "opsctl.yaml: file is empty; expected a YAML mapping"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- a\n- b\n", "opsctl.yaml:1: the top level is a list; expected a mapping of keys"),
        ("# header\n\n- a\n", "opsctl.yaml:3: the top level is a list; expected a mapping of keys"),
        ("hello\n", "opsctl.yaml:1: the top level is a single value; expected a mapping of keys"),
        ('"just a string"\n', "opsctl.yaml:1: the top level is a single value; expected a mapping of keys"),
        ("42\n", "opsctl.yaml:1: the top level is a single value; expected a mapping of keys"),
    ],
    ids=["list", "list-after-comments", "word", "quoted-string", "number"],
)
def test_top_level_must_be_a_mapping(content: str, expected: str) -> None:
    assert error_for(content) == expected


def test_binary_file() -> None:
    assert error_for(b"\x7fELF\x02\x01\x01\x00\x00\x00") == (
        "opsctl.yaml: not a text file (binary content); expected a YAML config file"
    )


def test_binary_file_names_what_was_expected() -> None:
    assert error_for(b"PK\x03\x04\x00\x00", what="checklist") == (
        "opsctl.yaml: not a text file (binary content); expected a YAML checklist"
    )


def test_non_utf8_names_the_byte_offset() -> None:
    assert error_for("service: café\n".encode("latin-1")) == (
        "opsctl.yaml: not UTF-8 text (bad byte at offset 12); save it as UTF-8"
    )


def test_utf8_with_bom_and_non_ascii_is_fine() -> None:
    Path("opsctl.yaml").write_bytes(b"\xef\xbb\xbf" + (OK + "    vars: {greeting: 'Grüß Gott'}\n").encode())
    config = load_config(Path("opsctl.yaml"))
    assert config.environments["staging"].vars == {"greeting": "Grüß Gott"}


def test_duplicate_top_level_key() -> None:
    assert error_for("service: a\nenvironments: {}\nservice: b\n") == (
        "opsctl.yaml:3: service: duplicate key (first at line 1)"
    )


def test_duplicate_nested_key_names_both_lines() -> None:
    content = "service: hvb\nenvironments:\n  staging:\n    platform: {kind: fly, app: a}\n    platform: {kind: ecs}\n"
    assert error_for(content) == "opsctl.yaml:5: environments -> staging -> platform: duplicate key (first at line 4)"


def test_duplicate_key_inside_a_list_item() -> None:
    content = "items:\n  - id: a\n    title: A\n  - id: b\n    title: B\n    id: c\n"
    assert error_for(content, what="checklist") == "opsctl.yaml:6: items -> 1 -> id: duplicate key (first at line 4)"


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml_mapping(Path("checklists/none.yaml"), what="checklist")
    assert str(caught.value) == "checklists/none.yaml: checklist not found"


def test_lines_are_indexed_for_nested_keys_and_list_items() -> None:
    Path("opsctl.yaml").write_text("a:\n  b:\n    - x\n    - c: 1\n      d: 2\n")
    doc = load_yaml_mapping(Path("opsctl.yaml"))
    assert doc.data == {"a": {"b": ["x", {"c": 1, "d": 2}]}}
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("a", "b")) == 2
    assert doc.line_of(("a", "b", 1, "d")) == 5
    assert doc.line_of(("a", "b", 1, "zzz")) == 4  # longest existing prefix: the item
    assert doc.line_of(("nope",)) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a: 1\nb: 'ring \x07'\n", "opsctl.yaml:2: invalid YAML: control character U+0007 is not allowed"),
        ("a: 1\n\nb: \x1b[31m\n", "opsctl.yaml:3: invalid YAML: control character U+001B is not allowed"),
        (
            "a: 1\nwhen: 2026-02-30\n",
            "opsctl.yaml:2: invalid YAML: not a valid timestamp: day is out of range for month",
        ),
        (
            "a: 1\nn: " + "9" * 5000 + "\n",
            "opsctl.yaml:2: invalid YAML: not a valid int: "
            "exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits",
        ),
        (
            "a: !!python/object/apply:os.system ['true']\n",
            "opsctl.yaml:1: invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
    ],
    ids=["bell", "escape", "bad-date", "huge-int", "python-tag"],
)
def test_bad_characters_and_values_name_their_line(content: str, expected: str) -> None:
    assert error_for(content) == expected


def test_unicode_text_is_not_mistaken_for_control_characters() -> None:
    Path("opsctl.yaml").write_text("greeting: 'Grüß Gott \U0001f44b'\ntab: \"a\\tb\"\n")
    assert load_yaml_mapping(Path("opsctl.yaml")).data == {"greeting": "Grüß Gott \U0001f44b", "tab": "a\tb"}


def test_the_digest_is_of_the_bytes_that_were_parsed() -> None:
    import hashlib

    Path("opsctl.yaml").write_bytes(b"a: 1\n")
    assert load_yaml_mapping(Path("opsctl.yaml")).digest == hashlib.sha256(b"a: 1\n").hexdigest()


@pytest.mark.timeout(10)
def test_odd_files_are_refused_by_the_loader_too() -> None:
    import os

    os.mkfifo("pipe.yaml")
    with pytest.raises(ConfigError) as caught:
        load_yaml_mapping(Path("pipe.yaml"), what="checklist")
    assert str(caught.value) == "pipe.yaml: is a named pipe (fifo), not a regular file; expected a YAML checklist"
