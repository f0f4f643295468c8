"""examples/github-actions/deploy.yml is safe to copy: actions pinned by commit SHA, no kept token, zizmor-clean."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.test_workflow import WORKFLOW, steps, workflow

# `uses: owner/repo@<40 hex>  # vX.Y.Z`: a tag can be moved to other code, a commit cannot;
# the comment says which release it is (what Dependabot reads and updates).
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40})  # (v?\d+\.\d+\.\d+)$")


def uses_lines() -> list[str]:
    return [line for line in WORKFLOW.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)]


def test_every_action_is_pinned_by_full_commit_sha_with_its_release() -> None:
    lines = uses_lines()
    used = [step["uses"] for job in workflow()["jobs"] for step in steps(job) if "uses" in step]
    assert len(lines) == len(used) == 13  # the text lines are every step that uses an action
    unpinned = [line.strip() for line in lines if not PINNED.match(line)]
    assert not unpinned, unpinned


def test_one_release_per_action() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for line in uses_lines():
        found = PINNED.match(line)
        assert found is not None
        pins.setdefault(found.group(1), set()).add((found.group(2), found.group(3)))
    assert {action: len(found) for action, found in pins.items() if len(found) != 1} == {}


def test_every_checkout_leaves_no_token_behind() -> None:
    checkouts = [
        (name, step)
        for name in workflow()["jobs"]
        for step in steps(name)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert [name for name, _ in checkouts] == ["image", "staging", "load-test", "production"]
    for name, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, name


def test_production_still_fetches_all_history_for_the_git_gates() -> None:
    checkout = next(s for s in steps("production") if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"] == {"persist-credentials": False, "fetch-depth": 0}


def _zizmor() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if found is not None:
        return found
    message = "needs zizmor: install it with `pip install zizmor` (the dev extra has it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: .ci/run installs the dev extra)", pytrace=False)
    pytest.skip(message)


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing(persona: str) -> None:
    # --offline: the audits that need GitHub's API (impostor commits, known vulnerable actions) are left out.
    done = subprocess.run(
        [_zizmor(), "--offline", "--no-progress", f"--persona={persona}", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    output = done.stdout + done.stderr
    if persona == "pedantic":
        # One pedantic finding is a choice: a workflow-level concurrency group would cancel queued release runs.
        findings = sorted(set(re.findall(r"^\w+\[([\w-]+)\]", output, re.M)))
        assert findings == ["concurrency-limits"], output
        return
    assert done.returncode == 0, output
    assert "No findings to report" in output
