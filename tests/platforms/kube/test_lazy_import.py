"""The kubernetes client is an optional extra: `opsctl --help` and the platform help never import it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("args", [["--help"], ["platform", "--help"], ["platform", "rbac", "--help"]])
def test_help_does_not_import_the_kubernetes_client(tmp_path: Path, args: list[str]) -> None:
    script = f"""
import sys
from opsctl.cli.app import app
try:
    app({args!r})
except SystemExit as exc:
    code = exc.code
print("LOADED", code, "kubernetes" in sys.modules, "urllib3" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.splitlines()[-1] == "LOADED 0 False False", done.stdout + done.stderr
