"""Header values from environment variables: a trailing newline is dropped, anything else unsendable refused."""

from __future__ import annotations

import pytest

from opsctl.errors import BadInput
from opsctl.net.headers import env_headers, header_value
from opsctl.values.redact import Redactor

CANARY = "hvb-canary-header-4f2a9c1e"


def test_one_trailing_newline_is_dropped_and_the_value_is_a_secret() -> None:
    redactor = Redactor()
    environ = {"A_KEY": CANARY + "\n", "B_KEY": CANARY + "\r\n"}
    headers = env_headers({"X-A": "A_KEY", "X-B": "B_KEY"}, "health probes", redactor, environ=environ)
    assert headers == {"X-A": CANARY, "X-B": CANARY}
    assert redactor.text(f"sent {CANARY}") == "sent ***"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (CANARY + "\n\n", "a control character (a line break?)"),
        (CANARY[:8] + "\n" + CANARY[8:], "a control character (a line break?)"),
        (CANARY + "\x00", "a control character (a line break?)"),
        (" " + CANARY, "a space at the start or end"),
        (CANARY + "\t", "a space at the start or end"),
        (CANARY + "é", "a non-ASCII character"),
    ],
)
def test_unsendable_values_are_bad_input_naming_the_variable_never_the_value(value: str, problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        env_headers({"Authorization": "HVB_HEALTH_TOKEN"}, "health probes", environ={"HVB_HEALTH_TOKEN": value})
    assert str(caught.value) == (
        f"environment variable HVB_HEALTH_TOKEN holds {problem}; "
        "it cannot be sent as the Authorization header of health probes"
    )
    assert CANARY[:6] not in str(caught.value)


def test_a_tab_inside_a_value_is_allowed() -> None:
    assert header_value("V", "X-A", "a\tb", "tests") == "a\tb"


def test_unset_variables() -> None:
    with pytest.raises(BadInput) as caught:
        env_headers({"X-Api-Key": "HVB_KEY"}, "health probes", environ={})
    assert (
        str(caught.value) == "environment variable HVB_KEY is not set (it gives the X-Api-Key header of health probes)"
    )
    assert env_headers({"X-Api-Key": "HVB_KEY"}, "the http.get request", environ={}, required=False) == {
        "X-Api-Key": ""
    }
