"""opsctl.yaml: models, ``file:line`` errors, inline-secret refusal, and where the file is found."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.config import config_schema, find_config, load_config
from opsctl.errors import BadInput, ConfigError, ExitCode
from tests.support.isolation import _isolated, builtins  # noqa: F401 - autouse isolation, built-ins
from tests.support.util import write_text

# DESIGN.md section 3, verbatim: users copy it, so it must keep loading.
DESIGN_EXAMPLE = """
service: hotel-voice-bot
state_dir: .opsctl                 # relative to opsctl.yaml: audit log, locks, runs, onboarding
environments:
  staging:
    platform:
      kind: ecs                    # ecs | fly
      region: eu-west-1
      cluster: hvb-staging
      service: hotel-voice-bot
      container: bot               # the container whose image is replaced
      endpoint_url: null           # optional: a local AWS endpoint (tests, sandbox)
    health:
      base_url: https://staging.hvb.example.com
  production:
    protected: true                # typed confirmation, approvals, promotion gate
    platform:
      kind: fly
      app: hotel-voice-bot
      api_url: https://api.machines.dev   # default; tests point it at loopback
      token_env: FLY_API_TOKEN            # secrets are named by env var, never inlined
    health:
      base_url: https://hvb.example.com
    requires:
      promoted_from: staging       # only images verified there
      approvals: 1                 # normal changes need an approver
    freeze:
      - {from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", reason: holiday freeze}
slo:                               # defaults = the operational maturity targets
  p95_ms: 2000
  error_rate: 0.01
  error_window: 5m
  db_pool_utilization: 0.8
notify:                            # all optional; URLs and keys come from env vars
  slack: {webhook_env: SLACK_WEBHOOK_URL}
  pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY, api_url: https://events.pagerduty.com}
  webhook: {url_env: OPSCTL_WEBHOOK_URL}
locks: {backend: file}             # or {backend: dynamodb, table: opsctl-locks, ttl: 2h}
audit: {}                          # or {s3: {bucket: ..., prefix: opsctl/}}
"""

MINIMAL = """
service: hvb
environments:
  staging:
    platform: {kind: fly, app: hvb-staging}
"""


def config_error(text: str) -> str:
    """The one-line message of loading ``text`` as ./opsctl.yaml (which must fail)."""
    write_text(Path("opsctl.yaml"), text)
    with pytest.raises(ConfigError) as caught:
        load_config(Path("opsctl.yaml"))
    assert caught.value.exit_code is ExitCode.BAD_INPUT
    assert "\n" not in str(caught.value)
    return str(caught.value)


# --- a valid file ---------------------------------------------------------------------------------


def test_design_example_loads_with_every_documented_value(tmp_path: Path) -> None:
    write_text(tmp_path / "opsctl.yaml", DESIGN_EXAMPLE)
    config = load_config(tmp_path / "opsctl.yaml")

    assert config.service == "hotel-voice-bot"
    staging, production = config.environments["staging"], config.environments["production"]
    assert staging.platform.kind == "ecs"
    assert staging.platform.container == "bot"
    assert staging.platform.endpoint_url is None
    assert not staging.protected
    assert production.platform.kind == "fly"
    assert production.platform.token_env == "FLY_API_TOKEN"
    assert production.protected
    assert production.requires.promoted_from == "staging"
    assert production.requires.approvals == 1
    assert production.freeze[0].start == datetime(2026, 12, 24, tzinfo=UTC)
    assert production.freeze[0].end == datetime(2026, 12, 27, tzinfo=UTC)
    assert production.freeze[0].reason == "holiday freeze"
    assert config.slo.error_window == 300.0
    assert config.slo.p95_ms == 2000
    assert config.locks.backend == "file"
    assert config.audit.s3 is None
    assert config.state_path == (tmp_path / ".opsctl").resolve()
    assert config.path == (tmp_path / "opsctl.yaml").resolve()
    assert config.secret_env_names == {
        "FLY_API_TOKEN",
        "SLACK_WEBHOOK_URL",
        "PAGERDUTY_ROUTING_KEY",
        "OPSCTL_WEBHOOK_URL",
    }


def test_the_repository_example_config_loads() -> None:
    example = Path(__file__).resolve().parents[1] / "opsctl.yaml"
    config = load_config(example)
    assert {"staging", "production"} <= set(config.environments)
    assert config.environments["production"].protected
    assert config.path == example


def test_state_dir_is_relative_to_the_config_file_not_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_text(tmp_path / "deploy" / "opsctl.yaml", MINIMAL + "state_dir: var/state\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    config = load_config(Path("../deploy/opsctl.yaml"))

    assert config.state_path == (tmp_path / "deploy" / "var" / "state").resolve()
    assert config.project_dir == (tmp_path / "deploy").resolve()


# --- file:line: key path: message -----------------------------------------------------------------


def test_unknown_platform_kind_names_the_kind_line() -> None:
    message = config_error(
        """
        service: hvb
        environments:
          staging:
            platform:
              kind: ecz
              cluster: hvb-staging
        """
    )
    assert message == (
        "opsctl.yaml:5: environments -> staging -> platform -> kind: expected 'ecs' or 'fly' or 'kubernetes'"
    )


def test_missing_platform_kind() -> None:
    message = config_error(
        """
        service: hvb
        environments:
          staging:
            platform: {app: hvb}
        """
    )
    assert message == "opsctl.yaml:4: environments -> staging -> platform -> kind: required key is missing"


def test_missing_required_key_names_the_parent_line() -> None:
    message = config_error(
        """
        service: hvb
        environments:
          staging:
            platform:
              kind: ecs
              cluster: hvb-staging
              service: hvb
        """
    )
    assert message == "opsctl.yaml:4: environments -> staging -> platform -> container: required key is missing"


def test_missing_top_level_key() -> None:
    message = config_error(
        """
        environments:
          staging:
            platform: {kind: fly, app: hvb}
        """
    )
    assert message == "opsctl.yaml:1: service: required key is missing"


def test_unknown_key_names_its_own_line() -> None:
    message = config_error(
        """
        service: hvb
        environments:
          staging:
            platform: {kind: fly, app: hvb}
            colour: red
        """
    )
    assert message == (
        "opsctl.yaml:5: environments -> staging -> colour: unknown key; check the spelling (see `opsctl config schema`)"
    )


def test_no_environments() -> None:
    message = config_error("service: hvb\nenvironments: {}\n")
    assert message == "opsctl.yaml:2: environments: dictionary should have at least 1 item after validation, not 0"


def test_negative_approvals() -> None:
    message = config_error(MINIMAL + "    requires: {approvals: -1}\n")
    assert message == (
        "opsctl.yaml:5: environments -> staging -> requires -> approvals: input should be greater than or equal to 0"
    )


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("slo:\n  error_window: soon\n", "soon"),
        ("slo:\n  error_window: -5m\n", "-5m"),
        ("slo:\n  error_window: 5 minutes\n", "5 minutes"),
        ("slo:\n  error_window: true\n", "true"),
    ],
)
def test_bad_duration(line: str, value: str) -> None:
    message = config_error(MINIMAL + line)
    assert message == "opsctl.yaml:6: slo -> error_window: must be a duration like 30s or 5m", value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("5m", 300.0), ("2h", 7200.0), ("1h30m", 5400.0), ("750ms", 0.75), ("90", 90.0)],
)
def test_good_durations(text: str, seconds: float) -> None:
    write_text(Path("opsctl.yaml"), MINIMAL + f"slo:\n  error_window: {text}\n")
    assert load_config(Path("opsctl.yaml")).slo.error_window == seconds


def test_freeze_window_that_ends_before_it_starts() -> None:
    message = config_error(
        MINIMAL + "    freeze:\n" + '      - from: "2026-12-27T00:00:00Z"\n' + '        to: "2026-12-24T00:00:00Z"\n'
    )
    assert message == "opsctl.yaml:6: environments -> staging -> freeze -> 0: 'to' must be after 'from'"


def test_freeze_window_of_zero_length_is_refused_too() -> None:
    message = config_error(MINIMAL + '    freeze: [{from: "2026-12-24T00:00:00Z", to: "2026-12-24T00:00:00Z"}]\n')
    assert message == "opsctl.yaml:5: environments -> staging -> freeze -> 0: 'to' must be after 'from'"


def test_freeze_window_with_one_time_zone_missing() -> None:
    message = config_error(MINIMAL + '    freeze: [{from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00"}]\n')
    assert message == (
        "opsctl.yaml:5: environments -> staging -> freeze -> 0: give times with a zone, like 2026-12-24T00:00:00Z"
    )


def test_freeze_window_without_a_time_zone() -> None:
    message = config_error(MINIMAL + '    freeze: [{from: "2026-12-24T00:00:00", to: "2026-12-27T00:00:00"}]\n')
    assert message == (
        "opsctl.yaml:5: environments -> staging -> freeze -> 0: give times with a zone, like 2026-12-24T00:00:00Z"
    )


URL_HINT = "must be an absolute http(s) URL like https://hvb.example.com"
FLY = "    platform: {kind: fly, app: hvb, api_url: %s}\n"
ECS = "    platform: {kind: ecs, cluster: c, service: s, container: bot, endpoint_url: %s}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "    health:\n      base_url: 127.0.0.1:46619\n",
            "opsctl.yaml:6: environments -> staging -> health -> base_url",
        ),
        (
            MINIMAL + "    health:\n      base_url: https://hvb.example.com\n      prometheus_url: prom:9090\n",
            "opsctl.yaml:7: environments -> staging -> health -> prometheus_url",
        ),
        (
            "service: hvb\nenvironments:\n  staging:\n" + FLY % "ftp://x",
            "opsctl.yaml:4: environments -> staging -> platform -> api_url",
        ),
        (
            "service: hvb\nenvironments:\n  staging:\n" + ECS % "localhost:4566",
            "opsctl.yaml:4: environments -> staging -> platform -> endpoint_url",
        ),
        (
            MINIMAL + "notify:\n  pagerduty: {api_url: events.pagerduty.com}\n",
            "opsctl.yaml:6: notify -> pagerduty -> api_url",
        ),
        (MINIMAL + "github: {repo: o/r, api_url: 'https://'}\n", "opsctl.yaml:5: github -> api_url"),
        (
            MINIMAL + "locks: {backend: dynamodb, endpoint_url: '127.0.0.1:8000'}\n",
            "opsctl.yaml:5: locks -> endpoint_url",
        ),
        (MINIMAL + "audit: {s3: {bucket: b, endpoint_url: 's3:9000'}}\n", "opsctl.yaml:5: audit -> s3 -> endpoint_url"),
    ],
    ids=["base_url", "prometheus_url", "fly-api_url", "ecs-endpoint_url", "pagerduty", "github", "locks", "s3"],
)
def test_urls_must_be_absolute_http(text: str, expected: str) -> None:
    assert config_error(text) == f"{expected}: {URL_HINT}"


def test_loopback_urls_with_ports_are_fine() -> None:
    write_text(
        Path("opsctl.yaml"),
        "service: hvb\nenvironments:\n  staging:\n"
        + ECS % "http://127.0.0.1:4566"
        + "    health: {base_url: 'http://127.0.0.1:46619', prometheus_url: 'http://127.0.0.1:9090/'}\n",
    )
    health = load_config(Path("opsctl.yaml")).environments["staging"].health
    assert health is not None
    assert (health.base_url, health.prometheus_url) == ("http://127.0.0.1:46619", "http://127.0.0.1:9090/")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("slo:\n  error_window: 0s\n", "slo -> error_window: must be longer than 0"),
        ("slo:\n  error_window: 0\n", "slo -> error_window: must be longer than 0"),
        ("slo:\n  error_window: 30d1s\n", "slo -> error_window: must be at most 30d"),
        ("slo:\n  error_window: 99999999999999999999h\n", "slo -> error_window: must be at most 30d"),
        ("locks:\n  ttl: 0m\n", "locks -> ttl: must be longer than 0"),
    ],
    ids=["zero", "zero-number", "past-30d", "absurd", "zero-ttl"],
)
def test_durations_are_bounded(line: str, message: str) -> None:
    assert config_error(MINIMAL + line) == f"opsctl.yaml:6: {message}"


def test_a_zero_health_timeout_is_refused_not_replaced_by_the_default() -> None:
    message = config_error(MINIMAL + "    health: {base_url: 'https://hvb.example.com', timeout: 0s}\n")
    assert message == "opsctl.yaml:5: environments -> staging -> health -> timeout: must be longer than 0"


def test_thirty_days_is_the_longest_duration() -> None:
    write_text(Path("opsctl.yaml"), MINIMAL + "slo:\n  error_window: 30d\n")
    assert load_config(Path("opsctl.yaml")).slo.error_window == 30 * 86400


# --- inline secrets --------------------------------------------------------------------------------

HINT = "looks like an inline secret; put the value in an environment variable and name it with"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "service: hvb\nenvironments:\n  production:\n    platform: {kind: fly, app: hvb, token: fo1_abcdef}\n",
            f"opsctl.yaml:4: environments -> production -> platform -> token: {HINT} token_env",
        ),
        (
            MINIMAL + "    vars:\n      client_secret: s3cr3t-value\n",
            f"opsctl.yaml:6: environments -> staging -> vars -> client_secret: {HINT} client_secret_env",
        ),
        (
            MINIMAL + "    vars:\n      db_password: 12345678\n",
            f"opsctl.yaml:6: environments -> staging -> vars -> db_password: {HINT} db_password_env",
        ),
        (
            "service: hvb\nnotify:\n  slack:\n    webhook: https://hooks.slack.com/services/T0/B0/x\n"
            "environments:\n  staging:\n    platform: {kind: fly, app: hvb}\n",
            f"opsctl.yaml:4: notify -> slack -> webhook: {HINT} webhook_env",
        ),
        (
            MINIMAL + "    health:\n      base_url: https://bot:hunter2@staging.example.com\n",
            "opsctl.yaml:6: environments -> staging -> health -> base_url: "
            "URL carries a password; pass credentials through an environment variable",
        ),
        (
            MINIMAL
            + "    vars:\n      mirrors:\n        - https://example.com\n        - https://u:p4ss@mirror.example.com/x\n",
            "opsctl.yaml:8: environments -> staging -> vars -> mirrors -> 1: "
            "URL carries a password; pass credentials through an environment variable",
        ),
    ],
    ids=["token", "secret", "password-int", "webhook", "url-password", "url-password-in-list"],
)
def test_inline_secrets_are_refused(text: str, expected: str) -> None:
    assert config_error(text) == expected


def test_inline_secret_value_never_appears_in_the_error() -> None:
    message = config_error(MINIMAL + "    vars:\n      api_key: sk-live-0123456789\n")
    assert "sk-live-0123456789" not in message
    assert message.endswith(f"vars -> api_key: {HINT} api_key_env")


def test_names_of_env_vars_and_harmless_values_are_accepted() -> None:
    write_text(
        Path("opsctl.yaml"),
        MINIMAL
        + "    vars:\n      password_rotation: false\n      token_hint: ''\n      docs: https://user@example.com/x\n"
        + "notify:\n  slack: {webhook_env: MY_SLACK_HOOK}\n",
    )
    config = load_config(Path("opsctl.yaml"))
    assert config.notify.slack is not None
    assert config.notify.slack.webhook_env == "MY_SLACK_HOOK"
    assert "MY_SLACK_HOOK" in config.secret_env_names


def test_header_env_mapping_is_not_mistaken_for_inline_secrets() -> None:
    # headers_env maps header names to env var names; "X-Auth-Token: HVB_AUTH" names a variable.
    write_text(
        Path("opsctl.yaml"),
        MINIMAL + "    health:\n      base_url: https://bot.example.com\n      headers_env: {X-Auth-Token: HVB_AUTH}\n",
    )
    config = load_config(Path("opsctl.yaml"))
    health = config.environments["staging"].health
    assert health is not None
    assert health.headers_env == {"X-Auth-Token": "HVB_AUTH"}


def test_env_vars_named_by_header_mappings_are_secret_env_names() -> None:
    write_text(
        Path("opsctl.yaml"),
        MINIMAL + "    health:\n      base_url: https://bot.example.com\n      headers_env: {X-Api-Key: HVB_API_KEY}\n",
    )
    assert "HVB_API_KEY" in load_config(Path("opsctl.yaml")).secret_env_names


# --- environments ----------------------------------------------------------------------------------


def test_unknown_environment_lists_the_defined_ones(tmp_path: Path) -> None:
    write_text(
        tmp_path / "opsctl.yaml",
        MINIMAL + "  production:\n    platform: {kind: fly, app: hvb}\n",
    )
    config = load_config(tmp_path / "opsctl.yaml")
    with pytest.raises(BadInput) as caught:
        config.environment("prod")
    assert str(caught.value) == "unknown environment 'prod' (defined in opsctl.yaml: staging, production)"
    assert caught.value.exit_code == 2


# --- finding the file ------------------------------------------------------------------------------


def test_explicit_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(explicit=str(tmp_path / "nope.yaml"))
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: config file not found (from --config)"


def test_opsctl_config_that_does_not_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCTL_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError) as caught:
        find_config()
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: config file not found (from OPSCTL_CONFIG)"


def test_opsctl_config_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_text(tmp_path / "ops" / "custom.yaml", MINIMAL)
    write_text(tmp_path / "opsctl.yaml", MINIMAL)  # would be found by the search; the variable wins
    monkeypatch.setenv("OPSCTL_CONFIG", str(target))
    assert find_config() == target


def test_explicit_path_wins_over_opsctl_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write_text(tmp_path / "a.yaml", MINIMAL)
    monkeypatch.setenv("OPSCTL_CONFIG", str(write_text(tmp_path / "b.yaml", MINIMAL)))
    assert find_config(explicit=str(explicit)) == explicit


def test_empty_opsctl_config_means_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    monkeypatch.setenv("OPSCTL_CONFIG", "")
    assert find_config() == (tmp_path / "opsctl.yaml").resolve()


def test_search_upwards_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    deep = tmp_path / "src" / "app" / "handlers"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_config() == (tmp_path / "opsctl.yaml").resolve()


def test_nearest_config_wins(tmp_path: Path) -> None:
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    inner = write_text(tmp_path / "svc" / "opsctl.yaml", MINIMAL)
    (tmp_path / "svc" / "sub").mkdir()
    assert find_config(start=tmp_path / "svc" / "sub") == inner.resolve()


def test_a_folder_named_opsctl_yaml_is_not_a_config(tmp_path: Path) -> None:
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    (tmp_path / "sub" / "opsctl.yaml").mkdir(parents=True)
    assert find_config(start=tmp_path / "sub") == (tmp_path / "opsctl.yaml").resolve()


def test_no_config_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config()
    assert str(caught.value) == (
        f"no opsctl.yaml in {tmp_path.resolve()} or its parents; create one (see README) or pass --config PATH"
    )


def test_explicit_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(find_config(explicit="conf"))
    assert str(caught.value) == "conf: is a directory, expected a YAML config file"


def test_errors_name_files_outside_the_cwd_by_full_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_text(tmp_path / "cfg" / "opsctl.yaml", "service: hvb\n")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:1: environments: required key is missing"


def test_an_empty_explicit_path_is_an_error_not_a_search() -> None:
    write_text(Path("opsctl.yaml"), MINIMAL)  # the search would find this one
    with pytest.raises(ConfigError) as caught:
        find_config(explicit="")
    assert str(caught.value) == "--config is empty; give the path of an opsctl.yaml"
    with pytest.raises(ConfigError) as caught:
        find_config(explicit="  ")
    assert str(caught.value) == "--config is empty; give the path of an opsctl.yaml"


def test_an_explicit_broken_symlink_is_named_as_one() -> None:
    Path("opsctl.yaml").symlink_to("/nonexistent/opsctl.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(find_config(explicit="opsctl.yaml"))
    assert str(caught.value) == (
        "opsctl.yaml: is a broken symbolic link (its target /nonexistent/opsctl.yaml does not exist); "
        "expected a YAML config file"
    )


def test_a_broken_state_dir_symlink_is_not_resolved(tmp_path: Path) -> None:
    # Resolving it would create the missing target (often an unmounted volume) on the wrong disk.
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    (tmp_path / ".opsctl").symlink_to(tmp_path / "unmounted" / "state")
    assert load_config(tmp_path / "opsctl.yaml").state_path == tmp_path / ".opsctl"


def test_a_looping_state_dir_symlink_does_not_crash(tmp_path: Path) -> None:
    write_text(tmp_path / "opsctl.yaml", MINIMAL)
    (tmp_path / ".opsctl").symlink_to(tmp_path / "loop")
    (tmp_path / "loop").symlink_to(tmp_path / ".opsctl")
    assert load_config(tmp_path / "opsctl.yaml").state_path == tmp_path / ".opsctl"


# --- schema ----------------------------------------------------------------------------------------


def test_schema_is_json_and_uses_the_file_keys() -> None:
    schema = json.loads(json.dumps(config_schema()))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "opsctl.yaml"
    assert {"service", "environments", "slo", "notify", "locks", "audit"} <= set(schema["properties"])
    assert set(schema["required"]) == {"service", "environments"}
    freeze = schema["$defs"]["FreezeWindow"]
    assert {"from", "to", "reason"} == set(freeze["properties"])
    assert schema["$defs"]["Slo"]["properties"]["error_window"]["pattern"].startswith("^(")


# --- duration types for other models ---------------------------------------------------------------


def test_delay_allows_zero_where_duration_does_not() -> None:
    from pydantic import TypeAdapter, ValidationError

    from opsctl.config import Delay, Duration

    assert TypeAdapter(Delay).validate_python("0s") == 0.0
    assert TypeAdapter(Delay).validate_python("30d") == 30 * 86400
    with pytest.raises(ValidationError, match="must be at most 30d"):
        TypeAdapter(Delay).validate_python("31d")
    with pytest.raises(ValidationError, match="must be longer than 0"):
        TypeAdapter(Duration).validate_python("0s")
