"""The state folder (audit log, locks, runs, onboarding progress)."""

from __future__ import annotations

import os
from pathlib import Path

from opsctl.errors import BadInput
from opsctl.files.oserrors import describe_os_error
from opsctl.files.paths import display_path

_HINT = "fix it or set state_dir in opsctl.yaml"


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (0700) with a ``.gitignore`` of ``*``; BadInput (exit 2) if it cannot be used.

    The folder holds machine state, not source: ignoring it keeps
    ``git.clean`` gates green in the very project that runs opsctl.
    Failing here, before anything runs, beats failing at the first audit
    event: a path under a file, a dangling symlink, a read-only or full disk
    each get one line naming the folder.
    """
    try:
        if not path.is_dir():
            if os.path.lexists(path) and not path.is_dir():  # not made by another thread just now
                # `mkdir(exist_ok=True)` would say "File exists" about a file or a broken symlink.
                os.stat(path)  # a broken or looping symlink raises here, and is described below
                raise BadInput(f"state folder {display_path(path)}: not a directory; {_HINT}")
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(path, os.W_OK | os.X_OK):
            raise BadInput(f"state folder {display_path(path)}: not writable (permission denied); {_HINT}")
        ignore = path / ".gitignore"
        if not os.path.lexists(ignore):
            ignore.write_text("# opsctl state: not source\n*\n")
    except OSError as exc:
        raise BadInput(f"state folder {describe_os_error(path, exc)}; {_HINT}") from None
    return path
