"""Durations as people write them, and the redactor that keeps secrets out of output and the log."""

from __future__ import annotations

import pytest

from opsctl.values.durations import DURATION_HINT, format_duration, parse_duration
from opsctl.values.redact import MASK, Redactor, secret_env_names


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1.5s", 1.5),
        (" 5M ", 300.0),
        (12, 12.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5", "-5s", "5 m", "m5", "5x", "1h 30m", True, -1])
def test_parse_duration_refuses(text: str | int) -> None:
    # A bare number is seconds only as a YAML number; as text ("5") it is ambiguous and refused.
    with pytest.raises(ValueError, match=r"^must be a duration like 30s or 5m$"):
        parse_duration(text)


def test_hint_text_is_the_documented_one() -> None:
    assert DURATION_HINT == "must be a duration like 30s or 5m"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.85, "850ms"), (12.34, "12.3s"), (245, "4m05s"), (7800, "2h10m"), (1.0, "1.0s")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_known_values_are_masked_longest_first() -> None:
    redactor = Redactor(["abcd1234", "abcd1234-extended"])
    assert redactor.text("x=abcd1234-extended y=abcd1234") == f"x={MASK} y={MASK}"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["ok", "1"]).text("ok 1") == "ok 1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://bot:hunter2@example.com/x", f"https://bot:{MASK}@example.com/x"),
        ("GET /x?token=abc123&b=1", f"GET /x?token={MASK}&b=1"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9", f"Authorization: Bearer {MASK}"),
        ("ghp_" + "a" * 36, MASK),
        ("xoxb-1234567890-abcdef", MASK),
        ("AKIAABCDEFGHIJKLMNOP", MASK),
        ("https://hooks.slack.com/services/T000/B000/XXXX", f"https://hooks.slack.com/services/{MASK}"),
    ],
    ids=["url", "query", "bearer", "github", "slack-token", "aws-key", "slack-hook"],
)
def test_credential_shapes_are_masked(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_redaction_time_grows_linearly_with_the_text() -> None:
    # Command output can hold one very long line (minified JSON, base64): masking it must not stall the run.
    import time

    redactor = Redactor()
    started = time.perf_counter()
    assert redactor.text("x" * 40_000) == "x" * 40_000
    assert time.perf_counter() - started < 0.5


def test_redact_nested_values() -> None:
    redactor = Redactor(["s3cr3t-value"])
    value = {"a": ["s3cr3t-value", 1, {"b": ("x s3cr3t-value",)}], "n": None}
    assert redactor.value(value) == {"a": [MASK, 1, {"b": [f"x {MASK}"]}], "n": None}


def test_from_env_reads_named_and_always_secret_variables() -> None:
    environ = {"MY_HOOK": "hook-value-1", "GITHUB_TOKEN": "gh-value-2", "PLAIN": "plain-value-3"}
    redactor = Redactor.from_env(["MY_HOOK", "NOT_SET"], environ)
    assert redactor.text("hook-value-1 gh-value-2 plain-value-3") == f"{MASK} {MASK} plain-value-3"


def test_secret_env_names_finds_every_env_key() -> None:
    data = {"a": {"token_env": "A_TOKEN", "x": [{"url_env": "B_URL"}]}, "webhook_env": "C_HOOK", "name": "n"}
    assert secret_env_names(data) == {"A_TOKEN", "B_URL", "C_HOOK"}
