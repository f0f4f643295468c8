"""``opsctl demo``: the whole product on a laptop, without a cloud account or a network.

:func:`open_sandbox` starts moto (AWS) and the demo Hotel Voice Bot on 127.0.0.1,
pushes the demo's images into moto's ECR, creates an ECS service running
``hvb:1.7.0`` (pinned to its digest) and writes a project folder (an
opsctl.yaml pointing at both) in a temporary folder. :func:`demo_steps` is
the tour, as the commands a user would type: the pre-deploy gates, a good
deploy (verified in ECR and pinned to its digest), a bad one that
post-deploy verification catches and rolls back, a deploy of a tag that was
never pushed, which ``verify`` stops before anything changes, ``status``,
``audit verify`` and ``report``. :func:`judge` checks that each step gave
its expected verdict from the outside: the exit code, the audit log and what
ECS runs. The CLI runs the commands in-process and draws them with the
normal views. Leaving :func:`open_sandbox` removes everything, however the demo ended.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.sandbox.aws import EcsService, MotoSandbox, RunningImage, require_moto, sandbox_variables
from opsctl.sandbox.ecr import PushedImage, image_ref
from opsctl.sandbox.project import ENV, manual_confirms, write_project
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from opsctl.audit.query import RunSummary

REPOSITORY = "hvb"
FIRST_TAG, GOOD_TAG, BAD_TAG = "1.7.0", "1.8.0", "1.9.0-bad"
MISSING_TAG = "1.8.1"  # never pushed: the hot fix whose CI build did not finish
KEEP_TAGS = ("2.0.0", "2.1.0-bad")  # pushed too, for the user to try with --keep
FIRST_IMAGE = image_ref(REPOSITORY, FIRST_TAG)
GOOD_IMAGE = image_ref(REPOSITORY, GOOD_TAG)
BAD_IMAGE = image_ref(REPOSITORY, BAD_TAG)
MISSING_IMAGE = image_ref(REPOSITORY, MISSING_TAG)
KEEP_IMAGES = tuple(image_ref(REPOSITORY, tag) for tag in KEEP_TAGS)
DEMO_ACTOR = "demo@hvb.example"


@dataclass(frozen=True)
class DemoStep:
    """One command of the tour and the verdict it must give."""

    key: str
    title: str
    argv: tuple[str, ...]
    expect: str
    changes: bool = False  # not run after an unexpected verdict: the sandbox is no longer as planned

    @property
    def command(self) -> str:
        return "opsctl " + " ".join(self.argv)


@dataclass(frozen=True)
class Verdict:
    step: DemoStep
    ok: bool
    got: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step.key,
            "title": self.step.title,
            "command": self.step.command,
            "expected": self.step.expect,
            "got": self.got,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class Sandbox:
    """A running sandbox: where the project, moto and the bot are, and the images in its ECR (by tag).

    ``revisions`` is what :func:`judge` saw the service run after each step
    (the first entry: at the start), so that a step that must change nothing
    is compared with the state just before it.
    """

    root: Path
    endpoint_url: str
    bot_url: str
    service: EcsService
    running: RunningImage
    images: dict[str, PushedImage] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.root / "opsctl.yaml"

    @property
    def audit_path(self) -> Path:
        return self.root / ".opsctl" / "audit.jsonl"

    def image(self) -> str:
        """What ECS runs now (read afresh)."""
        return self.running.image(fresh=True)

    def task_definition(self) -> str:
        """The ARN of the task definition the service runs now (read afresh)."""
        return self.running.task_definition()

    def pinned(self, tag: str) -> str:
        """``HOST/hvb:TAG@sha256:...``: what a verified deploy of ``tag`` runs."""
        return self.images[tag].pinned

    def exports(self) -> dict[str, str]:
        """The variables a second terminal needs to use this sandbox."""
        hidden = ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "no_proxy")
        values = {"OPSCTL_CONFIG": str(self.config_path), **sandbox_variables(self.endpoint_url)}
        return {k: v for k, v in values.items() if k not in hidden}


@contextmanager
def open_sandbox() -> Iterator[Sandbox]:
    """Start moto, the ECS service, the bot and the project; undo all of it on leaving, however it ends."""
    from opsctl.sandbox.aws import create_ecs_service, sandbox_environment
    from opsctl.sandbox.bot import BotServer
    from opsctl.sandbox.ecr import push_images

    require_moto()
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="opsctl-demo-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        moto = MotoSandbox()
        stack.callback(moto.stop)
        endpoint_url = moto.start()
        stack.enter_context(sandbox_environment(endpoint_url))
        images = push_images(endpoint_url, REPOSITORY, (FIRST_TAG, GOOD_TAG, BAD_TAG, *KEEP_TAGS))
        # The release before the demo was deployed by opsctl too: pinned to its digest.
        service = create_ecs_service(endpoint_url, image=images[FIRST_TAG].pinned)
        running = RunningImage(service)
        stack.callback(running.close)
        bot = BotServer(version=running).start()  # serves what ECS runs; unhealthy while that is a "bad" tag
        stack.callback(bot.stop)
        write_project(root, service, bot.url)
        yield Sandbox(root, endpoint_url, bot.url, service, running, images, [running.task_definition()])


def demo_steps(sandbox: Sandbox, *, report: bool = True) -> list[DemoStep]:
    """The tour; ``report=False`` shows ``releases`` where ``opsctl report`` is not available."""
    confirms = manual_confirms(sandbox.root)

    def deploy(image: str) -> tuple[str, ...]:
        return ("deploy", ENV, "--image", image, "--timeout", "30s", *confirms)

    last = (
        DemoStep("report", "Report: deployment KPIs from the audit log", ("report",), "exit 0")
        if report
        else DemoStep("report", "Releases (newest first)", ("releases", ENV), "exit 0")
    )
    good, bad = f"{REPOSITORY}:{GOOD_TAG}", f"{REPOSITORY}:{BAD_TAG}"
    return [
        DemoStep(
            "pre-deploy",
            "Pre-deploy gates (a person's items confirmed with --confirm)",
            ("checklist", "run", "pre-deploy", "--env", ENV, *confirms),
            "passed (exit 0)",
        ),
        DemoStep(
            "good-deploy",
            f"A good deploy: {good}, verified in ECR and pinned to its digest",
            deploy(GOOD_IMAGE),
            f"succeeded and verified, {good} running, pinned to its digest (exit 0)",
            changes=True,
        ),
        DemoStep(
            "bad-deploy",
            f"A bad deploy: {bad} fails post-deploy verification and rolls back",
            deploy(BAD_IMAGE),
            f"rolled back automatically, {good} running again at the same digest (exit 1)",
            changes=True,
        ),
        DemoStep(
            "missing-tag",
            f"A deploy of a tag that was never pushed: verify stops {REPOSITORY}:{MISSING_TAG} before any change",
            deploy(MISSING_IMAGE),
            f"verify failed naming repository and tag; task definition unchanged, {good} still running (exit 1)",
            changes=True,
        ),
        DemoStep("status", "Status of staging", ("status", ENV), "exit 0"),
        DemoStep("audit", "Audit log: verify the hash chain", ("audit", "verify"), "intact (exit 0)"),
        last,
    ]


def short(image: str) -> str:
    """``hvb:1.8.0@sha256:0123456789ab``: an image as the verdicts show it (no registry host, a short digest)."""
    ref = ImageRef.try_parse(image)
    if ref is None:
        return image
    text = f"{ref.repository}:{ref.tag}" if ref.tag else ref.repository
    return text + (f"@{ref.digest[:19]}" if ref.digest else "")


def judge(sandbox: Sandbox, step: DemoStep, exit_code: int, seconds: float = 0.0) -> Verdict:
    """Whether ``step`` gave its expected verdict, checked from the exit code, the audit log and ECS.

    Every call records the task definition the service runs afterwards, so
    the next step is judged against the state just before it.
    """
    from opsctl.audit.log import AuditLog

    before = sandbox.revisions[-1] if sandbox.revisions else None
    revision = sandbox.task_definition()
    sandbox.revisions.append(revision)
    got = f"exit {exit_code}"
    if step.key in ("good-deploy", "bad-deploy"):
        last = _last_deploy(sandbox)
        image = sandbox.image()
        status = last.status if last else "no run recorded"
        verified = bool(last and last.verified)
        got = f"{status.replace('_', ' ')}{', verified' if verified else ''}, {short(image)} running ({got})"
        want = ("succeeded", 0, True) if step.key == "good-deploy" else ("rolled_back", 1, False)
        return Verdict(step, (status, exit_code, verified) == want and image == sandbox.pinned(GOOD_TAG), got, seconds)
    if step.key == "missing-tag":
        return _judge_missing_tag(sandbox, step, exit_code, seconds, before=before, revision=revision)
    if step.key == "audit":
        result = AuditLog(sandbox.audit_path).verify()
        got = f"{result.message} ({got})"
        return Verdict(step, result.ok and exit_code == 0, got, seconds)
    if step.key == "pre-deploy":
        got = f"{'passed' if exit_code == 0 else 'failed'} ({got})"
    return Verdict(step, exit_code == 0, got, seconds)


def _last_deploy(sandbox: Sandbox) -> RunSummary | None:
    from opsctl.audit.query import load_runs

    runs = [r for r in load_runs(sandbox.audit_path, ENV) if r.runbook == "deploy"]
    return runs[-1] if runs else None


def _judge_missing_tag(
    sandbox: Sandbox, step: DemoStep, exit_code: int, seconds: float, *, before: str | None, revision: str
) -> Verdict:
    """Stopped by verify, naming the repository and the tag, before any rollout; the service as it was."""
    last = _last_deploy(sandbox)
    named = f"tag {MISSING_TAG} not found in ECR repository {REPOSITORY} "
    if last is None or last.image != MISSING_IMAGE:
        verdict = f"no run of {short(MISSING_IMAGE)} recorded"
    elif last.status == "failed" and last.attempted is None and named in last.summary:
        verdict = f"verify failed: {named.strip()}"
    else:
        verdict = f"{last.status.replace('_', ' ')}: {last.summary}"
    stopped = verdict.startswith("verify failed")
    unchanged = revision == before
    if unchanged:
        change = f"task definition unchanged ({_revision(revision)})"
    else:
        change = f"task definition CHANGED ({_revision(before or '?')} -> {_revision(revision)})"
    image = sandbox.image()
    got = f"{verdict}; {change}, {short(image)} running (exit {exit_code})"
    ok = stopped and unchanged and exit_code == 1 and image == sandbox.pinned(GOOD_TAG)
    return Verdict(step, ok, got, seconds)


def _revision(arn: str) -> str:
    """``arn:...:task-definition/hvb:2`` -> ``hvb:2``."""
    return arn.rsplit("/", 1)[-1]
