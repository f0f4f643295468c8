"""The autouse isolation of unit tests: each runs in its own folder, with no config from the caller's shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.util import builtins

__all__ = ["builtins"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builtins: Path) -> None:
    """Every core test runs in its own folder, with no config from the caller's shell and known built-ins."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
