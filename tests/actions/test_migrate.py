"""``platform.migrate`` and the "migrations tested in staging" gate, over a real config file and audit log.

The platform is a stand-in at its edge (what the drivers return is tested in
tests/platforms/test_*_migrate.py); the journal, config and gate are real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opsctl.actions.migrate import MIGRATION_STEP, MigrateParams, platform_migrate
from opsctl.actions.migrate_gate import MigrationsTestedParams, migrations_tested
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.errors import BadInput, Interrupted
from opsctl.platforms.base import Platform, RolloutOptions
from opsctl.platforms.migration import MigrationRequest, MigrationResult, MigrationStatus
from tests.support.context import base_config, make_ctx

IMAGE = "hvb:1.8.0"
DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64
MIGRATE = {"command": ["alembic", "upgrade", "head"], "timeout": "2m"}


class StandIn(Platform):
    """Answers run_migration with a scripted result and records what it was asked."""

    kind = "stand-in"

    def __init__(self, result: MigrationResult | None = None) -> None:
        self.result = result
        self.asked: list[tuple[MigrationRequest, RolloutOptions]] = []

    def describe(self) -> str:
        return "stand-in hvb"

    def run_migration(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        self.asked.append((request, options))
        assert self.result is not None
        return self.result

    def current_release(self) -> Any:
        raise NotImplementedError

    releases = find_release = can_deploy = plan = deploy = rollback = current_release


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def messages(self) -> list[str]:
        return [d["message"] for k, d in self.events if k in ("message", "platform.event")]


def config(staging: dict[str, Any] | None = None, production: dict[str, Any] | None = None) -> dict[str, Any]:
    made = base_config()
    made["environments"]["staging"].update(staging or {})
    made["environments"]["production"].update(production or {})
    return made


def ctx_for(tmp_path: Path, env: str, made: dict[str, Any], platform: Platform | None = None, **kw: Any) -> RunContext:
    ctx = make_ctx(tmp_path, made, env=env, runbook="deploy", **kw)
    if platform is not None:
        ctx.platform_factory = lambda: platform
    return ctx


def journal(ctx: RunContext) -> list[dict[str, Any]]:
    path = ctx.journal.log.path
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["step"] == MIGRATION_STEP]


def result(status: MigrationStatus = MigrationStatus.SUCCEEDED, **kw: Any) -> MigrationResult:
    values: dict[str, Any] = {
        "message": "the migration `alembic upgrade head` exited 0 (task t1, hvb:2)",
        "image": IMAGE,
        "unit": "t1",
        "exit_code": 0,
        "digest": DIGEST,
        "logs": ("INFO  [alembic] Running upgrade 41 -> 42",),
    }
    return MigrationResult(status, **(values | kw))


@pytest.fixture(autouse=True)
def _fly_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "fo1_not-a-real-token-5b1e")


# -- platform.migrate ----------------------------------------------------------------------------


def test_a_successful_migration_passes_and_is_journaled_with_tag_and_digest(tmp_path: Path) -> None:
    platform = StandIn(result())
    observer = Recorder()
    ctx = ctx_for(tmp_path, "staging", config(staging={"migrate": MIGRATE}), platform, params={"image": IMAGE})
    ctx.observer = observer

    outcome = platform_migrate(ctx, MigrateParams())

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        "the migration `alembic upgrade head` exited 0 (task t1, hvb:2)",
    )
    assert outcome.detail["migration"]["command"] == "alembic upgrade head"
    assert outcome.detail["migration"]["logs"] == ["INFO  [alembic] Running upgrade 41 -> 42"]
    ((request, options),) = platform.asked
    assert (str(request.image), request.command, request.timeout, request.key) == (
        IMAGE,
        ("alembic", "upgrade", "head"),
        120.0,
        ctx.run_id,
    )
    assert options.fence is ctx.fence
    started, ended = journal(ctx)
    common = {"env": "staging", "image": IMAGE, "ran": IMAGE, "tag": "1.8.0"}
    assert {k: started[k] for k in common} == common
    assert (started["status"], started["digest"], started["command"]) == (
        "started",
        None,
        ["alembic", "upgrade", "head"],
    )
    assert {k: ended[k] for k in common} == common
    assert (ended["status"], ended["digest"], ended["exit_code"], ended["unit"]) == ("succeeded", DIGEST, 0, "t1")
    assert observer.messages() == [
        "last 1 log lines of the migration (t1):",
        "| INFO  [alembic] Running upgrade 41 -> 42",
    ]


def test_a_failed_migration_fails_the_step_with_its_logs(tmp_path: Path) -> None:
    failed = result(
        MigrationStatus.FAILED,
        message="the migration `alembic upgrade head` failed (task t1): container bot exited with code 1",
        exit_code=1,
        logs=("sqlalchemy.exc.OperationalError: relation guests does not exist",),
    )
    observer = Recorder()
    ctx = ctx_for(tmp_path, "staging", config(staging={"migrate": MIGRATE}), StandIn(failed), params={"image": IMAGE})
    ctx.observer = observer

    outcome = platform_migrate(ctx, MigrateParams())

    assert (outcome.status, outcome.summary) == (Status.FAILED, failed.message)
    assert outcome.detail["migration"]["exit_code"] == 1
    assert [e["status"] for e in journal(ctx)] == ["started", "failed"]
    assert outcome.detail["diagnosis"]["text"] == (
        f"why: {failed.message}\n"
        "last 1 log lines of the migration (t1):\n"
        "  sqlalchemy.exc.OperationalError: relation guests does not exist"
    )
    assert outcome.detail["diagnosis"]["logs"] == {"lines": list(failed.logs)}
    assert observer.messages() == []  # shown once, by the run's verdict, not also live


def test_the_image_pinned_by_verify_is_what_runs(tmp_path: Path) -> None:
    platform = StandIn(result(digest=None))
    ctx = ctx_for(tmp_path, "staging", config(staging={"migrate": MIGRATE}), platform, params={"image": IMAGE})
    ctx.state.pinned = {"tag_ref": IMAGE, "digest": DIGEST, "image": f"{IMAGE}@{DIGEST}"}

    platform_migrate(ctx, MigrateParams(timeout=30.0))

    ((request, _),) = platform.asked
    assert (str(request.image), request.timeout) == (f"{IMAGE}@{DIGEST}", 30.0)
    ended = journal(ctx)[-1]
    assert (ended["image"], ended["ran"], ended["tag"], ended["digest"]) == (
        IMAGE,
        f"{IMAGE}@{DIGEST}",
        "1.8.0",
        DIGEST,
    )


def test_without_migrate_config_there_is_nothing_to_run(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "staging", config(), StandIn(), params={"image": IMAGE})

    outcome = platform_migrate(ctx, MigrateParams())

    assert (outcome.status, outcome.summary) == (
        Status.SKIPPED,
        "no migrate: configured for staging; no migration to run",
    )
    assert journal(ctx) == []


def test_without_an_image_it_is_bad_input(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "staging", config(staging={"migrate": MIGRATE}), StandIn())

    with pytest.raises(BadInput) as caught:
        platform_migrate(ctx, MigrateParams())

    assert str(caught.value) == "platform.migrate needs an image: pass --image or set with: image"


def test_an_interrupted_migration_interrupts_the_run(tmp_path: Path) -> None:
    interrupted = result(
        MigrationStatus.INTERRUPTED, message="interrupted while the migration runs; it was left running"
    )
    ctx = ctx_for(
        tmp_path, "staging", config(staging={"migrate": MIGRATE}), StandIn(interrupted), params={"image": IMAGE}
    )

    with pytest.raises(Interrupted) as caught:
        platform_migrate(ctx, MigrateParams())

    assert str(caught.value) == "interrupted while the migration runs; it was left running"
    assert [e["status"] for e in journal(ctx)] == ["started", "interrupted"]


def test_a_platform_without_migrations_says_so(tmp_path: Path) -> None:
    class NoMigrations(StandIn):
        kind = "kubernetes"
        run_migration = Platform.run_migration  # type: ignore[assignment]

    ctx = ctx_for(tmp_path, "staging", config(staging={"migrate": MIGRATE}), NoMigrations(), params={"image": IMAGE})

    with pytest.raises(BadInput) as caught:
        platform_migrate(ctx, MigrateParams())

    assert str(caught.value) == (
        "database migrations (migrate: in opsctl.yaml) are not supported on kubernetes platforms; "
        "remove migrate: from this environment and run them another way"
    )
    assert [e["status"] for e in journal(ctx)] == ["started", "error"]


# -- migrate.tested_in ---------------------------------------------------------------------------

BOTH = config(staging={"migrate": MIGRATE}, production={"migrate": MIGRATE, "requires": {"promoted_from": "staging"}})


def migrate_in_staging(tmp_path: Path, outcome: MigrationResult, image: str = IMAGE) -> str:
    ctx = ctx_for(tmp_path, "staging", BOTH, StandIn(outcome), params={"image": image})
    platform_migrate(ctx, MigrateParams())
    return ctx.run_id


def gate(tmp_path: Path, made: dict[str, Any] = BOTH, image: str = IMAGE, **state: Any) -> Any:
    ctx = ctx_for(tmp_path, "production", made, params={"image": image})
    for key, value in state.items():
        setattr(ctx.state, key, value)
    return migrations_tested(ctx, MigrationsTestedParams())


def test_an_image_whose_migration_never_ran_in_staging_fails(tmp_path: Path) -> None:
    outcome = gate(tmp_path)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "the migrations of hvb:1.8.0 never ran on staging; "
        "deploy it there first: opsctl deploy staging --image hvb:1.8.0",
    )


def test_an_image_migrated_in_staging_passes_naming_the_run(tmp_path: Path) -> None:
    run = migrate_in_staging(tmp_path, result())
    ended = json.loads((tmp_path / ".opsctl" / "audit.jsonl").read_text().splitlines()[-1])

    outcome = gate(tmp_path)

    assert (outcome.status, outcome.summary) == (
        Status.PASSED,
        f"the migrations of hvb:1.8.0 succeeded on staging (run {run}, {ended['ts']})",
    )


def test_a_migration_that_failed_in_staging_fails_the_item(tmp_path: Path) -> None:
    run = migrate_in_staging(tmp_path, result(MigrationStatus.FAILED, message="exited with code 1", exit_code=1))

    outcome = gate(tmp_path)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"the migrations of hvb:1.8.0 did not succeed on staging: run {run} ended 'failed' (exited with code 1); "
        "fix them and deploy to staging again",
    )


def test_another_images_migration_does_not_count(tmp_path: Path) -> None:
    migrate_in_staging(tmp_path, result(image="hvb:1.7.9", digest=OTHER_DIGEST), image="hvb:1.7.9")

    assert gate(tmp_path).summary.startswith("the migrations of hvb:1.8.0 never ran on staging")


def test_a_moved_tag_is_not_the_image_staging_migrated(tmp_path: Path) -> None:
    run = migrate_in_staging(tmp_path, result(digest=OTHER_DIGEST))
    pinned = {"tag_ref": IMAGE, "digest": DIGEST, "image": f"{IMAGE}@{DIGEST}"}

    outcome = gate(tmp_path, pinned=pinned)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"hvb:1.8.0 is {DIGEST} now, but the migration that succeeded on staging (run {run}) ran {OTHER_DIGEST}: "
        "the tag moved; deploy hvb:1.8.0 to staging again",
    )


def test_a_digest_reference_matches_the_tag_staging_migrated(tmp_path: Path) -> None:
    migrate_in_staging(tmp_path, result())

    assert gate(tmp_path, image=f"hvb@{DIGEST}").status is Status.PASSED


def test_with_an_audit_key_an_unkeyed_migration_record_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = migrate_in_staging(tmp_path, result())  # written before the key was configured: no HMAC
    monkeypatch.setenv("HVB_AUDIT_KEY", "a key only the CI runners hold")
    keyed = {**BOTH, "audit": {"hmac_key_env": "HVB_AUDIT_KEY"}}

    outcome = gate(tmp_path, keyed)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        f"the migration record of run {run} in staging has no valid HMAC (audit.hmac_key_env); refusing to count it",
    )


def test_with_an_audit_key_a_keyed_migration_record_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVB_AUDIT_KEY", "a key only the CI runners hold")
    keyed = {**BOTH, "audit": {"hmac_key_env": "HVB_AUDIT_KEY"}}
    ctx = ctx_for(tmp_path, "staging", keyed, StandIn(result()), params={"image": IMAGE})
    platform_migrate(ctx, MigrateParams())

    assert gate(tmp_path, keyed).status is Status.PASSED


def test_production_migrating_while_staging_does_not_fails_naming_the_fix(tmp_path: Path) -> None:
    made = config(production={"migrate": MIGRATE, "requires": {"promoted_from": "staging"}})

    outcome = gate(tmp_path, made)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "production runs migrations (migrate:) but staging does not, so none was ever tested there; "
        "add migrate: to environments.staging in opsctl.yaml",
    )


def test_without_migrate_anywhere_the_item_counts_the_verification_and_says_so(tmp_path: Path) -> None:
    made = config(production={"requires": {"promoted_from": "staging"}})

    outcome = gate(tmp_path, made)

    assert (outcome.status, outcome.summary) == (
        Status.FAILED,
        "hvb:1.8.0 was never deployed to staging; deploy and verify it there first",
    )
    assert outcome.detail["migrations"] == (
        "migrations are not a deploy step (no migrate: for staging or production); "
        "this item counts the image's verification on staging"
    )


def test_where_migrations_are_first_tested_there_is_nothing_to_compare(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "staging", BOTH, params={"image": IMAGE})

    outcome = migrations_tested(ctx, MigrationsTestedParams())

    assert (outcome.status, outcome.summary) == (
        Status.SKIPPED,
        "staging is where migrations are first tested; nothing to compare with",
    )
