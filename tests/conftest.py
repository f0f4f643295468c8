"""Test-wide setup: every test, and every Python process it starts, stays on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.netguard.guard import install

_GUARD_DIR = str(Path(__file__).resolve().parent / "support" / "netguard")

install()
# Subprocesses (the CLI run as `python -m opsctl`, helper scripts) load the same fence from
# the sitecustomize beside the guard.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_GUARD_DIR, os.environ.get("PYTHONPATH", "")) if p)
