"""Who is running opsctl: recorded on every audit event."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Mapping


def resolve_actor(environ: Mapping[str, str] | None = None) -> str:
    """OPSCTL_ACTOR, else the CI actor (GITHUB_ACTOR), else git user.email, else the OS user."""
    env = os.environ if environ is None else environ
    for name in ("OPSCTL_ACTOR", "GITHUB_ACTOR"):
        if env.get(name, "").strip():
            return env[name].strip()
    email = _git_email()
    if email:
        return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _git_email() -> str | None:
    # A subprocess costs a few ms; importing gitpython for one value costs far more.
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "config", "--get", "user.email"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
