"""``opsctl audit reindex`` and ``opsctl releases --limit/--all``: output, --json, and every bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.audit.index.helpers import index_file, log_file, make_project
from tests.support.clirunner import one_error, opsctl


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("reindex"), 3000)


@pytest.fixture
def project(built: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(built)
    return built


def test_reindex_rebuilds_and_says_what_it_holds(project: Path) -> None:
    index_file(project).unlink(missing_ok=True)
    result = opsctl("audit", "reindex")
    assert result.code == 0
    text = " ".join(result.out.split())
    size = log_file(project).stat().st_size
    events = log_file(project).read_bytes().count(b"\n")
    assert text.startswith("✓ audit index rebuilt: ")
    assert f"runs, {events:,} events ({size / 1e6:,.1f} MB of log) in " in text
    assert text.endswith(f"s ({index_file(project)})")
    assert index_file(project).is_file()


def test_reindex_json(project: Path) -> None:
    result = opsctl("--json", "audit", "reindex")
    assert result.code == 0
    document = json.loads(result.out)
    assert list(document) == ["path", "runs", "lines", "bytes", "seconds"]
    assert document["path"] == str(index_file(project))
    assert document["lines"] == log_file(project).read_bytes().count(b"\n")
    assert document["bytes"] == log_file(project).stat().st_size
    assert document["runs"] > 50


def test_reindex_without_a_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text((project / "opsctl.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    result = opsctl("audit", "reindex")
    assert (result.code, result.out.strip()) == (
        0,
        f"no audit events yet ({tmp_path / '.opsctl' / 'audit.jsonl'}): the index is empty",
    )


def test_reindex_where_the_index_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    (tmp_path / "opsctl.yaml").write_text((project / "opsctl.yaml").read_text())
    (tmp_path / ".opsctl").mkdir()
    log_file(tmp_path).write_bytes(log_file(project).read_bytes())
    index_file(tmp_path).mkdir()
    monkeypatch.chdir(tmp_path)
    result = opsctl("audit", "reindex")
    assert result.code == 2
    assert one_error(result) == (
        "error: audit index .opsctl/index.sqlite: is a directory, expected a file; "
        "commands still read the audit log itself"
    )
    assert opsctl("runs").code == 0  # and the history is still there, read from the log


def test_reindex_of_a_log_that_is_a_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    (tmp_path / "opsctl.yaml").write_text((project / "opsctl.yaml").read_text())
    (tmp_path / ".opsctl").mkdir()
    os.symlink(log_file(project), log_file(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = opsctl("audit", "reindex")
    assert result.code == 2
    assert one_error(result) == (
        f"error: audit log .opsctl/audit.jsonl: is a symbolic link (to {log_file(project)}); the audit log must be "
        "a regular file: replace the link with the file itself"
    )


def test_releases_shows_the_newest_twenty_and_says_how_to_see_more(project: Path) -> None:
    every = json.loads(opsctl("--json", "releases", "staging", "--all").out)
    assert len(every) > 25
    assert json.loads(opsctl("--json", "releases", "staging").out) == every[:20]
    assert json.loads(opsctl("--json", "releases", "staging", "--limit", "3").out) == every[:3]
    shown = opsctl("releases", "staging", "--limit", "3")
    assert shown.code == 0
    assert "the newest 3; older ones: opsctl releases staging --all (or --limit N)" in shown.out
    assert "older ones" not in opsctl("releases", "staging", "--all").out
    assert "older ones" not in opsctl("releases", "staging", "--limit", str(len(every))).out


def test_releases_all_and_limit_together(project: Path) -> None:
    result = opsctl("releases", "staging", "--all", "--limit", "5")
    assert result.code == 2
    assert one_error(result) == "error: --all and --limit: give one of them (--all shows every release)"


def test_releases_limit_must_be_positive(project: Path) -> None:
    result = opsctl("releases", "staging", "--limit", "0")
    assert result.code == 2
    assert "Invalid value for '--limit': Input should be greater than or equal to 1" in result.err
