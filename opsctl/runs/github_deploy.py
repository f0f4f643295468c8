"""A GitHub Deployment for every deploy, rollback and hot-patch, when ``github:`` is configured.

Called where a run announces its start and its end (:mod:`opsctl.runs.announce`):

- start: a deployment of the image's commit (else its tag) to the environment,
  and its ``in_progress`` status; a rollback's target is only known at its end,
  so a rollback's deployment is made then;
- end: ``success`` (and ``inactive`` on the deployment it replaced), or
  ``failure`` for a run that failed, rolled back or could not roll back.

Best effort: GitHub refusing or unreachable never fails a run. Each call's
outcome is journaled as a ``github.deployment`` event (``passed`` with the
deployment id and state, or ``warned`` with the reason), which is also how a
resumed run, in a new process, finds the deployment its first process made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsctl.engine.context import RunContext
    from opsctl.git.deployments import Deployments

STEP = "github.deployment"
TASKS = {"deploy": "deploy", "hot-patch": "deploy:hotpatch", "rollback": "deploy:rollback"}
_TRANSIENT_PREFIXES = ("dev-", "preview", "review")
_made: dict[str, int] = {}  # run id -> deployment id, for the end of a run this process started
_gave_up: set[str] = set()  # runs whose GitHub was unreachable: their other calls are not tried


def wanted(ctx: RunContext) -> bool:
    """Whether this run gets a deployment: github configured (and not turned off), a change, not a dry run."""
    settings = ctx.config.github
    return (
        settings is not None
        and settings.deployments
        and ctx.journal.runbook in TASKS
        and ctx.env_name is not None
        and not ctx.dry_run
    )


def transient(env: str) -> bool:
    """Development and preview environments are transient: GitHub marks them inactive once they go away."""
    return env in ("dev", "development") or env.startswith(_TRANSIENT_PREFIXES)


def run_started(ctx: RunContext) -> None:
    """Make the deployment and say ``in_progress`` (deploys and hot-patches: their image is known now)."""
    if not wanted(ctx) or ctx.request.image is None:
        return
    with _client(ctx) as client:
        if client is not None:
            deployment = _create(ctx, client, str(ctx.request.image))
            if deployment is not None:
                _status(
                    ctx, client, deployment, "in_progress", f"opsctl {ctx.journal.runbook} started (run {ctx.run_id})"
                )


def run_finished(ctx: RunContext, status: str, summary: str) -> None:
    """``success`` (and ``inactive`` for the one replaced) or ``failure`` on the run's deployment."""
    if not wanted(ctx):
        return
    with _client(ctx) as client:
        if client is None:
            return
        deployment = _made.pop(ctx.run_id, None) or _journaled(ctx)
        if deployment is None:
            release = ctx.state.release if status == "succeeded" else (ctx.state.attempted or ctx.state.release)
            image = (release or {}).get("image") or (str(ctx.request.image) if ctx.request.image else None)
            if not image:
                return
            deployment = _create(ctx, client, str(image))
            if deployment is None:
                return
        state = "success" if status == "succeeded" else "failure"
        if _status(ctx, client, deployment, state, summary) and state == "success":
            _inactivate_replaced(ctx, client, deployment)
    _gave_up.discard(ctx.run_id)


def run_aborted(ctx: RunContext, summary: str) -> None:
    """``error`` on the run's deployment when the run ended by an error, not a verdict.

    An interrupted or locked-out run stays resumable, so its deployment stays
    ``in_progress``; a run that stopped on an error (a refused policy, a gate
    it could not evaluate, a platform in an unknown state) says so on GitHub
    instead of looking in progress forever. No deployment is created here.
    """
    if not wanted(ctx):
        return
    deployment = _made.pop(ctx.run_id, None) or _journaled(ctx)
    if deployment is None:
        return
    with _client(ctx) as client:
        if client is not None:
            _status(ctx, client, deployment, "error", summary[:140])
    _gave_up.discard(ctx.run_id)


class _client:
    """The repository's Deployments client for one hook call, or None (journaled) when it cannot be made."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.client: Deployments | None = None

    def __enter__(self) -> Deployments | None:
        from opsctl.errors import OpsctlError
        from opsctl.git.deployments import Deployments

        if self.ctx.run_id in _gave_up:
            return None
        try:
            self.client = Deployments.from_config(self.ctx.config, self.ctx.redactor)
        except OpsctlError as exc:
            _warn(self.ctx, f"no GitHub deployment: {exc}")
            _gave_up.add(self.ctx.run_id)
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()


def _create(ctx: RunContext, client: Deployments, image: str) -> int | None:
    from opsctl.git.deployments import ApiError, DeploymentRequest

    env = str(ctx.env_name)
    ref = git_ref(ctx, image)
    if ref is None:
        _warn(ctx, f"no GitHub deployment: {image} has no tag to name a git ref by")
        return None
    environment = ctx.config.environment(env)
    payload: dict[str, Any] = {"run": ctx.run_id, "runbook": ctx.journal.runbook, "image": image}
    if ctx.request.incident:
        payload["incident"] = ctx.request.incident
    request = DeploymentRequest(
        ref=ref,
        environment=env,
        task=TASKS[ctx.journal.runbook],
        description=f"opsctl {ctx.journal.runbook} of {image} (run {ctx.run_id})",
        transient=transient(env),
        production=environment.protected,
        payload=payload,
    )
    try:
        deployment, _url = client.create(request)
    except ApiError as exc:
        _failed(ctx, f"GitHub deployment not created: {exc}", exc)
        return None
    _made[ctx.run_id] = deployment
    ctx.journal.event(STEP, "passed", deployment=deployment, state="created", ref=ref, environment=env)
    return deployment


def _status(ctx: RunContext, client: Deployments, deployment: int, state: str, description: str) -> bool:
    from opsctl.git.deployments import ApiError, StatusUpdate, ci_log_url

    health = ctx.config.environment(str(ctx.env_name)).health
    update = StatusUpdate(state, description, health.base_url if health else None, ci_log_url())
    try:
        client.set_status(deployment, update)
    except ApiError as exc:
        _failed(ctx, f"GitHub deployment {deployment} not marked {state}: {exc}", exc)
        return False
    ctx.journal.event(STEP, "passed", deployment=deployment, state=state)
    return True


def _inactivate_replaced(ctx: RunContext, client: Deployments, deployment: int) -> None:
    from opsctl.git.deployments import ApiError, StatusUpdate

    try:
        replaced = client.replaced(str(ctx.env_name), deployment)
        if replaced is not None:
            client.set_status(
                replaced, StatusUpdate("inactive", f"replaced by deployment {deployment} (run {ctx.run_id})")
            )
    except ApiError as exc:
        _failed(ctx, f"the deployment replaced by {deployment} not marked inactive: {exc}", exc)
        return
    if replaced is not None:
        ctx.journal.event(STEP, "passed", deployment=replaced, state="inactive", replaced_by=deployment)


def git_ref(ctx: RunContext, image: str) -> str | None:
    """The commit ``image`` was built from when its tag or the project's git says so, else its tag."""
    from opsctl.git.changes import looks_like_sha
    from opsctl.values.imageref import ImageRef

    parsed = ImageRef.try_parse(image)
    tag = parsed.tag if parsed is not None else None
    if not tag:
        return None
    for candidate in (tag, tag.removeprefix("sha-")):
        if looks_like_sha(candidate):
            return candidate
    return _commit_of(ctx, image) or tag


def _commit_of(ctx: RunContext, image: str) -> str | None:
    """The commit the project's git tags ``image``'s version with (``1.8.0`` / ``v1.8.0``), or None."""
    try:
        from opsctl.git.changes import try_resolve
        from opsctl.git.repo import open_repo

        found = try_resolve(open_repo(ctx.project_dir), image)
    except Exception:  # no git, no repository, a broken one: the tag names the ref instead
        return None
    return found.sha if found is not None else None


def _journaled(ctx: RunContext) -> int | None:
    """The deployment an earlier process of this run made (``opsctl resume``), from the journal."""
    from opsctl.audit.query.read import field_mark, read_events

    made = None
    for event in read_events(ctx.journal.log, (field_mark("run", ctx.run_id),)):
        if event.get("step") == STEP and event.get("state") == "created" and isinstance(event.get("deployment"), int):
            made = int(event["deployment"])
    return made


def _failed(ctx: RunContext, message: str, exc: Exception) -> None:
    if getattr(exc, "unreachable", False):
        _gave_up.add(ctx.run_id)  # the next calls would wait out the same outage
    _warn(ctx, message)


def _warn(ctx: RunContext, message: str) -> None:
    text = ctx.redactor.text(message)
    ctx.journal.event(STEP, "warned", summary=text)
    ctx.emit("message", message=text)
