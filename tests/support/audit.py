"""Build audit logs in tmp_path and damage them the ways people and crashes do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsctl.audit.log import AuditLog


def event(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "run": "r20261127-100000-abcdef",
        "runbook": "deploy",
        "env": "staging",
        "actor": "a@example.com",
        "step": f"step-{n}",
        "status": "passed",
        **extra,
    }


def make_log(path: Path, count: int) -> AuditLog:
    log = AuditLog(path)
    for n in range(1, count + 1):
        log.append(event(n))
    return log


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))
