"""Team-scale test helpers: the DynamoDB lock table and the audit bucket on moto, and projects using them.

Bind the fixtures in a test module as tests/support/moto_server.py explains::

    moto_server = aws_support.moto_server
    aws = aws_support.aws
    atomic_dynamodb = team_support.atomic_dynamodb
    team = team_support.team
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.runs import RunOptions, RunResult, execute
from opsctl.workspace import Workspace
from tests.support.cli_env import subprocess_env as cli_env
from tests.support.context import base_config, make_workspace
from tests.support.moto_server import MotoServer

TABLE = "opsctl-locks"
BUCKET = "hvb-audit"
PREFIX = "opsctl/"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused at once


@pytest.fixture(scope="session")
def atomic_dynamodb() -> Iterator[None]:
    """Make moto's conditional writes atomic, as DynamoDB's are.

    moto checks a condition and then writes without a lock, so two of its
    server threads can both pass ``attribute_not_exists``; DynamoDB itself
    serialises the writes to one item. The server runs in this process, so a
    lock around moto's write paths restores that guarantee and the race tests
    test opsctl rather than moto.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("put_item", "update_item", "delete_item"):
            original = getattr(DynamoDBBackend, name)

            def serialised(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                with lock:
                    return _original(self, *args, **kwargs)

            patch.setattr(DynamoDBBackend, name, serialised)
        yield


@dataclass(frozen=True)
class Team:
    """A moto server with the lock table and the audit bucket."""

    server: MotoServer

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def s3(self) -> Any:
        return self.server.client("s3")

    def object_keys(self, under: str = "") -> list[str]:
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + under)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def config(self, *, s3_endpoint: str | None = None, ttl: str = "2h", **s3_extra: Any) -> dict[str, Any]:
        """opsctl.yaml as a dict: staging on moto ECS, the DynamoDB lock and the S3 mirror."""
        config = base_config()
        config["environments"]["staging"]["platform"]["endpoint_url"] = self.endpoint_url
        config["locks"] = {"backend": "dynamodb", "table": TABLE, "ttl": ttl, "endpoint_url": self.endpoint_url}
        config["audit"] = {
            "s3": {"bucket": BUCKET, "prefix": PREFIX, "endpoint_url": s3_endpoint or self.endpoint_url, **s3_extra}
        }
        return config


@pytest.fixture
def team(aws: MotoServer, atomic_dynamodb: None) -> Team:
    """An empty moto with the lock table (made by `opsctl lock init`'s code) and the bucket."""
    from opsctl.config import Locks
    from opsctl.locks.dynamodb import create_table

    create_table(Locks(backend="dynamodb", table=TABLE, endpoint_url=aws.endpoint_url))
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    return Team(aws)


def write_runbook(project: Path, argv: list[str], name: str = "deploy") -> None:
    """A project-local runbook with one `command` step (it replaces the built-in of the same name)."""
    body = {
        "title": f"Test {name}",
        "change_type": "normal",
        "steps": [{"id": "work", "title": "Do the work", "uses": "command", "with": {"argv": argv}}],
    }
    folder = project / "runbooks"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def quick_runbook(project: Path) -> None:
    write_runbook(project, [sys.executable, "-c", "pass"])


def engineer(path: Path, config: dict[str, Any], actor: str, clock: Callable[[], datetime] | None = None) -> Workspace:
    """One engineer's checkout: a project folder with its own opsctl.yaml, audit log and quick deploy runbook."""
    path.mkdir(parents=True, exist_ok=True)
    quick_runbook(path)
    return make_workspace(path, config, actor=actor, clock=clock)


def ticking_clock(step: float = 1.0) -> Callable[[], datetime]:
    """Real time, plus ``step`` seconds more at every reading: run ids never share a second."""
    start, ticks = datetime.now(UTC), itertools.count()
    return lambda: start + timedelta(seconds=step * next(ticks))


def deploy(ws: Workspace, image: str = "hvb:1.8.0") -> RunResult:
    return execute(ws, "deploy", "staging", {"image": image}, RunOptions(yes=True))


def subprocess_env(team: Team, actor: str) -> dict[str, str]:
    return cli_env(actor, AWS_ENDPOINT_URL=team.endpoint_url)
