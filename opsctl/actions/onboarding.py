"""``onboard.*``: the onboarding items a machine can check (DESIGN: ``opsctl onboard``).

- ``onboard.tools``: Python, git and opsctl are installed (their versions);
- ``onboard.aws_identity``: the AWS credentials work (STS ``GetCallerIdentity``);
- ``onboard.config``: ``opsctl config check`` passes, and every runbook and checklist loads;
- ``onboard.deployed``: the audit log holds a deploy to an environment by the
  person onboarding (``params.who``, else the actor), supervised if asked.

Every problem is a failed outcome that says how to fix it, never an error
that stops the run: a new hire's first runs are where things are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import OpsctlError

if TYPE_CHECKING:
    from opsctl.audit.query import RunSummary

DEPLOYING = frozenset({"deploy", "hot-patch"})
# A deploy "happened" when its rollout ended verified, or ended rolled back and verified.
COUNTED = frozenset({"succeeded", "rolled_back"})
DEFAULT_REGION = "us-east-1"


class ToolsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_python: str = Field("3.11", pattern=r"^\d+\.\d+$", description="lowest Python version accepted")
    commands: list[str] = Field(default_factory=lambda: ["git"], description="commands asked for --version")


class AwsIdentityParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str | None = Field(None, description="default: the first ECS environment's region, else AWS_REGION")
    profile: str | None = Field(None, description="default: the first ECS environment's profile, else the chain")
    timeout: Duration = Field(10.0, description="per request to STS")


class ConfigCheckParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: bool = Field(True, description="also load every runbook and checklist")


class DeployedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    env: str = "staging"
    supervised: bool = Field(False, description="the deploy must name a --supervisor other than the person")
    who: str | None = Field(None, description="default: the person onboarding (params.who), else the actor")


@action("onboard.tools", ToolsParams)
def tools(ctx: RunContext, params: ToolsParams) -> Outcome:  # noqa: ARG001 - the machine, not the run
    """Python, git and opsctl are installed (with their versions)."""
    from opsctl import __version__

    problems: list[str] = []
    found = {"Python": ".".join(str(n) for n in sys.version_info[:3])}
    wanted = tuple(int(n) for n in params.min_python.split("."))
    if sys.version_info[:2] < wanted:
        problems.append(
            f"Python {found['Python']} is older than {params.min_python}: install Python "
            f"{params.min_python} or newer and recreate the virtualenv"
        )
    for command in params.commands:
        version, problem = _command_version(command)
        if version is None:
            problems.append(problem)
        else:
            found[command] = version
    found["opsctl"] = __version__
    opsctl_path = shutil.which("opsctl") or _beside_interpreter("opsctl")
    if opsctl_path is None:
        problems.append("the `opsctl` command is not installed: pip install -e '.[dev]' in the repository")
    shown = ", ".join(f"{name} {version}" for name, version in found.items())
    if problems:
        return Outcome.failed(f"{'; '.join(problems)} (found: {shown})", versions=found)
    return Outcome.passed(shown, versions=found, opsctl_path=opsctl_path)


def _command_version(command: str) -> tuple[str | None, str]:
    path = shutil.which(command)
    if path is None:
        return None, f"{command} is not installed (not on PATH)"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{command} --version did not answer: {exc}"
    text = (done.stdout or done.stderr).strip()
    match = re.search(r"\d+(\.\d+)+", text)
    if done.returncode != 0 or match is None:
        return None, f"{command} --version failed (exit {done.returncode}): {text[:80]}"
    return match.group(0), ""


def _beside_interpreter(name: str) -> str | None:
    """The console script in the interpreter's own bin folder (a virtualenv that is not activated)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


@action("onboard.aws_identity", AwsIdentityParams)
def aws_identity(ctx: RunContext, params: AwsIdentityParams) -> Outcome:
    """The AWS credentials work: STS says who they belong to (honours AWS_ENDPOINT_URL)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from opsctl.aws.client import aws_client
    from opsctl.aws.errors import credential_problem, error_code, error_message

    region, profile = _aws_target(ctx, params)
    try:
        client = aws_client(
            "sts",
            region=region,
            profile=profile,
            retries=1,
            connect_timeout=min(params.timeout, 5.0),
            read_timeout=params.timeout,
        )
        answer = client.get_caller_identity()
    except OpsctlError as exc:  # e.g. a profile that is not in the AWS config files
        return Outcome.failed(str(exc))
    except (BotoCoreError, ClientError) as exc:
        problem = credential_problem(exc)
        if problem is not None:
            return Outcome.failed(f"{problem.message}; then run `opsctl onboard` again", region=region)
        if isinstance(exc, ClientError):
            return Outcome.failed(f"AWS STS refused: {error_code(exc)}: {error_message(exc)}", region=region)
        return Outcome.failed(f"could not ask AWS STS who you are ({type(exc).__name__}: {exc})", region=region)
    arn, account = str(answer.get("Arn", "?")), str(answer.get("Account", "?"))
    return Outcome.passed(f"AWS credentials work: {arn} (account {account})", arn=arn, account=account, region=region)


def _aws_target(ctx: RunContext, params: AwsIdentityParams) -> tuple[str, str | None]:
    """Region and profile: given, else the first ECS environment's, else the standard variables."""
    ecs = [env.platform for env in ctx.config.environments.values() if env.platform.kind == "ecs"]
    first = ecs[0] if ecs else None
    region = (
        params.region
        or getattr(first, "region", None)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )
    return region, params.profile or getattr(first, "profile", None)


@action("onboard.config", ConfigCheckParams)
def config_check(ctx: RunContext, params: ConfigCheckParams) -> Outcome:
    """``opsctl config check`` passes (read afresh), and every runbook and checklist loads."""
    from opsctl.config import load_config
    from opsctl.engine.loader import load_checklist, load_runbook, sources
    from opsctl.files.yamlsrc import display_path

    try:
        config = load_config(ctx.config.path)
        loaded = {"checklists": 0, "runbooks": 0}
        if params.files:
            for source in sources("runbooks", config.project_dir):
                load_runbook(source.name, config.project_dir)
                loaded["runbooks"] += 1
            for source in sources("checklists", config.project_dir):
                load_checklist(source.name, config.project_dir)
                loaded["checklists"] += 1
    except OpsctlError as exc:
        return Outcome.failed(f"`opsctl config check` fails: {exc}")
    envs = ", ".join(config.environments)
    files = f"; {loaded['runbooks']} runbooks and {loaded['checklists']} checklists load" if params.files else ""
    return Outcome.passed(
        f"{display_path(config.path)} is valid ({envs}){files}", environments=list(config.environments), **loaded
    )


@action("onboard.deployed", DeployedParams)
def deployed(ctx: RunContext, params: DeployedParams) -> Outcome:
    """The audit log holds a deploy to ``env`` by the person onboarding (supervised, if asked)."""
    who = params.who or str(ctx.params.get("who") or ctx.actor)
    runs = person_deploys(ctx.journal.log.path, who, params.env)
    supervised = [r for r in runs if _supervisor(r, who)]
    matching = supervised if params.supervised else runs
    if matching:
        run = matching[0]
        by = f", supervised by {_supervisor(run, who)}" if params.supervised else ""
        when = (run.finished or run.started)[:16].replace("T", " ")
        return Outcome.passed(
            f"{run.runbook} of {run.image} to {params.env} by {who} on {when} ({run.status}{by}; run {run.run})",
            run=run.run,
            image=run.image,
            status=run.status,
        )
    if params.supervised:
        others = f" ({len(runs)} without --supervisor)" if runs else ""
        hint = f"with your mentor, run `opsctl deploy {params.env} --image IMAGE --supervisor MENTOR`"
        return Outcome.failed(f"no supervised {params.env} deploy by {who} in the audit log yet{others}: {hint}")
    return Outcome.failed(
        f"no {params.env} deploy by {who} in the audit log yet: sit with a mentor and run "
        f"`opsctl deploy {params.env} --image IMAGE` together"
    )


def person_deploys(audit_path: Path, who: str, env: str) -> list[RunSummary]:
    """Finished, real (not dry-run) deploys and hot-patches to ``env`` by ``who``, oldest first."""
    from opsctl.audit.query import load_runs

    wanted = who.strip().lower()
    return [
        r
        for r in load_runs(audit_path, env)
        if r.runbook in DEPLOYING and r.actor.strip().lower() == wanted and r.status in COUNTED and not r.dry_run
    ]


def _supervisor(run: RunSummary, who: str) -> str | None:
    """The supervisor a run recorded, unless it names the person themselves."""
    name = (run.supervisor or "").strip()
    return name if name and name.lower() != who.strip().lower() else None
