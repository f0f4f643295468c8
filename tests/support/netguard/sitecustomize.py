"""Loaded by every Python subprocess of the tests (PYTHONPATH): the loopback-only network fence."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
try:
    from guard import install
finally:
    sys.path.pop(0)

install()
