"""Hostile input against the commands of this release: one ``error: ...`` line, exit 2, nothing in the audit log.

verify, logs, slo, oncall, platform status, review, maturity and report --html
each get an unknown environment, malformed option values (durations, times,
periods, images with control characters, unicode or absurd lengths), a config
with hostile values in its new sections (wrong types, huge numbers, unknown
keys, YAML aliases, a secret where a ``*_env`` names a variable) and a
``*_env`` naming a variable that is not set. Every case must be refused before
any network call (the platform and health URLs point at a closed port) and
without writing the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.clirunner import one_error, opsctl

CLOSED = "http://127.0.0.1:9"  # nothing listens there: a command that got that far would fail otherwise
BASE: dict[str, Any] = {
    "service": "hvb",
    "environments": {
        "staging": {
            "platform": {"kind": "fly", "app": "hvb", "api_url": CLOSED, "token_env": "HOSTILE_FLY_TOKEN"},
            "health": {"base_url": CLOSED, "prometheus_url": CLOSED},
        },
        "aws": {
            "platform": {
                "kind": "ecs",
                "region": "eu-west-1",
                "cluster": "c",
                "service": "s",
                "container": "bot",
                "endpoint_url": CLOSED,
            }
        },
    },
    "oncall": {"rotation": {"timezone": "Europe/Paris", "people": ["ana@example.com", "ben@example.com"]}},
}


def project(tmp_path: Path, text: str | None = None, **extra: Any) -> Path:
    """An opsctl.yaml (``text`` as written, else BASE with ``extra`` sections) in its own folder."""
    path = tmp_path / "opsctl.yaml"
    path.write_text(text if text is not None else yaml.safe_dump({**BASE, **extra}, sort_keys=False))
    return path


def refused(config: Path, *args: str) -> str:
    """The one error line of ``opsctl --config CONFIG ARGS`` (exit 2), having checked the audit log is untouched."""
    done = opsctl("--config", str(config), *args)
    assert done.code == 2, (done.code, done.out, done.err)
    line = one_error(done)
    assert not (config.parent / ".opsctl" / "audit.jsonl").exists()
    return line


# -- unknown environment ---------------------------------------------------------------------------


def known(config: Path) -> str:
    return f"(defined in {config}: staging, aws)"


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "nope", "--image", "ghcr.io/acme/hvb:1.8.0"),
        ("logs", "nope"),
        ("slo", "nope"),
        ("platform", "status", "nope"),
    ],
)
def test_unknown_environment_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = project(tmp_path)
    assert refused(config, *args) == f"error: unknown environment 'nope' {known(config)}"


def test_report_html_of_an_unknown_environment(tmp_path: Path) -> None:
    config = project(tmp_path)
    line = refused(config, "report", "--env", "nope", "--html", str(tmp_path / "r.html"))
    assert line == f"error: unknown environment 'nope' {known(config)}"
    assert not (tmp_path / "r.html").exists()


# -- images ----------------------------------------------------------------------------------------

IMAGE_HINT = "is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        ("hvb:1.8.0\nINJECTED", "'hvb:1.8.0\\nINJECTED'"),
        ("hvb\x1b[31m:1.8.0", "'hvb\\x1b[31m:1.8.0'"),
        ("hvb:versión", "'hvb:versión'"),
        ("\uff48\uff56\uff42:1.8.0", "'\uff48\uff56\uff42:1.8.0'"),  # fullwidth letters
        ("hvb:1.8.0\u2028x", "'hvb:1.8.0\\u2028x'"),
        ("", "''"),
    ],
)
def test_verify_hostile_images_are_one_line(tmp_path: Path, image: str, shown: str) -> None:
    assert refused(project(tmp_path), "verify", "staging", "--image", image) == f"error: {shown} {IMAGE_HINT}"


def test_verify_a_megabyte_image_is_cut_in_the_message(tmp_path: Path) -> None:
    image = "a" * 1_000_000 + ":1"
    line = refused(project(tmp_path), "verify", "staging", "--image", image)
    assert line == f"error: '{'a' * 509}...' (1,000,002 characters) is not a valid image reference: " + (
        "its name is 1000000 characters long, at most 255 are allowed"
    )


def test_verify_hostile_image_with_json_is_one_json_line(tmp_path: Path) -> None:
    done = opsctl("--config", str(project(tmp_path)), "--json", "verify", "staging", "--image", "a\nb")
    assert done.code == 2
    assert json.loads(one_json(done.err)) == {"error": f"'a\nb' {IMAGE_HINT}", "exit_code": 2}


def one_json(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- durations, times, periods ---------------------------------------------------------------------

SINCE_HINT = "must be a duration like 30d, 12h or 90m, or a date like 2026-11-01 or 2026-11-01T09:30Z"


@pytest.mark.parametrize("command", [("logs", "aws"), ("maturity",), ("report",)])
@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("garbage", f"--since garbage: {SINCE_HINT}"),
        ("1\nh", f"--since 1\\nh: {SINCE_HINT}"),
        ("99999999999999999999d", "--since 99999999999999999999d: must be at most 100 years (36500d)"),
        ("-5m", f"--since -5m: {SINCE_HINT}"),
    ],
)
def test_since_garbage_is_one_line(tmp_path: Path, command: tuple[str, ...], since: str, message: str) -> None:
    assert refused(project(tmp_path), *command, "--since", since) == f"error: {message}"


def test_logs_run_with_control_characters_is_one_line(tmp_path: Path) -> None:
    line = refused(project(tmp_path), "logs", "aws", "--run", "r1\n\x1b[2Jr2")
    assert line == "error: no run r1\\n\\x1b[2Jr2 in the audit log"


def test_logs_of_a_fly_environment_is_refused(tmp_path: Path) -> None:
    line = refused(project(tmp_path), "logs", "staging")
    assert line.startswith("error: ")
    assert "fly logs" in line


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("garbage", "--at must be a time like 2026-12-01T10:00Z, not 'garbage'"),
        ("2026-12-01T10:00\nZ", "--at must be a time like 2026-12-01T10:00Z, not '2026-12-01T10:00\\nZ'"),
        ("x" * 10_000, f"--at must be a time like 2026-12-01T10:00Z, not '{'x' * 37}...'"),
        ("0001-01-01T00:00+05:00", "--at must be a time between 1970 and 9998, not '0001-01-01T00:00+05:00'"),
        ("9999-12-31T23:59", "--at must be a time between 1970 and 9998, not '9999-12-31T23:59'"),
        ("2026-02-30T10:00Z", "--at must be a time like 2026-12-01T10:00Z, not '2026-02-30T10:00Z'"),
    ],
)
def test_oncall_at_garbage_is_one_line(tmp_path: Path, at: str, message: str) -> None:
    assert refused(project(tmp_path), "oncall", "--at", at) == f"error: {message}"


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("weekly", "garbage", "--period 'garbage' is not a weekly period (write it like 2026-W47)"),
        ("monthly", "2026-13", "--period '2026-13' is not a monthly period (write it like 2026-11)"),
        ("quarterly", "2026-Q5", "--period '2026-Q5' is not a quarterly period (write it like 2026-Q3)"),
        ("monthly", "0001-01", "--period '0001-01' is before 1970; no audit log reaches back that far"),
        ("monthly", "9999-12", "--period 9999-12 has not started yet (now is 2026-11-27 10:00 UTC)"),
        ("weekly", "9999-W52", "--period 9999-W52 has not started yet (now is 2026-11-27 10:00 UTC)"),
        ("weekly", "2026-W99", "--period '2026-W99' is not a weekly period (write it like 2026-W47)"),
        ("yearly", "2026", "unknown review 'yearly' (use weekly, monthly or quarterly)"),
    ],
)
def test_review_period_garbage_is_one_line(tmp_path: Path, kind: str, period: str, message: str) -> None:
    assert refused(project(tmp_path), "review", kind, "--period", period) == f"error: {message}"


def test_review_and_maturity_refuse_bad_input_before_writing_html(tmp_path: Path) -> None:
    page = tmp_path / "out.html"
    refused(project(tmp_path), "review", "monthly", "--period", "0001-01", "--out", str(page))
    refused(project(tmp_path), "maturity", "--since", "soon", "--html", str(page))
    refused(project(tmp_path), "report", "--since", "soon", "--html", str(page))
    assert not page.exists()


# -- hostile values in the new config sections -------------------------------------------------------

SECRET_SHAPED = (
    "looks like a secret, not the name of an environment variable; put the value in an environment "
    "variable and write its name here, like HVB_API_TOKEN"
)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"oncall": {"pagerduty": {"token_env": "Ab3dEf6hIj9kLm2nOp5qRs8t", "escalation_policy": "P1"}}},
            f"oncall -> pagerduty -> token_env: {SECRET_SHAPED}",
        ),
        (
            {"oncall": {"pagerduty": {"token_env": "ghp_" + "a1" * 18, "escalation_policy": "P1"}}},
            f"oncall -> pagerduty -> token_env: {SECRET_SHAPED}",
        ),
        (
            {"oncall": {"pagerduty": {"token": "u+abcdefgh", "escalation_policy": "P1"}}},
            "oncall -> pagerduty -> token: looks like an inline secret; put the value in an environment "
            "variable and name it with token_env",
        ),
        (
            {"registries": {"ghcr.io": {"username_env": "U", "password": "hunter22"}}},
            "registries -> ghcr.io -> password: looks like an inline secret; put the value in an environment "
            "variable and name it with password_env",
        ),
        (
            {"registries": {"ghcr.io": {"username_env": "U", "password_env": "0123456789abcdef0123456789abcdef"}}},
            f"registries -> ghcr.io -> password_env: {SECRET_SHAPED}",
        ),
        (
            {"registries": {"ghcr.io": {"username_env": "U", "password_env": "a1b2c3d4e5f6a7b8c9d0e1f2"}}},
            f"registries -> ghcr.io -> password_env: {SECRET_SHAPED}",
        ),
        ({"slo": {"availability": 1e308}}, "slo -> availability: input should be less than 1"),
        (
            {"slo": {"availability": "high"}},
            "slo -> availability: input should be a valid number, unable to parse string as a number",
        ),
        ({"slo": {"period": "99999999999999999999d"}}, "slo -> period: must be at most 366d"),
        ({"slo": {"period": [30]}}, "slo -> period: must be a duration like 30s or 5m"),
        ({"slo": {"policy": True}}, "slo -> policy: expected 'enforce', 'warn' or 'off'"),
        ({"scan": {"max_critical": -1}}, "scan -> max_critical: input should be greater than or equal to 0"),
        ({"scan": {"timeout": "1e400s"}}, "scan -> timeout: must be a duration like 30s or 5m"),
        ({"scan": {"report": "r.json", "command": ["trivy"]}}, "scan: give report or command, not both"),
        (
            {"oncall": {"rotation": {"timezone": "../../etc/passwd", "people": ["a@example.com"]}}},
            "oncall -> rotation -> timezone: unknown time zone '../../etc/passwd' "
            "(use an IANA name like Europe/Berlin)",
        ),
        (
            {"oncall": {"rotation": {"timezone": "UTC", "people": ["a@example.com"], "bogus": 1}}},
            "oncall -> rotation -> bogus: unknown key; check the spelling (see `opsctl config schema`)",
        ),
        (
            {"oncall": {"rotation": {"timezone": "UTC", "handoff": "someday", "people": ["a@example.com"]}}},
            'oncall -> rotation -> handoff: must be a weekday and a time like "mon 09:00"',
        ),
        ({"oncall": {"escalation": "boss"}}, "oncall: escalation 'boss' is not a contact (contacts: none defined)"),
        (
            {"contacts": {"lead": {"email": ["a@example.com"]}}},
            "contacts -> lead -> email: input should be a valid string",
        ),
    ],
)
def test_hostile_config_values_are_one_line(tmp_path: Path, extra: dict[str, Any], message: str) -> None:
    config = project(tmp_path, **extra)
    for args in (("oncall",), ("slo", "staging"), ("verify", "staging", "--image", "ghcr.io/acme/hvb:1")):
        line = refused(config, *args)
        assert line.startswith(f"error: {config}:"), line
        assert line.split(": ", 2)[2] == message
    assert "Ab3dEf6hIj9kLm2nOp5qRs8t" not in line
    assert "hunter22" not in line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "service: hvb\nenvironments:\n  k:\n    platform: {kind: kubernetes, deployment: hvb, container: bot, "
            "poll_interval: 1h}\n",
            "environments -> k -> platform -> poll_interval: must be at most 5s: "
            "a rollout is followed at least that often",
        ),
        (
            "service: hvb\nenvironments:\n  k:\n"
            "    platform: {kind: kubernetes, deployment: HVB_Bad, container: bot}\n",
            "environments -> k -> platform -> deployment: "
            "string should match pattern '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n"
            "    migrate: {command: [], timeout: 10m}\n",
            "environments -> s -> migrate -> command: give the migration command as a list of words, "
            "like [alembic, upgrade, head]",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n"
            "    migrate: {command: [alembic], log_lines: 99999999999999999999}\n",
            "environments -> s -> migrate -> log_lines: input should be less than or equal to 1000",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n    verify: {image: maybe}\n",
            "environments -> s -> verify -> image: input should be a valid boolean, unable to interpret input",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n"
            "    health: {base_url: 'http://127.0.0.1:9', analysis: {count: 1000000000}}\n",
            "environments -> s -> health -> analysis -> count: input should be less than or equal to 1000",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n"
            "    health: {base_url: 'http://127.0.0.1:9', prometheus: {selector: '}{'}}\n",
            "environments -> s -> health -> prometheus -> selector: string should match pattern '^[^{}]*$'",
        ),
        (
            "service: hvb\nenvironments:\n  s:\n    platform: {kind: fly, app: hvb}\n"
            "notify:\n  statuspage: {page_id: 'p 1', components: {bot: c1}}\n",
            "notify -> statuspage -> page_id: string should match pattern '^[A-Za-z0-9]+$'",
        ),
    ],
)
def test_hostile_new_sections_in_yaml_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    config = project(tmp_path, text)
    line = refused(config, "config", "check")
    assert line.startswith(f"error: {config}:"), line
    assert line.split(": ", 2)[2].lower() == message.lower()


def test_yaml_alias_bomb_in_a_new_section_is_one_line(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    text = (
        "service: hvb\nenvironments: {s: {platform: {kind: fly, app: hvb}}}\n"
        + "\n".join(f"x-{line}" for line in levels)
        + "\noncall: {rotation: {timezone: UTC, people: *a7}}\n"
    )
    line = refused(project(tmp_path, text), "oncall")
    assert "a YAML bomb?" in line or "unknown key" in line


# -- missing env vars named by *_env -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        (
            {"oncall": {"pagerduty": {"token_env": "HOSTILE_PD_TOKEN", "escalation_policy": "P1", "api_url": CLOSED}}},
            ("oncall",),
            "HOSTILE_PD_TOKEN is not set: export a PagerDuty REST API token (oncall.pagerduty.token_env)",
        ),
        (
            {"registries": {"127.0.0.1:9": {"username_env": "HOSTILE_REG_USER", "password_env": "HOSTILE_REG_PW"}}},
            ("verify", "staging", "--image", "127.0.0.1:9/hvb:1.8.0"),
            "HOSTILE_FLY_TOKEN is not set: export a Fly API token (fly tokens create deploy) in HOSTILE_FLY_TOKEN",
        ),
    ],
)
def test_missing_env_vars_are_one_line_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    for name in ("HOSTILE_PD_TOKEN", "HOSTILE_REG_USER", "HOSTILE_REG_PW", "HOSTILE_FLY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert refused(project(tmp_path, **extra), *args) == f"error: {message}"
