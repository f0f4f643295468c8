"""Shell completion: environments, checklists, runbooks, runs (newest first), incidents, releases.

The completers are called directly, against an opsctl.yaml and an audit log
written by the real AuditLog, through both of their sources (the SQLite index
and the bounded tail read); then end to end the way a shell calls opsctl
(``_OPSCTL_COMPLETE=complete_bash`` and friends), including through real bash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
import yaml

from opsctl.audit.index import INDEX_NAME, reindex
from opsctl.audit.log import AuditLog
from opsctl.cli import completion, completion_data
from opsctl.cli.app import app
from opsctl.cli.completion import (
    complete_checklist,
    complete_env,
    complete_incident,
    complete_release,
    complete_run,
    complete_runbook,
)
from tests.support.context import base_config

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
# (run id, runbook, env, terminal status, release id): oldest first; an event every 7 minutes from 09:07.
RUNS = [
    ("r20261101-090000-aaaaaa", "deploy", "staging", "succeeded", "hvb-staging:1"),
    ("r20261102-090000-bbbbbb", "deploy", "production", "succeeded", "hvb-production:1"),
    ("r20261103-090000-cccccc", "deploy", "staging", "rolled_back", "hvb-staging:1"),
    ("r20261104-090000-dddddd", "checklist:pre-deploy", "staging", "passed", None),
    ("r20261105-090000-eeeeee", "deploy", "production", "failed", "hvb-production:2"),
    ("r20261106-090000-ffffff", "hot-patch", "production", "succeeded", "hvb-production:3"),
    ("r20261107-090000-999999", "deploy", "staging", None, None),  # still running (or killed)
]
NEWEST_FIRST = [run for run, *_ in reversed(RUNS)]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now


def write_history(log: AuditLog) -> None:
    for run, runbook, env, status, release in RUNS:
        base = {"run": run, "runbook": runbook, "env": env, "actor": "ana@example.com", "step": "run"}
        log.append({**base, "status": "started", "params": {"image": f"hvb:{run[-6:]}"}})
        log.append({**base, "step": "gates", "status": "passed", "summary": "all gates passed"})
        if status is not None:
            after = {"id": release, "image": f"hvb:{run[-6:]}"} if release else None
            log.append({**base, "status": status, "release_after": after, "verified": status == "succeeded"})
    for number, (title, severity) in enumerate((("bookings fail", "P1"), ("slow replies", "P3")), start=1):
        base = {"run": f"r2026111{number}-0900-i{number}", "runbook": "incident", "env": "production", "actor": "ana"}
        key = f"INC-{number}"
        log.append(
            {**base, "step": "incident", "status": "opened", "incident": key, "title": title, "severity": severity}
        )
    log.append({"run": "r20261115-0900-i3", "runbook": "incident", "env": "production", "actor": "ana",
                "step": "incident", "status": "resolved", "incident": "INC-1", "cause": "a bad release"})  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = base_config(state_dir="state")
    config["environments"]["development"] = {"platform": {"kind": "fly", "app": "hvb-dev"}}
    (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "smoke.yaml").write_text("title: Smoke\nitems: []\n")
    (tmp_path / "checklists" / "post-deploy.yaml").write_text("title: Ours\nitems: []\n")
    write_history(AuditLog(tmp_path / "state" / "audit.jsonl", clock=Clock()))
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "COMP_WORDS", "_TYPER_COMPLETE_ARGS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(params=["tail", "index"])
def source(request: pytest.FixtureRequest, project: Path) -> str:
    """Each history completer runs from the tail of the log and from the audit index: the same answers."""
    log = project / "state" / "audit.jsonl"
    if request.param == "index":
        reindex(log)
        assert (log.parent / INDEX_NAME).is_file()
    else:
        drop_index(project)
    return str(request.param)


def drop_index(project: Path) -> None:
    """Every append keeps an index beside the log: remove it, so that completion reads the tail."""
    for suffix in ("", "-wal", "-shm"):
        (project / "state" / (INDEX_NAME + suffix)).unlink(missing_ok=True)


def ctx() -> typer.Context:
    return typer.Context(typer.main.get_command(app), info_name="opsctl")


def typed(monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    monkeypatch.setenv("COMP_WORDS", line)


def values(found: list[tuple[str, str]]) -> list[str]:
    return [value for value, _ in found]


# --- names from opsctl.yaml and the checklist/runbook folders ---------------------------------------------------


def test_environments_in_the_files_order_with_their_platform(project: Path) -> None:
    assert complete_env(ctx(), "") == [
        ("staging", "ecs"),
        ("production", "fly · protected"),
        ("development", "fly"),
    ]
    assert complete_env(ctx(), "pro") == [("production", "fly · protected")]
    assert complete_env(ctx(), "x") == []


def test_environments_of_the_config_named_on_the_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = project / "elsewhere"
    other.mkdir()
    (other / "opsctl.yaml").write_text("environments:\n  qa: {platform: {kind: ecs}}\n")
    typed(monkeypatch, f"opsctl deploy --config {other / 'opsctl.yaml'} ")
    assert values(complete_env(ctx(), "")) == ["qa"]
    typed(monkeypatch, "opsctl deploy ")
    monkeypatch.setenv("OPSCTL_CONFIG", str(other / "opsctl.yaml"))
    assert values(complete_env(ctx(), "")) == ["qa"]


@pytest.mark.parametrize("content", ["- not a mapping\n", "environments: [\n", "environments: 7\n"])
def test_a_broken_config_offers_nothing_and_raises_nothing(project: Path, content: str) -> None:
    (project / "opsctl.yaml").write_text(content)
    assert complete_env(ctx(), "") == []
    assert complete_run(ctx(), "") == []
    assert complete_incident(ctx(), "") == []
    assert complete_release(ctx(), "") == []


def test_no_project_offers_built_in_checklists_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSCTL_CONFIG", raising=False)
    assert complete_env(ctx(), "") == []
    assert complete_run(ctx(), "") == []
    found = complete_checklist(ctx(), "")
    assert ("pre-deploy", "built-in") in found
    assert {origin for _, origin in found} == {"built-in"}


def test_checklists_built_in_and_the_projects_own(project: Path) -> None:
    found = dict(complete_checklist(ctx(), ""))
    assert found["smoke"] == "project"
    assert found["post-deploy"] == "project"  # the project's file replaces the built-in
    assert found["pre-deploy"] == "built-in"
    assert list(found) == sorted(found)
    assert values(complete_checklist(ctx(), "onb")) == [n for n in sorted(found) if n.startswith("onb")]


def test_runbooks_are_the_built_in_ones(project: Path) -> None:
    found = values(complete_runbook(ctx(), ""))
    assert {"deploy", "rollback", "hot-patch"} <= set(found)
    assert values(complete_runbook(ctx(), "ro")) == ["rollback"]


def test_built_in_folders_are_the_engines() -> None:
    from opsctl.engine.loader import builtin_dir

    for kind in ("checklists", "runbooks"):
        assert completion_data.builtin_dir(kind) == builtin_dir(kind)  # type: ignore[arg-type]


# --- ids from the audit log -------------------------------------------------------------------------------------


def test_run_ids_newest_first_with_what_each_was(source: str) -> None:
    found = complete_run(ctx(), "")
    assert values(found) == NEWEST_FIRST
    assert found[0] == ("r20261107-090000-999999", "deploy staging · running · 2026-11-01 11:13")
    assert found[-1] == ("r20261101-090000-aaaaaa", "deploy staging · succeeded · 2026-11-01 09:07")
    assert values(complete_run(ctx(), "r2026110")) == NEWEST_FIRST
    assert values(complete_run(ctx(), "r20261105")) == ["r20261105-090000-eeeeee"]


def test_run_ids_of_the_environment_on_the_line(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    production = [run for run, _, env, *_ in reversed(RUNS) if env == "production"]
    for line in (
        "opsctl logs production --run ",
        "opsctl audit show --env production --run ",
        "opsctl x --env=production",
    ):
        typed(monkeypatch, line)
        assert values(complete_run(ctx(), "")) == production, line


def test_incident_ids_newest_first_with_severity_state_and_title(source: str) -> None:
    assert complete_incident(ctx(), "") == [("INC-2", "P3 open: slow replies"), ("INC-1", "P1 resolved: bookings fail")]
    assert values(complete_incident(ctx(), "inc-1")) == ["INC-1"]


def test_release_ids_verified_in_the_environment_newest_first(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    typed(monkeypatch, "opsctl rollback production --to ")
    assert complete_release(ctx(), "") == [
        ("hvb-production:3", "hvb:ffffff · production · hot-patch 2026-11-01 10:52"),
        ("hvb-production:1", "hvb:bbbbbb · production · deploy 2026-11-01 09:28"),
    ]
    typed(monkeypatch, "opsctl rollback staging --to ")
    assert values(complete_release(ctx(), "")) == ["hvb-staging:1"]
    typed(monkeypatch, "opsctl rollback --to ")
    assert values(complete_release(ctx(), "hvb-p")) == ["hvb-production:3", "hvb-production:1"]


def test_at_most_fifty_ids_per_tab(project: Path) -> None:
    log = AuditLog(project / "state" / "audit.jsonl", clock=Clock())
    for n in range(60):
        log.append({"run": f"r2026120{n:02d}", "runbook": "deploy", "env": "staging", "actor": "a", "step": "run",
                    "status": "started"})  # fmt: skip
    found = values(complete_run(ctx(), ""))
    assert len(found) == completion.SHOWN
    assert found[:2] == ["r202612059", "r202612058"]


def test_without_an_index_only_the_tail_of_the_log_is_read(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drop_index(project)
    log = project / "state" / "audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    # The tail starts inside a line of the last-but-two run: that line is skipped, not misread.
    tail = sum(len(line) for line in lines if b"999999" in line or b"ffffff" in line) + 10
    tail += sum(len(line) for line in lines if b"incident" in line)
    monkeypatch.setattr(completion_data, "TAIL_BYTES", tail)
    assert values(complete_run(ctx(), "")) == ["r20261107-090000-999999", "r20261106-090000-ffffff"]


def test_a_missing_audit_log_offers_no_ids(project: Path) -> None:
    (project / "state" / "audit.jsonl").unlink()
    assert complete_run(ctx(), "") == []
    assert complete_incident(ctx(), "") == []


def test_typed_words_come_from_the_shells_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_TYPER_COMPLETE_ARGS", raising=False)
    monkeypatch.setenv("COMP_WORDS", "opsctl audit show --run")
    assert completion_data.typed_words() == ["audit", "show", "--run"]
    monkeypatch.setenv("_TYPER_COMPLETE_ARGS", "opsctl deploy 'stag")
    assert completion_data.typed_words() == ["deploy", "'stag"]


# --- end to end, as a shell calls opsctl ------------------------------------------------------------------------

_RUNNER = """
import atexit, sys
def report():
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"boto3", "botocore", "httpx", "git", "jinja2"})
    sys.__stdout__.write("HEAVY " + ",".join(heavy) + "\\n")
atexit.register(report)
from opsctl.cli.app import app
app(prog_name="opsctl")
"""


def shell(project: Path, line: str, kind: str = "bash") -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("OPSCTL_CONFIG", "COMP_WORDS", "_TYPER_COMPLETE_ARGS")}
    if kind == "bash":
        words = line.split(" ")
        environ.update(_OPSCTL_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    else:
        environ.update(_OPSCTL_COMPLETE=f"complete_{kind}", _TYPER_COMPLETE_ARGS=line)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    *out, heavy = done.stdout.splitlines()
    assert heavy == "HEAVY ", f"completion imported {heavy}"
    return out


def test_bash_completes_environments_and_run_ids_newest_first(project: Path) -> None:
    assert shell(project, "opsctl deploy ") == ["staging", "production", "development"]
    assert shell(project, "opsctl status pr") == ["production"]
    assert shell(project, "opsctl resume ") == NEWEST_FIRST
    assert shell(project, "opsctl audit show --run r20261106") == ["r20261106-090000-ffffff"]
    assert shell(project, "opsctl incident ack ") == ["INC-2", "INC-1"]
    assert shell(project, "opsctl hotpatch production --incident ") == ["INC-2", "INC-1"]
    assert shell(project, "opsctl rollback production --to ") == ["hvb-production:3", "hvb-production:1"]
    assert "smoke" in shell(project, "opsctl checklist run ")
    assert shell(project, "opsctl runs --env d") == ["development"]


def test_root_command_names_come_from_the_table(project: Path) -> None:
    found = shell(project, "opsctl ")
    assert found[:4] == ["version", "deploy", "rollback", "hotpatch"]
    assert "--version" in shell(project, "opsctl --")


def test_zsh_shows_the_help_beside_each_value(project: Path) -> None:
    out = "\n".join(shell(project, "opsctl resume r20261106", "zsh"))
    assert out == (
        '_arguments \'*: :(("r20261106-090000-ffffff":"hot-patch production · succeeded · 2026-11-01 10\\\\:52"))\''
    )


def test_the_bash_script_keeps_opsctls_order(project: Path) -> None:
    environ = {**os.environ, "_OPSCTL_COMPLETE": "source_bash"}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "complete -o nosort -o default -F _opsctl_completion opsctl" in done.stdout


def test_real_bash_lists_run_ids_newest_first(project: Path, tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "opsctl"
    launcher.write_text(f"#!{sys.executable}\nfrom opsctl.cli.app import app\napp(prog_name='opsctl')\n")
    launcher.chmod(0o755)
    script = (
        'eval "$(_OPSCTL_COMPLETE=source_bash opsctl)"\n'
        'COMP_WORDS=(opsctl resume ""); COMP_CWORD=2\n'
        "_opsctl_completion opsctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    environ.pop("OPSCTL_CONFIG", None)
    done = subprocess.run(
        [bash, "--norc", "-c", script],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.splitlines() == NEWEST_FIRST, done.stderr
