"""The CLI edge of the core: commands, output modes, exit codes and the exact one-line errors.

Most tests run the Typer app in-process (``CliRunner``); a few run ``python -m opsctl``
as a real process for what only a process shows (tracebacks, imports, signals).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl import __version__
from opsctl.cli.application import Application
from tests.support.clirunner import ACTOR, one_error, opsctl
from tests.support.context import FIXED_NOW, base_config
from tests.support.util import builtins, checklist, command_item, py, write_checklist, write_text

__all__ = ["builtins"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builtins: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "NO_COLOR", "FORCE_COLOR", "HVB_TEST_HOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A valid opsctl.yaml and one passing checklist, `smoke`."""
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(base_config(), sort_keys=False))
    write_checklist(
        tmp_path, "smoke", checklist(command_item("ok", py("print('fine')"), title="All fine"), title="Smoke")
    )
    return tmp_path


# --- version, help, output modes --------------------------------------------------------------------------------


def test_version() -> None:
    result = opsctl("version")
    assert (result.code, result.out, result.err) == (0, f"opsctl {__version__}\n", "")


def test_version_json() -> None:
    result = opsctl("--json", "version")
    assert result.code == 0
    assert json.loads(result.out) == {"version": __version__, "python": sys.version.split()[0]}


def test_help_lists_the_core_commands() -> None:
    result = opsctl("--help")
    assert result.code == 0
    for command in ("version", "config", "checklist", "audit"):
        assert re.search(rf"^\s+{command}\s+\S", result.out, re.M), command


def test_no_arguments_shows_help_and_succeeds() -> None:
    result = opsctl()
    assert result.code == 0
    assert result.out.startswith("Usage: ")
    assert result.err == ""


def test_no_color_env_and_flag(project: Path) -> None:
    coloured = opsctl("audit", "verify", env={"FORCE_COLOR": "1"})
    assert "\x1b[32m" in coloured.out  # the green tick, when colour is allowed

    for result in (
        opsctl("audit", "verify", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}),
        opsctl("--no-color", "audit", "verify", env={"FORCE_COLOR": "1"}),
    ):
        assert result.code == 0
        assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", result.out), result.out
        assert "audit log intact" in result.out


# --- config check / schema --------------------------------------------------------------------------------------


def test_config_check_summarises_the_environments(project: Path) -> None:
    result = opsctl("config", "check")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "✓ config is valid: 2 environment(s)"
    assert re.search(r"staging\s+│\s+ecs hvb-staging/hotel-voice-bot \(eu-west-1\)\s+│\s+no", result.out)
    assert re.search(r"production\s+│\s+fly app hvb \(rolling\)\s+│\s+yes", result.out)


def test_config_check_json(project: Path) -> None:
    result = opsctl("--json", "config", "check")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["config"] == str((project / "opsctl.yaml").resolve())
    assert data["service"] == "hotel-voice-bot"
    assert [(e["environment"], e["platform"], e["protected"]) for e in data["environments"]] == [
        ("staging", "ecs hvb-staging/hotel-voice-bot (eu-west-1)", False),
        ("production", "fly app hvb (rolling)", True),
    ]


def test_config_check_with_config_option_from_another_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert opsctl("--config", "../opsctl.yaml", "config", "check").code == 0
    assert opsctl("config", "check", env={"OPSCTL_CONFIG": str(project / "opsctl.yaml")}).code == 0


def test_config_check_searches_upwards(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project / "src" / "deep")
    result = opsctl("--json", "config", "check")
    assert result.code == 0
    assert json.loads(result.out)["config"] == str((project / "opsctl.yaml").resolve())


def test_config_schema_is_json_and_needs_no_config() -> None:
    result = opsctl("config", "schema")
    assert result.code == 0
    schema = json.loads(result.out)
    assert "environments" in schema["properties"]
    assert schema["title"] == "opsctl.yaml"


# --- checklist list / show / run --------------------------------------------------------------------------------


ONE_MANUAL = "items:\n  - {id: x, title: X, uses: manual}\n"


def test_checklist_list(project: Path, builtins: Path) -> None:
    write_text(builtins / "checklists" / "smoke.yaml", "title: Built-in smoke\n" + ONE_MANUAL)
    write_text(builtins / "checklists" / "post-deploy.yaml", "title: Post\n" + ONE_MANUAL)

    result = opsctl("--json", "checklist", "list")
    assert result.code == 0
    rows = json.loads(result.out)
    assert [(r["name"], r["origin"], r["title"], r["items"]) for r in rows] == [
        ("post-deploy", "built-in", "Post", 1),
        ("smoke", "project", "Smoke", 1),
    ]

    plain = opsctl("checklist", "list")
    assert re.search(r"smoke\s+│\s+Smoke\s+│\s+1\s+│\s+project", plain.out)


def test_checklist_list_outside_a_project_shows_builtins(builtins: Path) -> None:
    write_text(builtins / "checklists" / "post-deploy.yaml", "title: Post\n" + ONE_MANUAL)
    result = opsctl("--json", "checklist", "list")
    assert result.code == 0
    assert [r["name"] for r in json.loads(result.out)] == ["post-deploy"]


def test_checklist_show(project: Path) -> None:
    result = opsctl("checklist", "show", "smoke")
    assert result.code == 0
    assert f"Smoke (project: {project / 'checklists' / 'smoke.yaml'})" in result.out
    assert re.search(r"ok\s+│\s+All fine\s+│\s+command\s+│\s+yes", result.out)

    data = json.loads(opsctl("--json", "checklist", "show", "smoke").out)
    assert data["name"] == "smoke"
    assert [i["id"] for i in data["items"]] == ["ok"]
    assert data["items"][0]["with"]["argv"][0] == sys.executable


def test_checklist_run_passes(project: Path) -> None:
    result = opsctl("checklist", "run", "smoke", "--env", "staging")
    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    assert lines[0] == "== Smoke (smoke)"
    assert re.fullmatch(r"PASS  ok  exit 0 in \S+: .+ \(\d+ms\)", lines[1])
    assert lines[-1] == "Smoke: passed (1 passed)"


def test_checklist_run_json_is_one_event_per_line(project: Path) -> None:
    result = opsctl("--json", "checklist", "run", "smoke", "--env", "staging")
    assert result.code == 0
    events = [json.loads(line) for line in result.out.splitlines()]
    assert [e["event"] for e in events] == [
        "checklist.started",
        "item.started",
        "item.finished",
        "checklist.finished",
        "run.finished",  # the summary ends every run's JSON Lines
    ]
    for finished in events[-2:]:
        assert finished["status"] == "passed"
        assert finished["items"][0]["detail"]["output_tail"] == ["fine"]
    assert (events[-1]["ok"], events[-1]["exit_code"], events[-1]["summary"]) == (True, 0, "Smoke: passed (1 passed)")


def test_blocking_failure_exits_1(project: Path) -> None:
    write_checklist(
        project,
        "gate",
        checklist(
            command_item("tests", py("import sys; print('2 failed'); sys.exit(1)")),
            command_item("ok", py("pass")),
            title="Gate",
        ),
    )
    result = opsctl("checklist", "run", "gate")
    assert result.code == 1
    assert result.err == ""
    assert "FAIL  tests  exit 1 (expected 0): " in result.out
    assert result.out.splitlines()[-2:] == [
        "Gate: failed (1 passed, 1 failed)",
        "blocking failures: tests; fix them and run again",
    ]


def test_non_blocking_failure_warns_and_exits_0(project: Path) -> None:
    write_checklist(
        project, "gate", checklist(command_item("lint", py("raise SystemExit(2)"), blocking=False), title="Gate")
    )
    result = opsctl("checklist", "run", "gate")
    assert result.code == 0
    assert re.search(r"^FAIL  lint  exit 2 \(expected 0\): .+ \[non-blocking\]$", result.out, re.M)
    assert result.out.splitlines()[-1] == "Gate: passed with warnings (1 failed)"


def test_manual_item_without_a_terminal_exits_1_naming_confirm(project: Path) -> None:
    write_checklist(
        project, "gate", checklist({"id": "code-review", "title": "Code reviewed", "uses": "manual"}, title="Gate")
    )
    result = opsctl("checklist", "run", "gate")
    assert result.code == 1
    assert re.search(
        r"^FAIL  code-review  needs a person to confirm: run in a terminal, or pass --confirm code-review "
        r"once it is done \(\d+ms\)$",
        result.out,
        re.M,
    )

    confirmed = opsctl("checklist", "run", "gate", "--confirm", "code-review")
    assert confirmed.code == 0
    assert f"PASS  code-review  confirmed with --confirm code-review by {ACTOR}" in confirmed.out


@pytest.mark.parametrize(
    ("answers", "code", "summary"),
    [
        ("y\n", 0, f"confirmed by {ACTOR}"),
        ("n\nno load test yet\n", 1, f"not confirmed by {ACTOR}: no load test yet"),
        # A blocking item is done or waived: a person's skip fails it (issue 13), the reason still recorded.
        (
            "s\n\nfrozen by INC-42\n",
            1,
            f"skipped by {ACTOR}: frozen by INC-42; a blocking item needs a waiver to go ahead: "
            "--waive perf --reason TEXT --approved-by NAME",
        ),
    ],
    ids=["yes", "no", "skip-asks-again-for-a-reason"],
)
def test_a_person_answers_at_the_terminal(project: Path, answers: str, code: int, summary: str) -> None:
    perf = {"id": "perf", "title": "Perf tests done", "uses": "manual", "with": {"instructions": "see the dashboard"}}
    write_checklist(project, "gate", checklist(perf, title="Gate"))
    terminal = Application(interactive=True, actor=ACTOR, clock=lambda: FIXED_NOW)
    result = opsctl("checklist", "run", "gate", input=answers, application=terminal)

    assert result.code == code
    assert "Perf tests done (perf)" in result.out
    assert "see the dashboard" in result.out
    logged = [json.loads(line) for line in (project / ".opsctl" / "audit.jsonl").read_text().splitlines()]
    assert [e["summary"] for e in logged if e["step"] == "gate/perf" and e["status"] != "started"] == [summary]


def test_dry_run_and_set(project: Path) -> None:
    marker = project / "deployed"
    write_checklist(
        project,
        "gate",
        checklist(
            command_item("say", ["echo", "{{ params.image }} to {{ env.name }}"]),
            command_item(
                "deploy", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker)), mutates=True
            ),
            title="Gate",
        ),
    )
    result = opsctl("--json", "checklist", "run", "gate", "--env", "staging", "--dry-run", "--set", "image=hvb:1.8.0")
    assert result.code == 0
    finished = json.loads(result.out.splitlines()[-1])
    assert [(i["id"], i["status"]) for i in finished["items"]] == [("say", "passed"), ("deploy", "skipped")]
    assert finished["items"][0]["detail"]["output_tail"] == ["hvb:1.8.0 to staging"]
    assert not marker.exists()


# --- every bad input: exit 2 and exactly one `error:` line ---------------------------------------------------

GOOD = yaml.safe_dump(base_config(), sort_keys=False)
ENV = "service: hvb\nenvironments:\n  staging:\n    platform: {kind: fly, app: a}\n"


def _checklist(body: str) -> dict[str, str]:
    return {"opsctl.yaml": GOOD, "checklists/gate.yaml": body}


RUN_GATE = ("checklist", "run", "gate", "--env", "staging")
CONFIG_CHECK = ("config", "check")
ITEM = "title: T\nitems:\n  - id: a\n    title: A\n    uses: command\n"
TRUE = ITEM + "    with: {argv: ['true']}\n"
MANUAL_B = "  - {id: b, title: B, uses: manual}\n"
FREEZE = "    freeze:\n      - {{from: '{start}', to: '{end}'}}\n"

BAD_INPUT: list[tuple[str, dict[str, str], tuple[str, ...], str]] = [
    (
        "kind",
        {"opsctl.yaml": "service: hvb\nenvironments:\n  staging:\n    platform:\n      kind: ecz\n"},
        CONFIG_CHECK,
        "opsctl.yaml:5: environments -> staging -> platform -> kind: expected 'ecs' or 'fly' or 'kubernetes'",
    ),
    (
        "missing-key",
        {"opsctl.yaml": ENV.replace("kind: fly, app: a", "kind: ecs, cluster: c, service: s")},
        CONFIG_CHECK,
        "opsctl.yaml:4: environments -> staging -> platform -> container: required key is missing",
    ),
    (
        "unknown-key",
        {"opsctl.yaml": ENV + "    colour: red\n"},
        CONFIG_CHECK,
        "opsctl.yaml:5: environments -> staging -> colour: unknown key; check the spelling (see `opsctl config schema`)",  # noqa: E501
    ),
    (
        "duration",
        {"opsctl.yaml": ENV + "slo: {error_window: soon}\n"},
        CONFIG_CHECK,
        "opsctl.yaml:5: slo -> error_window: must be a duration like 30s or 5m",
    ),
    (
        "inline-secret",
        {"opsctl.yaml": ENV + "notify:\n  slack: {webhook: 'https://hooks.slack.com/services/T/B/x'}\n"},
        CONFIG_CHECK,
        "opsctl.yaml:6: notify -> slack -> webhook: looks like an inline secret; put the value in an "
        "environment variable and name it with webhook_env",
    ),
    (
        "url-password",
        {"opsctl.yaml": ENV + "    health: {base_url: 'https://u:pw@h.example.com'}\n"},
        CONFIG_CHECK,
        "opsctl.yaml:5: environments -> staging -> health -> base_url: URL carries a password; pass credentials "
        "through an environment variable",
    ),
    (
        "freeze",
        {"opsctl.yaml": ENV + FREEZE.format(start="2026-12-27T00:00:00Z", end="2026-12-24T00:00:00Z")},
        CONFIG_CHECK,
        "opsctl.yaml:6: environments -> staging -> freeze -> 0: 'to' must be after 'from'",
    ),
    (
        "freeze-zone",
        {"opsctl.yaml": ENV + FREEZE.format(start="2026-12-24T00:00:00Z", end="2026-12-27T00:00:00")},
        CONFIG_CHECK,
        "opsctl.yaml:6: environments -> staging -> freeze -> 0: give times with a zone, like 2026-12-24T00:00:00Z",
    ),
    (
        "unknown-env",
        {"opsctl.yaml": GOOD, "checklists/gate.yaml": ITEM + "    with: {argv: ['true']}\n"},
        ("checklist", "run", "gate", "--env", "prod"),
        "unknown environment 'prod' (defined in opsctl.yaml: staging, production)",
    ),
    (
        "no-config",
        {},
        CONFIG_CHECK,
        "no opsctl.yaml in {tmp} or its parents; create one (see README) or pass --config PATH",
    ),
    (
        "config-option-missing",
        {},
        ("--config", "nope.yaml", "config", "check"),
        "nope.yaml: config file not found (from --config)",
    ),
    (
        "yaml-malformed",
        {"opsctl.yaml": "service: hvb\nenvironments:\n  staging: [a, b\n  prod: 1\n"},
        CONFIG_CHECK,
        "opsctl.yaml:4: invalid YAML: did not find expected ',' or ']'",
    ),
    ("yaml-empty", {"opsctl.yaml": ""}, CONFIG_CHECK, "opsctl.yaml: file is empty; expected a YAML mapping"),
    (
        "yaml-comments",
        {"opsctl.yaml": "# service: hvb\n"},
        CONFIG_CHECK,
        "opsctl.yaml: file is empty; expected a YAML mapping",
    ),
    (
        "yaml-list",
        {"opsctl.yaml": "- service\n"},
        CONFIG_CHECK,
        "opsctl.yaml:1: the top level is a list; expected a mapping of keys",
    ),
    (
        "yaml-string",
        {"opsctl.yaml": "hotel-voice-bot\n"},
        CONFIG_CHECK,
        "opsctl.yaml:1: the top level is a single value; expected a mapping of keys",
    ),
    (
        "yaml-duplicate",
        {"opsctl.yaml": ENV + "service: other\n"},
        CONFIG_CHECK,
        "opsctl.yaml:5: service: duplicate key (first at line 1)",
    ),
    (
        "unknown-action",
        _checklist("title: T\nitems:\n  - id: a\n    title: A\n    uses: nope.x\n"),
        RUN_GATE,
        "checklists/gate.yaml:5: items -> 0 -> uses: unknown action 'nope.x' (known: {actions})",
    ),
    (
        "missing-with",
        _checklist(ITEM),
        RUN_GATE,
        "checklists/gate.yaml:3: items -> 0 -> with: missing required key 'argv' for command",
    ),
    (
        "unknown-with",
        _checklist(ITEM + "    with: {argv: ['true'], shell: true}\n"),
        RUN_GATE,
        "checklists/gate.yaml:6: items -> 0 -> with -> shell: unknown key for command "
        "(known: argv, timeout, cwd, env, tail, exit_code)",
    ),
    (
        "duplicate-id",
        _checklist(TRUE + "  - {id: a, title: B, uses: manual}\n"),
        RUN_GATE,
        "checklists/gate.yaml:7: items -> 1 -> id: duplicate id 'a' (also item 1)",
    ),
    (
        "needs-unknown",
        _checklist(TRUE + "    needs: [build]\n"),
        RUN_GATE,
        "checklists/gate.yaml:7: items -> 0 -> needs: no item with id 'build' in this checklist",
    ),
    (
        "needs-later",
        _checklist(TRUE + "    needs: [b]\n" + MANUAL_B),
        RUN_GATE,
        "checklists/gate.yaml:7: items -> 0 -> needs: 'b' must come before 'a'",
    ),
    (
        "template-undefined",
        _checklist(ITEM + "    with:\n      argv: ['echo', '{{ relase.image }}']\n"),
        RUN_GATE,
        "checklists/gate.yaml:6: items -> 0 -> with: template error: 'relase' is undefined",
    ),
    (
        "sandbox",
        _checklist(ITEM + "    with:\n      argv: ['echo', \"{{ ''.__class__.__mro__ }}\"]\n"),
        RUN_GATE,
        "checklists/gate.yaml:6: items -> 0 -> with: template refused by the sandbox: "
        "access to attribute '__class__' of 'str' object is unsafe.",
    ),
    (
        "unknown-checklist",
        {"opsctl.yaml": GOOD, "checklists/smoke.yaml": ITEM + "    with: {argv: ['true']}\n"},
        ("checklist", "run", "pre-deploy"),
        "no checklist named 'pre-deploy' (available: smoke)",
    ),
    (
        "bad-checklist-name",
        {"opsctl.yaml": GOOD},
        ("checklist", "show", "../x"),
        "'../x' is not a checklist name (use letters, digits and dashes, like pre-deploy)",
    ),
    (
        "bad-set",
        {"opsctl.yaml": GOOD, "checklists/gate.yaml": ITEM + "    with: {argv: ['true']}\n"},
        ("checklist", "run", "gate", "--set", "image"),
        "--set takes key=value, got 'image'",
    ),
    (
        "bad-since",
        {"opsctl.yaml": GOOD},
        ("audit", "show", "--since", "lately"),
        "--since lately: must be a duration like 30d, 12h or 90m, or a date like 2026-11-01 or 2026-11-01T09:30Z",
    ),
    ("unknown-command", {}, ("frobnicate",), "No such command 'frobnicate'. (see 'opsctl --help')"),
    ("unknown-option", {}, ("--bogus", "version"), "No such option: --bogus (see 'opsctl --help')"),
    ("missing-argument", {}, ("checklist", "run"), "Missing argument 'name'. (see 'opsctl checklist run --help')"),
    (
        "bad-option-value",
        {"opsctl.yaml": GOOD},
        ("audit", "show", "--limit", "0"),
        "Invalid value for '--limit': Input should be greater than or equal to 1 (see 'opsctl audit show --help')",
    ),
]


@pytest.mark.parametrize(
    ("files", "argv", "message"), [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
def test_bad_input_exits_2_with_one_error_line(
    tmp_path: Path, files: dict[str, str], argv: tuple[str, ...], message: str
) -> None:
    from opsctl.engine.actions import all_actions

    for name, text in files.items():
        write_text(tmp_path / name, text)
    result = opsctl(*argv)

    expected = message.format(tmp=tmp_path.resolve(), actions=", ".join(all_actions()))
    assert one_error(result) == f"error: {expected}"
    assert result.code == 2
    assert result.out == ""


def test_opsctl_config_that_does_not_exist(tmp_path: Path) -> None:
    result = opsctl("config", "check", env={"OPSCTL_CONFIG": str(tmp_path / "gone.yaml")})
    assert result.code == 2
    assert one_error(result) == f"error: {tmp_path / 'gone.yaml'}: config file not found (from OPSCTL_CONFIG)"


def test_binary_and_non_utf8_config(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert one_error(opsctl("config", "check")) == (
        "error: opsctl.yaml: not a text file (binary content); expected a YAML config file"
    )
    (tmp_path / "opsctl.yaml").write_bytes("service: Zürich\n".encode("latin-1"))
    result = opsctl("config", "check")
    assert (result.code, one_error(result)) == (
        2,
        "error: opsctl.yaml: not UTF-8 text (bad byte at offset 10); save it as UTF-8",
    )


def test_bad_input_leaves_no_item_run(project: Path) -> None:
    marker = project / "ran"
    write_checklist(
        project,
        "gate",
        checklist(
            command_item("first", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker))),
            command_item("second", ["echo", "{{ params.missing }}"]),
        ),
    )
    result = opsctl("checklist", "run", "gate")
    assert result.code == 2
    lines = (project / "checklists" / "gate.yaml").read_text().splitlines()
    with_line = [n for n, line in enumerate(lines, start=1) if line.strip() == "with:"][1]  # the second item's
    assert one_error(result) == (
        f"error: checklists/gate.yaml:{with_line}: items -> 1 -> with: template error: "
        "'dict object' has no attribute 'missing'"
    )
    assert not marker.exists()


def test_project_checklist_overrides_builtin_through_the_cli(project: Path, builtins: Path) -> None:
    write_text(builtins / "checklists" / "smoke.yaml", "title: Built-in\n" + ONE_MANUAL)
    result = opsctl("--json", "checklist", "run", "smoke")
    assert result.code == 0
    assert [i["id"] for i in json.loads(result.out.splitlines()[-1])["items"]] == ["ok"]


# --- real processes ------------------------------------------------------------------------------------------


def run_process(args: list[str], cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "opsctl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**environ, "OPSCTL_ACTOR": ACTOR, **env},
        check=False,
    )


def test_a_real_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text("service: hvb\nenvironments:\n  staging:\n    platform: {kind: k8s}\n")
    done = run_process(["config", "check"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: opsctl.yaml:4: environments -> staging -> platform -> kind: expected 'ecs' or 'fly' or 'kubernetes'\n"
    )


def test_a_real_process_reports_usage_errors_as_bad_input(tmp_path: Path) -> None:
    done = run_process(["frobnicate"], tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == ["error: No such command 'frobnicate'. (see 'python -m opsctl --help')"]


def test_help_does_not_import_the_heavy_libraries(tmp_path: Path) -> None:
    script = """
import sys
from opsctl.cli.app import app
try:
    app(["--help"])
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"boto3", "botocore", "httpx", "git", "jinja2"})
print("LOADED", code, ",".join(heavy))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert "Commands:" in done.stdout  # the help was really printed
    assert done.stdout.splitlines()[-1] == "LOADED 0 "


def test_runs_without_the_standalone_click_package(tmp_path: Path) -> None:
    # opsctl declares typer, not click; recent typer releases vendor click instead of depending on it,
    # so a clean install has no `click` module (here one is installed only for moto's Flask).
    script = """
import sys
sys.modules["click"] = None  # as in a clean install of opsctl's declared dependencies
from opsctl.cli.app import app
try:
    app(["version"])
except SystemExit as exc:
    print("EXIT", exc.code)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.splitlines()[-1:]
    assert done.stdout.splitlines() == [f"opsctl {__version__}", "EXIT 0"]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text("- not a mapping\n")
    done = run_process(["--debug", "config", "check"], tmp_path)
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "opsctl.yaml:1: the top level is a list; expected a mapping of keys" in done.stderr


def test_ctrl_c_during_a_run_exits_130_promptly(tmp_path: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(base_config(), sort_keys=False))
    interrupt = py("import os, signal, time; os.kill(os.getppid(), signal.SIGINT); time.sleep(8)")
    write_checklist(tmp_path, "core-cli-interrupt", checklist(command_item("long", interrupt), title="Long"))

    started = time.monotonic()
    done = run_process(["checklist", "run", "core-cli-interrupt"], tmp_path)
    elapsed = time.monotonic() - started

    assert done.returncode == 130
    assert re.fullmatch(
        r"error: interrupted; run r\d{8}-\d{6}-[0-9a-f]{6} is journaled in the audit log\n", done.stderr
    )
    assert elapsed < 5, f"opsctl waited {elapsed:.1f}s for the interrupted command to finish"
    logged = [(e["step"], e["status"]) for e in map(json.loads, (tmp_path / ".opsctl/audit.jsonl").open())]
    assert ("run", "interrupted") in logged
    assert ("core-cli-interrupt/long", "passed") not in logged  # it was stopped, not waited for


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_json_checklist_run_in_a_real_process(project: Path) -> None:
    done = run_process(["--json", "checklist", "run", "smoke", "--env", "staging"], project)
    assert done.returncode == 0, done.stderr
    assert [e["event"] for e in _json_lines(done.stdout)[-2:]] == ["checklist.finished", "run.finished"]
