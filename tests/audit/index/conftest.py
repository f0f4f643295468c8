from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.index.helpers import log_answers, make_project


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPSCTL_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A project with about 4,000 events of history, and what the commands say reading its log alone."""
    project = make_project(tmp_path_factory.mktemp("history"), 4000)
    return project, log_answers(project)
