"""``migrate.tested_in``: the pre-deploy item "Database migrations tested in staging", answered by the audit log.

For an environment with ``requires.promoted_from`` (or ``with: env``), the
image's migration must have succeeded there: a ``migration`` event with status
``succeeded`` (written by ``platform.migrate``) for the same image, by its
reference as asked for, or by digest. When the digest this run pinned is known
and the one migrated there differs, the tag moved since: that migration tested
another image.

With ``audit.hmac_key_env`` only events whose HMAC verifies count, as for the
promotion gate (:mod:`opsctl.audit.evidence`): anyone who can write the log
could otherwise append a migration that never ran.

Where neither environment has ``migrate:``, migrations are not a deploy step,
so no migration event can exist: the item then answers what it always did,
whether the image passed verification there (``audit.verified_in``), and says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opsctl.actions.audit_gates import VerifiedInParams, verified_in
from opsctl.actions.migrate import MIGRATION_STEP
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.values.imageref import ImageRef

_MARK = b'"step":"migration"'


@dataclass(frozen=True)
class MigrationRecord:
    """One journaled migration outcome."""

    run: str
    ts: str
    status: str
    image: str
    ran: str
    digest: str | None
    summary: str
    keyed: bool

    @classmethod
    def of(cls, event: dict[str, Any], keyed: bool) -> MigrationRecord:
        return cls(
            run=str(event.get("run")),
            ts=str(event.get("ts")),
            status=str(event.get("status")),
            image=str(event.get("image") or ""),
            ran=str(event.get("ran") or ""),
            digest=str(event["digest"]) if event.get("digest") else None,
            summary=str(event.get("summary") or ""),
            keyed=keyed,
        )

    def names(self, image: str, digest: str | None) -> bool:
        """This record is about ``image`` (as asked for or as run), or about the image with ``digest``."""
        return image in (self.image, self.ran) or (digest is not None and digest == self.digest)


def migration_records(path: Path, env: str, secret: bytes | None) -> list[MigrationRecord]:
    """The migration outcomes journaled for ``env``, oldest first; ``keyed`` says whether the HMAC verifies."""
    from opsctl.audit.line import decode_line, line_keyed
    from opsctl.audit.logfile import log_error, open_log

    if not os.path.lexists(path):
        return []
    found: list[MigrationRecord] = []
    try:
        with os.fdopen(open_log(path, os.O_RDONLY), "rb") as handle:
            for raw in handle:
                if _MARK not in raw or not raw.endswith(b"\n"):  # a torn last line is no event yet
                    continue
                event = decode_line(raw[:-1])
                if event is None or event.get("step") != MIGRATION_STEP or event.get("env") != env:
                    continue
                if event.get("status") == "started":
                    continue
                keyed = secret is not None and line_keyed(raw[:-1], secret)
                found.append(MigrationRecord.of(event, keyed))
    except OSError as exc:
        raise log_error(path, exc) from None
    return found


class MigrationsTestedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    env: str | None = Field(None, description="where it must have been migrated (default: requires.promoted_from)")
    image: str | None = Field(None, description="default: the image being deployed")


@action("migrate.tested_in", MigrationsTestedParams)
def migrations_tested(ctx: RunContext, params: MigrationsTestedParams) -> Outcome:
    """The image's database migrations succeeded in another environment (e.g. staging), per the audit log."""
    here = ctx.env_name
    source = params.env or (ctx.env.requires.promoted_from if here else None)
    if not source or source == here:
        return Outcome.skipped(f"{here} is where migrations are first tested; nothing to compare with")
    there = ctx.config.environment(source)
    ours = ctx.env.migrate if here else None
    if there.migrate is None and ours is None:
        outcome = verified_in(ctx, VerifiedInParams(env=params.env, image=params.image))
        note = (
            f"migrations are not a deploy step (no migrate: for {source} or {here}); "
            f"this item counts the image's verification on {source}"
        )
        return Outcome(outcome.status, outcome.summary, {**outcome.detail, "migrations": note})
    if there.migrate is None:
        return Outcome.failed(
            f"{here} runs migrations (migrate:) but {source} does not, so none was ever tested there; "
            f"add migrate: to environments.{source} in opsctl.yaml"
        )
    asked = ImageRef.parse(params.image) if params.image else ctx.request.image
    if asked is None:
        return Outcome.failed("no image given: pass --image")
    return _judge(ctx, source, str(asked), _pinned_digest(ctx, asked))


def _pinned_digest(ctx: RunContext, image: ImageRef) -> str | None:
    """The digest of ``image``: its own, or the one this run's verify step resolved its tag to."""
    pinned = ctx.state.pinned
    if image.digest:
        return image.digest
    return pinned["digest"] if pinned is not None and pinned["tag_ref"] == str(image) else None


def _judge(ctx: RunContext, source: str, image: str, digest: str | None) -> Outcome:
    log = ctx.journal.log
    secret = log.key.secret() if log.key is not None else None
    records = [r for r in migration_records(log.path, source, secret) if r.names(image, digest)]
    counted = [r for r in records if secret is None or r.keyed]
    succeeded = [r for r in counted if r.status == "succeeded"]
    same = [r for r in succeeded if digest is None or r.digest is None or r.digest == digest]
    if same:
        last = same[-1]
        return Outcome.passed(
            f"the migrations of {image} succeeded on {source} (run {last.run}, {last.ts})", run=last.run
        )
    if succeeded:
        last = succeeded[-1]
        return Outcome.failed(
            f"{image} is {digest} now, but the migration that succeeded on {source} (run {last.run}) ran "
            f"{last.digest}: the tag moved; deploy {image} to {source} again",
            run=last.run,
        )
    if secret is not None and any(r.status == "succeeded" for r in records):
        unkeyed = next(r for r in reversed(records) if r.status == "succeeded")
        return Outcome.failed(
            f"the migration record of run {unkeyed.run} in {source} has no valid HMAC (audit.hmac_key_env); "
            "refusing to count it",
            run=unkeyed.run,
        )
    if counted:
        last = counted[-1]
        return Outcome.failed(
            f"the migrations of {image} did not succeed on {source}: run {last.run} ended '{last.status}' "
            f"({last.summary}); fix them and deploy to {source} again",
            run=last.run,
        )
    return Outcome.failed(
        f"the migrations of {image} never ran on {source}; "
        f"deploy it there first: opsctl deploy {source} --image {image}"
    )
