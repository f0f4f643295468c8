"""Bad input to the change commands: exit 2, one line that says what to do, nothing run."""

from __future__ import annotations

import pytest

from tests.e2e.policy.support import Project, error_line, output

INVALID = "error: '{image}' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"


@pytest.mark.parametrize(
    ("command", "image", "message"),
    [
        (("deploy", "production"), "hvb 1.8", INVALID.format(image="hvb 1.8")),
        (("hotpatch", "production", "--incident", "INC-42"), "HVB:1.8.1", INVALID.format(image="HVB:1.8.1")),
        (("hotpatch", "production", "--incident", "INC-42"), "hvb:-1.8.1", INVALID.format(image="hvb:-1.8.1")),
        (
            ("hotpatch", "production", "--incident", "INC-42"),
            "hvb",
            "error: 'hvb' has no tag or digest; name the exact version, like hvb:1.8.0",
        ),
        (("changes", "production"), "hvb:1.8.0;rm", INVALID.format(image="hvb:1.8.0;rm")),
    ],
    ids=["deploy-space", "hotpatch-upper-case", "hotpatch-dash-tag", "hotpatch-no-tag", "changes-junk"],
)
def test_a_malformed_image_exits_2_before_anything_runs(
    project: Project, command: tuple[str, ...], image: str, message: str
) -> None:
    result = project.invoke(*command, "--image", image, "--yes" if command[0] != "changes" else "--limit=5")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == message
    assert project.events() == []
    assert project.image("production") == "hvb:1.7.0"


def test_an_unknown_environment_is_named_with_the_known_ones(project: Project) -> None:
    result = project.invoke("hotpatch", "prod", "--image", "hvb:1.8.1", "--incident", "INC-42", "--yes")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == "error: unknown environment 'prod' (defined in opsctl.yaml: staging, production)"
    assert project.events() == []


def test_a_protected_environment_without_a_terminal_needs_yes(project: Project) -> None:
    result = project.invoke(
        "hotpatch",
        "production",
        "--image",
        "hvb:1.8.1",
        "--incident",
        "INC-42",
        "--confirm",
        "tests-confirmed",
        "--confirm",
        "performance-tests",
    )

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        "error: production is protected: run in a terminal to confirm by typing its name, or pass --yes"
    )
    assert project.events() == []  # refused before any gate ran
    assert project.image("production") == "hvb:1.7.0"
