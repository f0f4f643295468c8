"""``opsctl demo``: the whole product on a laptop, without a cloud account or a network.

:func:`open_sandbox` starts moto (AWS) and the demo Hotel Voice Bot on 127.0.0.1,
creates an ECS service running ``hvb:1.7.0`` and writes a project folder (an
opsctl.yaml pointing at both) in a temporary folder. :func:`demo_steps` is
the tour, as the commands a user would type: the pre-deploy gates, a good
deploy, a bad one that verification catches and rolls back, ``status``,
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsctl.sandbox.aws import EcsService, MotoSandbox, RunningImage, require_moto, sandbox_variables

ENV = "staging"
FIRST_IMAGE = "hvb:1.7.0"
GOOD_IMAGE = "hvb:1.8.0"
BAD_IMAGE = "hvb:1.9.0-bad"
DEMO_ACTOR = "demo@hvb.example"
FAST_RETRY = "0.2s"  # the built-in checklists wait 5 s between retries; the sandbox answers at once
SYNTHETIC = {"path": "/api/messages", "json": {"text": "Do you have a room for tonight?"}, "status": 200}


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
    """A running sandbox: where the project, moto and the bot are."""

    root: Path
    endpoint_url: str
    bot_url: str
    service: EcsService
    running: RunningImage

    @property
    def config_path(self) -> Path:
        return self.root / "opsctl.yaml"

    @property
    def audit_path(self) -> Path:
        return self.root / ".opsctl" / "audit.jsonl"

    def image(self) -> str:
        """What ECS runs now (read afresh)."""
        return self.running.image(fresh=True)

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

    require_moto()
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="opsctl-demo-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        moto = MotoSandbox()
        stack.callback(moto.stop)
        endpoint_url = moto.start()
        stack.enter_context(sandbox_environment(endpoint_url))
        service = create_ecs_service(endpoint_url, image=FIRST_IMAGE)
        running = RunningImage(service)
        stack.callback(running.close)
        bot = BotServer(version=running).start()  # serves what ECS runs; unhealthy while that is a "bad" tag
        stack.callback(bot.stop)
        write_project(root, service, bot.url)
        yield Sandbox(root, endpoint_url, bot.url, service, running)


def write_project(root: Path, service: EcsService, bot_url: str) -> Path:
    """opsctl.yaml for the sandbox, plus quick copies of the verification checklists."""
    import yaml

    config = {
        "service": "hotel-voice-bot",
        "state_dir": ".opsctl",
        "environments": {
            ENV: {
                "platform": service.platform_config(poll_interval="0.2s"),
                "health": {"base_url": bot_url, "timeout": "2s", "synthetic": SYNTHETIC},
            }
        },
    }
    path = root / "opsctl.yaml"
    header = "# The opsctl demo sandbox: ECS on moto and the demo bot, both on 127.0.0.1.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    for name in ("post-deploy", "rollback-verify"):
        _quick_copy(name, root / "checklists")
    return path


def _quick_copy(name: str, folder: Path) -> None:
    """The built-in checklist ``name`` with quick retries (a project file replaces the built-in).

    The sandbox answers at once, so the checklist's own retries (every
    FAST_RETRY) replace the probes' re-sends with back-off.
    """
    import yaml

    from opsctl.engine.loader import find

    data = yaml.safe_load(find("checklists", name, None).path.read_text(encoding="utf-8"))
    for item in data["items"]:
        retry = item.get("retry")
        if retry is not None:
            item["retry"] = {**(retry if isinstance(retry, dict) else {"count": retry}), "interval": FAST_RETRY}
            if str(item.get("uses", "")).startswith("health."):
                item["with"] = {**(item.get("with") or {}), "retries": 0}
    folder.mkdir(exist_ok=True)
    header = f"# The built-in {name} checklist with quick retries ({FAST_RETRY}), for the demo sandbox.\n"
    (folder / f"{name}.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def manual_confirms(project_dir: Path, checklist: str = "pre-deploy") -> tuple[str, ...]:
    """``--confirm ID`` for every manual item of ``checklist``: the demo has no person to ask."""
    from opsctl.engine.loader import load_checklist

    ids = [item.id for item in load_checklist(checklist, project_dir).model.items if item.uses == "manual"]
    return tuple(arg for item_id in ids for arg in ("--confirm", item_id))


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
    return [
        DemoStep(
            "pre-deploy",
            "Pre-deploy gates (a person's items confirmed with --confirm)",
            ("checklist", "run", "pre-deploy", "--env", ENV, *confirms),
            "passed (exit 0)",
        ),
        DemoStep(
            "good-deploy",
            f"A good deploy: {GOOD_IMAGE}",
            deploy(GOOD_IMAGE),
            f"succeeded and verified, {GOOD_IMAGE} running (exit 0)",
            changes=True,
        ),
        DemoStep(
            "bad-deploy",
            f"A bad deploy: {BAD_IMAGE} fails verification and rolls back",
            deploy(BAD_IMAGE),
            f"rolled back automatically, {GOOD_IMAGE} running again (exit 1)",
            changes=True,
        ),
        DemoStep("status", "Status of staging", ("status", ENV), "exit 0"),
        DemoStep("audit", "Audit log: verify the hash chain", ("audit", "verify"), "intact (exit 0)"),
        last,
    ]


def judge(sandbox: Sandbox, step: DemoStep, exit_code: int, seconds: float = 0.0) -> Verdict:
    """Whether ``step`` gave its expected verdict, checked from the exit code, the audit log and ECS."""
    from opsctl.audit.log import AuditLog
    from opsctl.audit.query import load_runs

    got = f"exit {exit_code}"
    if step.key in ("good-deploy", "bad-deploy"):
        runs = [r for r in load_runs(sandbox.audit_path, ENV) if r.runbook == "deploy"]
        last = runs[-1] if runs else None
        image = sandbox.image()
        status = last.status if last else "no run recorded"
        verified = bool(last and last.verified)
        got = f"{status.replace('_', ' ')}{', verified' if verified else ''}, {image} running ({got})"
        want = ("succeeded", 0, True) if step.key == "good-deploy" else ("rolled_back", 1, False)
        return Verdict(step, (status, exit_code, verified) == want and image == GOOD_IMAGE, got, seconds)
    if step.key == "audit":
        result = AuditLog(sandbox.audit_path).verify()
        got = f"{result.message} ({got})"
        return Verdict(step, result.ok and exit_code == 0, got, seconds)
    if step.key == "pre-deploy":
        got = f"{'passed' if exit_code == 0 else 'failed'} ({got})"
    return Verdict(step, exit_code == 0, got, seconds)
