"""Real servers from Debian packages (DESIGN section 7): find them, or say how to install them.

Outside CI a test that needs a missing server skips, naming the install
command; under ``CI=true`` (where ``.ci/run`` installs them) a missing server
fails the test instead, so a skip can never hide a broken CI image.
"""

from __future__ import annotations

import os
import shutil

import pytest

# binary -> Debian package that provides it (installed by .ci/run).
PACKAGES = {
    "docker-registry": "docker-registry",
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "chromium": "chromium",
}


def require_binary(name: str) -> str:
    """The path of the ``name`` executable; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which(name)
    if path is not None:
        return path
    package = PACKAGES.get(name, name)
    message = f"needs {name}: install it with `sudo apt-get install -y --no-install-recommends {package}`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: .ci/run must install it)", pytrace=False)
    pytest.skip(message)
