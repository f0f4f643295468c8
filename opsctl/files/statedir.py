"""The state folder (audit log, locks, runs, onboarding progress)."""

from __future__ import annotations

from pathlib import Path


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (0700) with a ``.gitignore`` of ``*``.

    The folder holds machine state, not source: ignoring it keeps
    ``git.clean`` gates green in the very project that runs opsctl.
    """
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# opsctl state: not source\n*\n")
    return path
