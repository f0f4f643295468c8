"""Redact before truncating: a secret cut in half must not leak its beginning."""

from __future__ import annotations

from opsctl.values.redact import Redactor

KEY = "R0uTiNgKeY0123456789abcdef012345"
BODY = "E" * 150 + KEY + " is not a valid routing key"


def test_excerpt_redacts_the_whole_text_before_cutting() -> None:
    redactor = Redactor([KEY])
    assert redactor.excerpt(BODY, 160) == "E" * 150 + "*** is..."
    assert redactor.excerpt("short  and\n spaced", 160) == "short and spaced"


def test_a_secrets_beginning_left_at_the_end_by_a_cut_is_masked() -> None:
    redactor = Redactor([KEY])
    cut = BODY[:160]  # what truncating first leaves: the key's first 10 characters
    assert cut.endswith(KEY[:10])
    assert redactor.text(cut) == "E" * 150 + "***"
    assert redactor.text(repr(cut)) == "'" + "E" * 150 + "***'"
    assert redactor.text(BODY[:157] + "...") == "E" * 150 + "***..."
    assert redactor.text(f"summary: {cut}\n") == "summary: " + "E" * 150 + "***\n"


def test_short_beginnings_and_ordinary_text_are_left_alone() -> None:
    redactor = Redactor([KEY, "https://hooks.example.test/services/abc123secret"])
    assert redactor.text("answered R0uTi") == "answered R0uTi"  # 5 characters tell little
    assert redactor.text("answered R0uTiN") == "answered ***"
    assert redactor.text(f"{KEY[:10]} in the middle") == f"{KEY[:10]} in the middle"
    # A URL's beginning (scheme and host) is public; its secret path is registered on its own.
    assert redactor.text("posted to https://hooks.example.test") == "posted to https://hooks.example.test"


def test_whole_secrets_are_still_masked_everywhere() -> None:
    redactor = Redactor([KEY])
    assert redactor.text(f"a {KEY} b {KEY}") == "a *** b ***"
    assert redactor.value({"x": [f"k={KEY}"]}) == {"x": ["k=***"]}
