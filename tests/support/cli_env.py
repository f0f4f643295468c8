"""How tests call the opsctl CLI as a subprocess: its isolated environment, the run itself, a deploy's confirmations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The manual items of the built-in pre-deploy checklist, confirmed up front (no terminal in tests).
CONFIRMS = (
    "--confirm",
    "tests-confirmed",
    "--confirm",
    "code-review-confirmed",
    "--confirm",
    "security-scan",
    "--confirm",
    "performance-tests",
)

_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def subprocess_env(actor: str, *, drop: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """This process's environment for an ``opsctl`` subprocess, cut off from the caller's shell.

    No ``OPSCTL_*`` or ``GITHUB_*`` variable (nor those starting with ``drop``)
    leaks in, no proxy either (everything is on loopback); the actor is
    ``actor``, output is plain and wide, and this checkout is importable.
    ``extra`` is added last (``AWS_ENDPOINT_URL=moto.endpoint_url``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSCTL_", "GITHUB_", *drop))}
    for name in _PROXIES:
        env.pop(name, None)
    env.update(
        OPSCTL_ACTOR=actor,
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONPATH=str(REPO),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **extra,
    )
    return env


def run_opsctl(cwd: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m opsctl ARGS`` in ``cwd`` to its end (at most ``timeout`` seconds), output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "opsctl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_opsctl(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``python -m opsctl ARGS`` in ``cwd``, started and left running (tests signal it, then communicate)."""
    return subprocess.Popen(
        [sys.executable, "-m", "opsctl", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
