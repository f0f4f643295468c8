"""Helpers for the core tests: real files in tmp_path, real processes, no fakes of opsctl's own parts."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.engine import loader


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return path


def write_checklist(project: Path, name: str, body: dict[str, Any] | str) -> Path:
    """``project/checklists/NAME.yaml`` from a dict (dumped) or YAML text (dedented)."""
    path = project / "checklists" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, str):
        path.write_text(dedent(body))
    else:
        path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def checklist(*items: dict[str, Any], title: str = "Test gate", **extra: Any) -> dict[str, Any]:
    return {"title": title, **extra, "items": list(items)}


def command_item(item_id: str, argv: list[str], **extra: Any) -> dict[str, Any]:
    with_ = extra.pop("with_", {})
    return {
        "id": item_id,
        "title": extra.pop("title", item_id.title()),
        "uses": "command",
        "with": {"argv": argv, **with_},
        **extra,
    }


def py(code: str, *args: str) -> list[str]:
    """An argv running a short Python snippet with this interpreter (portable, no shell)."""
    return [sys.executable, "-c", dedent(code), *args]


def sleeper(record: Path, seconds: float) -> list[str]:
    """An argv that writes its start and end times to ``record`` (``start end``) around a sleep."""
    return py(
        """
        import sys, time
        start = time.time()
        time.sleep(float(sys.argv[2]))
        open(sys.argv[1], "w").write(f"{start} {time.time()}")
        """,
        str(record),
        str(seconds),
    )


def read_interval(path: Path) -> tuple[float, float]:
    start, end = path.read_text().split()
    return float(start), float(end)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    running = best = 0
    for _, delta in points:
        running += delta
        best = max(best, running)
    return best


# Captured at import, before any test points built-ins elsewhere.
REAL_BUILTIN_DIR = loader.builtin_dir


@pytest.fixture
def builtins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the built-in checklists/runbooks at a folder of the test's own.

    The repository's built-ins change as the product grows; tests that name
    "the available checklists" need a known set. Returns the folder holding
    ``checklists/`` and ``runbooks/``.
    """
    root = tmp_path / "_builtin"
    (root / "checklists").mkdir(parents=True)
    (root / "runbooks").mkdir(parents=True)
    monkeypatch.setattr(loader, "builtin_dir", lambda kind: root / kind)
    return root
