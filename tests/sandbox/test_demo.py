"""``opsctl demo``: the whole tour, its own verdicts, clean-up (also on Ctrl-C), --keep, and the missing extra."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from typer.testing import CliRunner

from opsctl.audit.log import AuditLog
from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.sandbox import demo as demo_core
from opsctl.sandbox.aws import FAKE_CREDENTIAL
from opsctl.sandbox.demo import BAD_IMAGE, GOOD_IMAGE, MISSING_IMAGE, DemoStep, judge
from opsctl.sandbox.ecr import manifest

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 60.0  # the demo promises 30 s on a laptop; shared CI machines get twice that
GOOD_DIGEST = "sha256:" + hashlib.sha256(manifest("hvb", "1.8.0")).hexdigest()  # what any registry would name
GOOD_PINNED = f"{GOOD_IMAGE}@{GOOD_DIGEST}"
GOOD_SHORT = f"hvb:1.8.0@{GOOD_DIGEST[:19]}"  # how the verdicts show it: no host, a short digest
VERDICTS = (
    "✓ as expected pre-deploy: passed (exit 0)",
    f"✓ as expected good-deploy: succeeded, verified, {GOOD_SHORT} running (exit 0)",
    f"✓ as expected bad-deploy: rolled back, {GOOD_SHORT} running (exit 1)",
    "✓ as expected missing-tag: verify failed: tag 1.8.1 not found in ECR repository hvb; "
    f"task definition unchanged (hvb:2), {GOOD_SHORT} running (exit 1)",
    "✓ as expected status: exit 0",
    "✓ as expected report: exit 0",
)
URLS = re.compile(r"AWS \(moto\) (http://127\.0\.0\.1:\d+) · bot (http://127\.0\.0\.1:\d+) · project (\S+)")


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the demo makes its temporary project in (checked empty afterwards)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.chdir(tmp_path)
    for name in ("OPSCTL_CONFIG", "OPSCTL_ACTOR", "NO_COLOR", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    return root


def closed(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return True
    return False


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), obj=Application(interactive=False, no_color=True))


def test_the_demo_runs_the_tour_gives_every_expected_verdict_and_leaves_nothing(temp_root: Path) -> None:
    environ = dict(os.environ)
    started = time.monotonic()
    result = invoke("demo")
    took = time.monotonic() - started
    out = result.stdout
    assert result.exit_code == 0, out + result.stderr
    for line in VERDICTS:
        assert line in out, out
    assert re.search(r"✓ as expected audit: audit log intact: \d+ events, head [0-9a-f]{12} \(exit 0\)", out), out
    assert re.search(r"✓ demo passed in \d+\.\ds: every step gave its expected verdict", out), out
    assert f"$ opsctl deploy staging --image {BAD_IMAGE} " in out
    assert "deploy failed: starting automatic rollback (rollback)" in out  # the live view of the real run
    # The second bad deploy: verify names repository and tag, and the run stops before the plan.
    missing = out[out.index(f"$ opsctl deploy staging --image {MISSING_IMAGE} ") :]
    missing = missing[: missing.index("✓ as expected missing-tag")]
    assert (
        f"   failed      image   {MISSING_IMAGE}: tag 1.8.1 not found in ECR repository hvb "
        "(account 123456789012, eu-west-1)"
    ) in missing
    assert "-> Plan the change" not in missing
    assert f"PASS  step verify  verified {GOOD_PINNED} for staging: " in out  # the good deploy was pinned
    assert took < LIMIT_S
    found = URLS.search(out)
    assert found, out
    assert closed(found.group(1))
    assert closed(found.group(2))
    assert not Path(found.group(3)).exists()
    assert list(temp_root.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "hvb-bot" and t.is_alive()]
    assert dict(os.environ) == environ  # the sandbox's AWS variables are gone again


def test_an_unexpected_verdict_fails_the_demo_and_skips_the_changing_steps(
    temp_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [
        DemoStep("status", "Status of an environment the demo does not have", ("status", "production"), "exit 0"),
        DemoStep("good-deploy", "A good deploy", ("deploy", "staging", "--image", "hvb:1.8.0"), "exit 0", changes=True),
        DemoStep("audit", "Audit log", ("audit", "verify"), "intact (exit 0)"),
    ]
    monkeypatch.setattr(demo_core, "demo_steps", lambda *_, **__: steps)
    result = invoke("demo")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "✗ NOT as expected status: exit 2; expected exit 0" in result.stdout
    assert "error: unknown environment 'production'" in result.stderr
    assert "$ opsctl deploy" not in result.stdout
    assert "✓ as expected audit: audit log intact: 0 events" in result.stdout
    assert re.search(
        r"✗ demo FAILED in \d+\.\ds: 2 step\(s\) gave an unexpected verdict: status, good-deploy", result.stdout
    )
    assert "sandbox stopped" in result.stdout
    assert list(temp_root.iterdir()) == []


def test_without_moto_the_demo_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # `import moto` now raises ImportError
    monkeypatch.setitem(sys.modules, "moto.server", None)
    result = invoke("demo")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: opsctl demo needs moto, the sandbox extra: pip install 'opsctl[sandbox]'\n",
    )


TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/hvb:"


@dataclass
class FakeSandbox:
    """Just what judge() reads: the audit log, what ECS runs, and the digests the sandbox's ECR holds."""

    audit_path: Path
    running: str
    revision: str = TD + "2"
    revisions: list[str] = field(default_factory=list)

    def image(self) -> str:
        return self.running

    def task_definition(self) -> str:
        return self.revision

    def pinned(self, tag: str) -> str:
        return {"1.8.0": GOOD_PINNED}[tag]


def _deploy(log: AuditLog, status: str, *, verified: bool, image: str = "hvb:1.8.0", summary: str = "") -> None:
    log.append(
        {
            "run": f"r-{status}",
            "runbook": "deploy",
            "env": "staging",
            "actor": "demo",
            "step": "run",
            "status": "started",
            "params": {"image": image},
        }
    )
    log.append(
        {
            "run": f"r-{status}",
            "runbook": "deploy",
            "env": "staging",
            "actor": "demo",
            "step": "run",
            "status": status,
            "verified": verified,
            "summary": summary,
        }
    )


def test_judge_checks_exit_code_audit_log_and_platform(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    good = DemoStep("good-deploy", "good", ("deploy",), "succeeded", changes=True)
    bad = DemoStep("bad-deploy", "bad", ("deploy",), "rolled back", changes=True)
    sandbox: Any = FakeSandbox(log.path, GOOD_PINNED)
    assert judge(sandbox, good, 0).got == f"no run recorded, {GOOD_SHORT} running (exit 0)"
    _deploy(log, "succeeded", verified=True)
    assert judge(sandbox, good, 0).ok
    assert not judge(sandbox, good, 1).ok  # the exit code must agree with the audit log
    assert not judge(FakeSandbox(log.path, f"{BAD_IMAGE}@sha256:{'b' * 64}"), good, 0).ok  # type: ignore[arg-type]
    moved = FakeSandbox(log.path, f"{GOOD_IMAGE}@sha256:{'c' * 64}")  # the right tag, another digest
    assert not judge(moved, good, 0).ok  # type: ignore[arg-type]
    assert not judge(FakeSandbox(log.path, GOOD_IMAGE), good, 0).ok  # type: ignore[arg-type] # unpinned
    _deploy(log, "succeeded-again", verified=False)  # a deploy that "succeeded" without verification
    assert not judge(sandbox, bad, 1).ok
    _deploy(log, "rolled_back", verified=False)
    verdict = judge(sandbox, bad, 1)
    assert (verdict.ok, verdict.got) == (True, f"rolled back, {GOOD_SHORT} running (exit 1)")
    audit = DemoStep("audit", "audit", ("audit", "verify"), "intact")
    assert judge(sandbox, audit, 0).ok
    log.path.write_text(log.path.read_text().replace("hvb:1.8.0", "hvb:6.6.6", 1))  # tampered with
    tampered = judge(sandbox, audit, 0)
    assert (tampered.ok, tampered.got) == (
        False,
        "line 1: content does not match its hash (the line was edited) (exit 0)",
    )


class Lines:
    """A child's stdout, line by line, with a deadline (a hung demo fails the test instead of hanging it)."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, predicate: Any, timeout: float = LIMIT_S) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("the line never came:\n" + "\n".join(self.seen))

    def rest(self) -> str:
        tail = []
        while (line := self._queue.get(timeout=30)) is not None:
            tail.append(line)
        return "\n".join(self.seen + tail)


def _child_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPSCTL_", "MOTO_"))}
    env.update(TMPDIR=str(tmp_path / "tmp"), NO_COLOR="1", COLUMNS="250", PYTHONPATH=str(REPO))
    return env


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Lines]:
    child = subprocess.Popen(
        [sys.executable, "-m", "opsctl", "demo", *args],
        cwd=tmp_path,
        env=_child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return child, Lines(child.stdout)  # type: ignore[arg-type]


def test_keep_leaves_the_sandbox_for_another_terminal_until_ctrl_c(tmp_path: Path) -> None:
    started = time.monotonic()
    child, lines = _start(tmp_path, "--keep")
    try:
        lines.until(lambda line: line.startswith("In another terminal:"))
        assert time.monotonic() - started < LIMIT_S
        exports = dict(word.split("=", 1) for word in shlex.split(lines.until(lambda s: "export " in s))[1:])
        assert exports["OPSCTL_CONFIG"].endswith("/opsctl.yaml")
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert exports["AWS_ACCESS_KEY_ID"] == exports["AWS_SECRET_ACCESS_KEY"] == FAKE_CREDENTIAL
        second = subprocess.run(
            [sys.executable, "-m", "opsctl", "status", "staging"],
            cwd=tmp_path,
            env={**_child_env(tmp_path), **exports},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"running  hvb:2 ({GOOD_PINNED})" in second.stdout
        hint = lines.until(lambda s: "opsctl verify staging" in s).strip()
        assert hint == f"opsctl verify staging --image {MISSING_IMAGE}"
        verify = subprocess.run(
            [sys.executable, "-m", "opsctl", *shlex.split(hint)[1:]],
            cwd=tmp_path,
            env={**_child_env(tmp_path), **exports},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert verify.returncode == 1, verify.stdout + verify.stderr
        assert verify.stdout.splitlines()[-1] == (
            f"verification failed: {MISSING_IMAGE}: tag 1.8.1 not found in ECR repository hvb "
            "(account 123456789012, eu-west-1)"
        )
    finally:
        child.send_signal(signal.SIGINT)
    child.wait(timeout=30)
    out = lines.rest()
    assert child.returncode == 0, out + (child.stderr.read() if child.stderr else "")
    for line in VERDICTS:
        assert line in out, out
    assert "sandbox stopped" in out
    assert list((tmp_path / "tmp").iterdir()) == []


def test_ctrl_c_during_a_deploy_stops_the_demo_and_cleans_up(tmp_path: Path) -> None:
    child, lines = _start(tmp_path)
    lines.until(lambda line: line.startswith(f"$ opsctl deploy staging --image {GOOD_IMAGE} "))
    lines.until(lambda line: line.startswith(("-> Roll out the new image", "-> Verify")))
    child.send_signal(signal.SIGINT)
    child.wait(timeout=30)
    out = lines.rest()
    err = child.stderr.read() if child.stderr else ""
    assert child.returncode == 130, out + err
    assert "Traceback" not in err
    assert "demo interrupted after" in out
    assert "sandbox stopped" in out
    assert list((tmp_path / "tmp").iterdir()) == []


def test_judge_of_the_missing_tag_wants_verify_to_stop_it_and_the_service_unchanged(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    step = DemoStep("missing-tag", "missing", ("deploy",), "verify failed", changes=True)
    sandbox: Any = FakeSandbox(log.path, GOOD_PINNED, revisions=[TD + "2"])
    _deploy(log, "rolled_back", verified=False, image=BAD_IMAGE)  # the run before: not this step's
    verdict = judge(sandbox, step, 1)
    assert (verdict.ok, verdict.got) == (
        False,
        f"no run of hvb:1.8.1 recorded; task definition unchanged (hvb:2), {GOOD_SHORT} running (exit 1)",
    )
    why = f"step verify failed: verification failed: {MISSING_IMAGE}: tag 1.8.1 not found in ECR repository hvb "
    _deploy(log, "failed", verified=False, image=MISSING_IMAGE, summary=why + "(account 123456789012, eu-west-1)")
    verdict = judge(sandbox, step, 1)
    assert (verdict.ok, verdict.got) == (
        True,
        "verify failed: tag 1.8.1 not found in ECR repository hvb; "
        f"task definition unchanged (hvb:2), {GOOD_SHORT} running (exit 1)",
    )
    assert sandbox.revisions == [TD + "2", TD + "2", TD + "2"]  # each judge records what ran after its step
    assert not judge(sandbox, step, 0).ok  # the exit code must say it failed
    sandbox.revision = TD + "3"  # a new revision appeared: something changed after all
    changed = judge(sandbox, step, 1)
    assert (changed.ok, changed.got) == (
        False,
        "verify failed: tag 1.8.1 not found in ECR repository hvb; "
        f"task definition CHANGED (hvb:2 -> hvb:3), {GOOD_SHORT} running (exit 1)",
    )
