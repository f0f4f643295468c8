"""The mirror's parts come in a small ``MirrorSite``; nothing in opsctl.audit knows the workspace."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import opsctl.audit
from opsctl.audit.log import AuditLog
from opsctl.audit.mirror import MirrorSite, attach
from opsctl.audit.mirror.remote import RemoteStore
from opsctl.audit.mirror.uploader import Backlog, Mirror, mirror_backlog
from opsctl.audit.mirror.verify import verify_remote
from opsctl.config import S3Audit
from opsctl.errors import BadInput
from tests.support.context import base_config, make_workspace

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NOT_CONFIGURED = "audit.s3 is not configured in opsctl.yaml: there is no central audit trail"


def site(tmp_path: Path, s3: S3Audit | None) -> MirrorSite:
    return MirrorSite(s3, tmp_path, AuditLog(tmp_path / "audit.jsonl"), "alice@example.com", lambda: NOW)


def test_without_audit_s3_there_is_no_mirror(tmp_path: Path) -> None:
    bare = site(tmp_path, None)
    hooks: list[Callable[[str], None]] = []
    attach(bare, hooks)
    assert hooks == []
    assert mirror_backlog(bare) is None
    for make in (
        bare.require_s3,
        lambda: Mirror(bare),
        lambda: RemoteStore.for_site(bare),
        lambda: verify_remote(bare),
    ):
        with pytest.raises(BadInput) as caught:
            make()
        assert str(caught.value) == NOT_CONFIGURED
    assert not (tmp_path / "mirror").exists()


def test_with_audit_s3_every_run_end_is_mirrored(tmp_path: Path) -> None:
    s3 = S3Audit(bucket="hvb-audit")
    configured = site(tmp_path, s3)
    hooks: list[Callable[[str], None]] = []
    attach(configured, hooks)
    assert len(hooks) == 1
    assert configured.folder == tmp_path / "mirror"
    assert mirror_backlog(configured) == Backlog(0)  # local only: nothing queued, no S3 call
    store = RemoteStore.for_site(configured)
    assert (store.config, store.cache_dir) == (s3, tmp_path / "mirror" / "cache")
    mirror = Mirror(configured)
    assert (mirror.config, mirror.audit, mirror.actor, mirror.clock()) == (
        s3,
        configured.audit,
        "alice@example.com",
        NOW,
    )


def test_the_workspace_wires_its_parts(tmp_path: Path) -> None:
    config = base_config()
    config["audit"] = {"s3": {"bucket": "hvb-audit"}}
    ws = make_workspace(tmp_path, config, actor="bob@example.com", clock=lambda: NOW)
    parts = ws.mirror_site()
    assert (parts.s3, parts.state_dir, parts.audit, parts.actor, parts.clock()) == (
        ws.config.audit.s3,
        ws.state_dir,
        ws.audit,
        "bob@example.com",
        NOW,
    )
    assert len(ws.run_finished_hooks) == 1
    (tmp_path / "bare").mkdir()
    assert make_workspace(tmp_path / "bare").run_finished_hooks == []


def test_nothing_in_the_audit_package_imports_the_workspace() -> None:
    package = Path(opsctl.audit.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [
                f"{path.relative_to(package)}:{node.lineno}" for n in names if n.startswith("opsctl.workspace")
            ]
    assert offenders == []
