"""pending_changes (the core of `opsctl changes ENV`): the running release on moto's ECS against a real repo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsctl.errors import BadInput
from opsctl.status.changes import PendingChanges, pending_changes
from opsctl.workspace import Workspace
from tests.support import moto_server as aws_support
from tests.support.context import base_config, make_workspace
from tests.support.gitrepo import TestRepo, make_repo
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service


@pytest.fixture
def repo(tmp_path: Path) -> TestRepo:
    """v1.7.0 (what moto's service runs), two commits to v1.8.0, one more on HEAD."""
    made = make_repo(tmp_path)
    (tmp_path / ".gitignore").write_text(".opsctl/\nopsctl.yaml\n")
    made.commit("Initial bot")
    made.tag("v1.7.0")
    made.commit("Fix the booking parser", author="Grace Hopper")
    made.commit("Add late checkout intent")
    made.tag("v1.8.0")
    made.commit("Document the freeze windows")
    return made


def workspace(tmp_path: Path, svc: EcsService) -> Workspace:
    config: dict[str, Any] = base_config()
    config["environments"]["staging"]["platform"] = svc.platform_config()
    return make_workspace(tmp_path, config)


def test_commits_from_the_running_release_to_head(tmp_path: Path, ecs_service: EcsService, repo: TestRepo) -> None:
    ws = workspace(tmp_path, ecs_service)
    found = pending_changes(ws, "staging")
    assert isinstance(found, PendingChanges)
    assert (found.env, found.current.image, found.target) == ("staging", "hvb:1.7.0", "HEAD")
    assert [c.subject for c in found.commits] == [
        "Document the freeze windows",
        "Add late checkout intent",
        "Fix the booking parser",
    ]
    assert not ws.audit.path.exists() or ws.audit.path.read_bytes() == b""  # a read, not a run


def test_up_to_an_image_with_a_limit_as_json(tmp_path: Path, ecs_service: EcsService, repo: TestRepo) -> None:
    ws = workspace(tmp_path, ecs_service)
    found = pending_changes(ws, "staging", "hvb:1.8.0", limit=1)
    newest = found.commits[0]
    assert found.as_dict() == {
        "env": "staging",
        "from": found.current.as_dict(),
        "to": "hvb:1.8.0",
        "commits": [
            {
                "sha": newest.sha,
                "subject": "Add late checkout intent",
                "author": "Ada Lovelace",
                "date": newest.date.isoformat(),
            }
        ],
    }
    assert found.as_dict()["from"]["image"] == "hvb:1.7.0"


def test_an_image_without_a_tag_is_bad_input_before_any_read(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)  # staging points at no ECS at all: the image is refused first
    with pytest.raises(BadInput) as caught:
        pending_changes(ws, "staging", "hvb")
    assert str(caught.value) == "'hvb' has no tag or digest; name the exact version, like hvb:1.8.0"


def test_an_unknown_environment_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as caught:
        pending_changes(make_workspace(tmp_path), "qa")
    assert str(caught.value) == f"unknown environment 'qa' (defined in {tmp_path / 'opsctl.yaml'}: staging, production)"
