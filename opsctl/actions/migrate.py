"""``platform.migrate``: run the environment's database migrations with the new image, before traffic moves.

The deploy runbook runs it after the gates and before ``platform.deploy``,
``when`` the environment has ``migrate:``. The driver runs the command once in
a one-off unit (ECS task, Fly machine) of the image the deploy will roll out;
anything but exit 0 fails the step, which stops the run before the service is
touched, with the migration's last log lines as the diagnosis.

Every migration is journaled as two audit events (step :data:`MIGRATION_STEP`):
``started`` and its outcome (``succeeded``, ``failed``, ``timeout``,
``interrupted``), each naming the image as asked for, the reference that ran,
its tag and digest. The "migrations tested in staging" gate
(:mod:`opsctl.actions.migrate_gate`) reads them.
"""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.actions.verify import pinned_image
from opsctl.config import Duration
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput, Interrupted
from opsctl.platforms.base import RolloutOptions
from opsctl.platforms.migration import MigrationRequest, MigrationResult, MigrationStatus
from opsctl.values.imageref import ImageRef

MIGRATION_STEP = "migration"


class MigrateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = Field(None, description="default: the image being deployed (pinned to its digest)")
    timeout: Duration | None = Field(None, description="default: migrate.timeout of the environment")


def migration_fields(asked: ImageRef, ran: ImageRef, result: MigrationResult | None = None) -> dict[str, Any]:
    """What a migration event says about the image: as asked for, as run, its tag and digest."""
    digest = (result.digest if result is not None else None) or ran.digest
    return {"image": str(asked), "ran": str(ran), "tag": asked.version, "digest": digest}


@action("platform.migrate", MigrateParams, mutating=True, needs_env=True)
def platform_migrate(ctx: RunContext, params: MigrateParams) -> Outcome:
    """Run the database migrations (migrate.command) once with the new image; anything but exit 0 fails."""
    config = ctx.env.migrate
    if config is None:
        return Outcome.skipped(f"no migrate: configured for {ctx.env_name}; no migration to run")
    asked = ImageRef.parse(params.image) if params.image else ctx.request.image
    if asked is None:
        raise BadInput("platform.migrate needs an image: pass --image or set with: image")
    ran = pinned_image(ctx, asked) or asked
    platform = ctx.platform()
    command = tuple(config.command)
    request = MigrationRequest(
        image=ran, command=command, timeout=params.timeout or config.timeout, key=ctx.run_id, log_lines=config.log_lines
    )
    options = RolloutOptions(
        timeout=request.timeout,
        on_event=lambda message: ctx.emit("platform.event", message=message),
        cancel=ctx.cancel,
        poll_interval=ctx.env.platform.poll_interval,
        fence=ctx.fence,
        run_id=ctx.run_id,
    )
    fields = migration_fields(asked, ran)
    ctx.journal.event(
        MIGRATION_STEP, "started", **fields, command=list(command), target=platform.describe(), timeout=request.timeout
    )
    ctx.fence()  # still the lock's holder? (the driver asks again right before it starts anything)
    try:
        result = platform.run_migration(request, options)
    except Exception as exc:
        # The journal must not show a migration forever "started": say how it ended, then let the error out.
        ctx.journal.event(MIGRATION_STEP, "error", **fields, summary=ctx.redactor.text(str(exc)))
        raise
    ctx.journal.event(
        MIGRATION_STEP,
        result.status.value,
        **migration_fields(asked, ran, result),
        command=list(command),
        unit=result.unit,
        exit_code=result.exit_code,
        summary=result.message,
    )
    if result.status is MigrationStatus.INTERRUPTED or ctx.cancel.is_set():
        raise Interrupted(result.message)
    detail: dict[str, Any] = {"migration": {**result.as_dict(), "command": shlex.join(command)}}
    if result.ok:
        _show_logs(ctx, result)
        return Outcome.passed(result.message, **detail)
    # The run's verdict shows it, --json carries it, the audit log keeps it (the step's detail).
    return Outcome.failed(result.message, **detail, diagnosis=diagnosis(result))


def diagnosis(result: MigrationResult) -> dict[str, Any]:
    """Why the migration failed: its verdict, the last lines of its logs, and what could not be shown."""
    lines = [f"why: {result.message}"]
    if result.logs:
        lines.append(f"last {len(result.logs)} log lines of the migration ({result.unit}):")
        lines += [f"  {line}" for line in result.logs]
    notes = [note for note in (result.logs_note, result.detail.get("left_behind")) if note]
    lines += [f"note: {note}" for note in notes]
    return {
        "reason": result.message,
        "unit": result.unit,
        "exit_code": result.exit_code,
        "logs": {"lines": list(result.logs)},
        "notes": notes,
        "text": "\n".join(lines),
    }


def _show_logs(ctx: RunContext, result: MigrationResult) -> None:
    """What a successful migration printed, in the live view (a failed one's goes into its diagnosis)."""
    if result.logs:
        ctx.emit("message", message=f"last {len(result.logs)} log lines of the migration ({result.unit}):")
        for line in result.logs:
            ctx.emit("message", message=f"| {line}")
    if result.logs_note:
        ctx.emit("message", message=f"logs: {result.logs_note}")
