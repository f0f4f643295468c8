"""Paths as people read them in messages."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """A path as short as is still unambiguous: relative to the cwd when below it.

    Lexical (``normpath``), not ``resolve()``: a symlink keeps its own name
    (a broken one is the very thing the message is about) and a loop cannot fail.
    """
    try:
        cwd = Path.cwd().resolve()
        absolute = Path(os.path.normpath(path.absolute()))
        if absolute.is_relative_to(cwd):
            return str(absolute.relative_to(cwd))
        real = path.resolve()  # the cwd may be reached through a symlink (macOS /tmp)
        if real.is_relative_to(cwd):
            return str(real.relative_to(cwd))
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python < 3.13
        pass
    return str(path)
