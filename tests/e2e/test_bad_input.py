"""Hostile input through the CLI: exit 2, one line on stderr, no traceback, quickly.

The corpus (tests/files/corpus/) holds the bad YAML as data: YAML bombs,
self-referencing anchors, complex keys, tabs, control characters, absurd
values. Each file runs as ``--config FILE config check`` and, copied into
the project's checklists/, as ``checklist run NAME``; the files under
``config/`` and ``checklists/`` only make sense as one of the two. The app
runs in-process; what only a whole process shows (a hang on a fifo, a crash
of the C parser) runs as ``python -m opsctl``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.clirunner import opsctl as run_cli

CORPUS = Path(__file__).parents[1] / "files" / "corpus"
CONFIG = 'service: hvb\nenvironments:\n  staging:\n    platform: {kind: fly, app: hvb, api_url: "http://127.0.0.1:9"}\n'
OK_CHECKLIST = 'title: OK\nitems:\n  - id: a\n    title: A\n    uses: command\n    with: {argv: ["true"]}\n'
STATE_HINT = "fix it or set state_dir in opsctl.yaml"
URL_HINT = "must be an absolute http(s) URL like https://hvb.example.com"
BOMB = "aliases expand to more than 10,000 values (a YAML bomb?); write the values out"

# What each corpus file is refused for; `{file}` is the file as the message names it.
EXPECTED = {
    "bad-date": "{file}:2: invalid YAML: not a valid timestamp: day is out of range for month",
    "billion-laughs": f"{{file}}:6: l4 -> 0: {BOMB}",
    "binary": "{file}: not a text file (binary content); expected a YAML {what}",
    "complex-key-alias": "{file}:4: items: a key must be a plain name, not a mapping",
    "complex-key-list": "{file}:2: a key must be a plain name, not a list",
    "control-character": "{file}:2: invalid YAML: control character U+0007 is not allowed",
    "deep-block": "{file}:3: items: nested more than 100 levels deep; flatten it",
    "deep-flow": "{file}:2: items: nested more than 100 levels deep; flatten it",
    "duplicate-key": "{file}:3: title: duplicate key (first at line 1)",
    "empty": "{file}: file is empty; expected a YAML mapping",
    "huge-int": "{file}:2: invalid YAML: not a valid int: "
    "exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits",
    "latin1": "{file}: not UTF-8 text (bad byte at offset 10); save it as UTF-8",
    "merge-bomb": f"{{file}}:8: l6 -> k6 -> 1: {BOMB}",
    "python-tag": "{file}:2: invalid YAML: could not determine a constructor for the tag "
    "'tag:yaml.org,2002:python/object/apply:os.system'",
    "self-reference-list": "{file}:3: items -> 1: alias *loop is inside its own anchor &loop; "
    "a value cannot contain itself",
    "self-reference-mapping": "{file}:3: environments -> staging: alias *env is inside its own anchor &env; "
    "a value cannot contain itself",
    "tab-indent": "{file}:3: invalid YAML: found character that cannot start any token",
    "top-level-list": "{file}:1: the top level is a list; expected a mapping of keys",
    "two-documents": "{file}:2: invalid YAML: but found another document",
    "undefined-alias": "{file}:1: invalid YAML: found undefined alias",
    "config/absurd-duration": "{file}:6: slo -> error_window: must be at most 30d",
    "config/api-url-not-http": f"{{file}}:4: environments -> staging -> platform -> api_url: {URL_HINT}",
    "config/base-url-without-scheme": f"{{file}}:6: environments -> staging -> health -> base_url: {URL_HINT}",
    "config/endpoint-url-bad-port": f"{{file}}:9: environments -> staging -> platform -> endpoint_url: {URL_HINT}",
    "config/zero-duration": "{file}:7: environments -> staging -> health -> timeout: must be longer than 0",
    "checklists/absurd-timeout": "{file}:7: items -> 0 -> timeout: must be at most 30d",
    "checklists/zero-timeout": "{file}:7: items -> 0 -> timeout: must be longer than 0",
}
CASES = [
    *((name, "config") for name in EXPECTED if not name.startswith("checklists/")),
    *((name, "checklist") for name in EXPECTED if not name.startswith("config/")),
]


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str

    def error(self) -> str:
        """The one stderr line of a refused command (asserting there is exactly one, and no traceback)."""
        assert "Traceback" not in self.out + self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


def opsctl(*args: str, env: dict[str, str] | None = None) -> Done:
    """The Typer app in-process, in the current folder (the project): fast enough for the whole corpus."""
    done = run_cli(*args, env={"NO_COLOR": "1", **(env or {})})
    return Done(done.code, done.out, done.err)


def opsctl_process(project: Path, *args: str, env: dict[str, str] | None = None) -> Done:
    """``python -m opsctl``: for what must hold for a whole process (no crash of the C parser, no hang)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPSCTL_")}
    # The subprocess timeout only reaps a hung child; the test's timeout mark is what fails the test.
    done = subprocess.run(
        [sys.executable, "-m", "opsctl", *args],
        cwd=project,
        env={**clean, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=25,
        check=False,
    )
    return Done(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPSCTL_CONFIG", raising=False)
    (tmp_path / "opsctl.yaml").write_text(CONFIG)
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "ok.yaml").write_text(OK_CHECKLIST)
    return tmp_path


def test_every_corpus_file_has_an_expected_message() -> None:
    files = {str(p.relative_to(CORPUS).with_suffix("")) for p in CORPUS.rglob("*.yaml")}
    assert files == set(EXPECTED)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{mode}:{name}" for name, mode in CASES])
def test_corpus_file_is_refused_in_one_line(project: Path, name: str, mode: str) -> None:
    stem = Path(name).name
    if mode == "config":
        label = f"bad/{stem}.yaml"
        (project / "bad").mkdir()
        shutil.copy(CORPUS / f"{name}.yaml", project / label)
        done = opsctl("--config", label, "config", "check")
        what = "config file"
    else:
        label = f"checklists/{stem}.yaml"
        shutil.copy(CORPUS / f"{name}.yaml", project / label)
        done = opsctl("checklist", "run", stem, "--env", "staging")
        what = "checklist"
    assert (done.code, done.out) == (2, "")
    assert done.error() == "error: " + EXPECTED[name].format(file=label, what=what)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((CORPUS / "billion-laughs.yaml").read_text(), f"bomb.yaml:6: l4 -> 0: {BOMB}"),
        ("items:\n  " + "- " * 200_000 + "x\n", "bomb.yaml:2: items: nested more than 100 levels deep; flatten it"),
    ],
    ids=["billion-laughs", "200k-levels"],
)
def test_a_bomb_does_not_hang_or_crash_the_process(project: Path, content: str, message: str) -> None:
    # In a process of its own: before the guard, the first grew by 50 MB/s and the second segfaulted libyaml.
    (project / "bomb.yaml").write_text(content)
    done = opsctl_process(project, "--config", "bomb.yaml", "config", "check")
    assert (done.code, done.out) == (2, "")
    assert done.error() == f"error: {message}"


# --- what --config names -----------------------------------------------------------------------------


def _fifo(project: Path) -> str:
    os.mkfifo(project / "pipe.yaml")
    return "pipe.yaml"


def _folder(project: Path) -> str:
    (project / "conf").mkdir()
    return "conf"


def _broken_link(project: Path) -> str:
    (project / "link.yaml").symlink_to("moved/opsctl.yaml")
    return "link.yaml"


def _loop(project: Path) -> str:
    (project / "a.yaml").symlink_to("b.yaml")
    (project / "b.yaml").symlink_to("a.yaml")
    return "a.yaml"


def _huge(project: Path) -> str:
    # A valid file with one 1.5 MiB scalar: refused by its size, before any of it is read.
    (project / "huge.yaml").write_text(CONFIG + "    vars: {blob: " + "x" * (3 * 512 * 1024) + "}\n")
    return "huge.yaml"


def _under_a_file(project: Path) -> str:
    return "opsctl.yaml/opsctl.yaml"


CONFIG_PATHS = {
    "fifo": (_fifo, "pipe.yaml: is a named pipe (fifo), not a regular file; expected a YAML config file"),
    "dev-zero": (lambda _p: "/dev/zero", "/dev/zero: is a device, not a regular file; expected a YAML config file"),
    "folder": (_folder, "conf: is a directory, expected a YAML config file"),
    "empty": (lambda _p: "", "--config is empty; give the path of an opsctl.yaml"),
    "broken-symlink": (
        _broken_link,
        "link.yaml: is a broken symbolic link (its target moved/opsctl.yaml does not exist); "
        "expected a YAML config file",
    ),
    "symlink-loop": (_loop, "cannot read a.yaml: too many levels of symbolic links (a symlink loop?)"),
    "over-1-mib": (_huge, "huge.yaml: too large (1.5 MiB; a YAML config file may be at most 1 MiB)"),
    "under-a-file": (_under_a_file, "opsctl.yaml/opsctl.yaml: config file not found (from --config)"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", list(CONFIG_PATHS))
def test_config_path_is_refused_in_one_line(project: Path, case: str) -> None:
    make, message = CONFIG_PATHS[case]
    done = opsctl("--config", make(project), "config", "check")
    assert (done.code, done.out) == (2, "")
    assert done.error() == f"error: {message}"


@pytest.mark.timeout(30)
def test_opsctl_config_naming_a_fifo_does_not_block(project: Path) -> None:
    done = opsctl_process(project, "config", "check", env={"OPSCTL_CONFIG": _fifo(project)})
    assert (done.code, done.out) == (2, "")
    assert done.error() == "error: pipe.yaml: is a named pipe (fifo), not a regular file; expected a YAML config file"


@pytest.mark.timeout(30)
def test_a_checklist_that_is_a_fifo_does_not_block(project: Path) -> None:
    os.mkfifo(project / "checklists" / "pipe.yaml")
    done = opsctl_process(project, "checklist", "run", "pipe", "--env", "staging")
    assert (done.code, done.out) == (2, "")
    assert done.error() == (
        "error: checklists/pipe.yaml: is a named pipe (fifo), not a regular file; expected a YAML checklist"
    )


# --- the state folder ----------------------------------------------------------------------------------


def _state_under_a_file(project: Path) -> str:
    (project / "plain").write_text("x")
    return "plain/state"


def _state_is_a_file(project: Path) -> str:
    (project / "state").write_text("x")
    return "state"


def _state_broken_link(project: Path) -> str:
    (project / "state").symlink_to("unmounted/opsctl")
    return "state"


STATE_DIRS = {
    "under-a-file": (_state_under_a_file, "plain/state: a part of the path is a file, not a directory"),
    "a-file": (_state_is_a_file, "state: not a directory"),
    "broken-symlink": (
        _state_broken_link,
        "state: is a broken symbolic link (its target unmounted/opsctl does not exist)",
    ),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", list(STATE_DIRS))
def test_an_unusable_state_dir_is_one_line(project: Path, case: str) -> None:
    make, problem = STATE_DIRS[case]
    (project / "opsctl.yaml").write_text(CONFIG + f"state_dir: {make(project)}\n")
    done = opsctl("checklist", "run", "ok", "--env", "staging")
    assert done.code == 2
    assert done.error() == f"error: state folder {problem}; {STATE_HINT}"
    assert not (project / "unmounted").exists()  # a broken link's target is not created


# --- absurd values on the command line -----------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--since", "999999999d"], "error: --since 999999999d: must be at most "),
        (
            ["audit", "show", "--since", "99999999999999999999h"],
            "error: --since 99999999999999999999h: must be at most ",
        ),
        (
            ["deploy", "staging", "--image", "hvb:1.8.0", "--timeout", "0s"],
            "error: --timeout 0s: must be longer than 0",
        ),
        (
            ["deploy", "staging", "--image", "hvb:1.8.0", "--timeout", "99999999999999999999h"],
            "error: --timeout 99999999999999999999h: must be at most 30d",
        ),
    ],
    ids=["report-since", "audit-since", "timeout-zero", "timeout-absurd"],
)
def test_absurd_durations_are_bad_input(project: Path, args: list[str], message: str) -> None:
    done = opsctl(*args)
    assert done.code == 2
    assert done.error().startswith(message)
