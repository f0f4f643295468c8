from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reports.history import Generated, generate
from tests.support.context import write_config

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """opsctl.yaml (staging, protected production) in tmp_path; its audit log is tmp_path/.opsctl/audit.jsonl."""
    return write_config(tmp_path)


@pytest.fixture(scope="session")
def _generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    # Written once (each event is fsynced: a few seconds), copied into each test's project.
    return generate(tmp_path_factory.mktemp("history") / "audit.jsonl", hostile=HOSTILE)


@pytest.fixture
def history(project: Path, _generated: Generated) -> Generated:
    """300 deploys over 12 weeks and 12 incidents, with hostile run ids, titles and causes."""
    target = project.parent / ".opsctl" / "audit.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_generated.book.path, target)
    target.chmod(0o600)
    return _generated
