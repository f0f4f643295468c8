"""Write a project folder with a realistic, verifying audit log of about N events (issue 19).

    python benchmarks/make_log.py --events 1000000 --out /tmp/hvb-1m
    cd /tmp/hvb-1m && opsctl audit verify && opsctl status staging

The folder gets ``opsctl.yaml`` (staging, production and development on ECS;
``--endpoint-url`` points them at a local AWS such as moto server) and
``.opsctl/audit.jsonl``: two years of runs ending at ``--end`` (default now),
shaped like the events opsctl writes (see ``opsctl demo``): checklist runs,
deploys with their gate items, baseline, rollout and verification, automatic
rollbacks of failed verifications, rollouts that fail, runs killed without a
verdict, manual rollbacks, incidents (open, acknowledge, resolve, sometimes a
post-mortem) and hot-patches that name them. Proportions (per 100 runs, about):
18 checklist runs, 78 deploys (of which 6 rolled back, 1.5 failed, 0.7
interrupted, 2 stopped by their gates), 4 rollbacks, and for about one run in
500 an incident (opened, acknowledged, then a hot-patch naming it, a note and
its resolution).

Lines are written with :func:`opsctl.audit.line.encode_event`, the function
``AuditLog.append`` uses (same hash chain and bytes, without an fsync per
line), so ``opsctl audit verify`` accepts the log. The same seed writes the
same log.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.audit.line import GENESIS, encode_event, format_ts

ENVS = (("staging", 0.55), ("production", 0.35), ("development", 0.10))
ACTORS = tuple(f"{name}@hvb.example" for name in ("ana", "ben", "chloe", "dev", "eve", "farid", "gus", "ci-bot"))
ARN = "arn:aws:sts::123456789012:assumed-role/deployer/"
PRE_ITEMS = (
    ("tests-confirmed", "All tests passing (unit, integration, e2e)", "manual"),
    ("code-review-confirmed", "Code review completed and approved", "manual"),
    ("security-scan", "Security scan completed", "manual"),
    ("performance-tests", "Performance testing completed", "manual"),
    ("migrations", "Database migrations tested in staging", "audit.verified_in"),
    ("stakeholders", "Stakeholders notified of deployment window", "notify.window"),
    ("rollback-plan", "Rollback plan prepared", "rollback.ready"),
    ("git-clean", "Working tree clean (protected environments)", "git.clean"),
)
POST_ITEMS = (
    ("health", "Health checks passing", "health.live"),
    ("version", "Health checks passing — the new version is what serves", "health.version"),
    ("monitoring", "Monitoring and alerting functional", "metrics.fresh"),
    ("core", "Core functionality verified", "health.synthetic"),
    ("performance", "Performance metrics within normal ranges (p95 latency)", "metrics.latency"),
    ("errors", "No increase in error rates", "metrics.error_rate"),
    ("db-pool", "Performance metrics within normal ranges (database connection pool)", "metrics.db_pool"),
    ("integrations", "External integrations working (database, OpenAI, WhatsApp)", "health.dependencies"),
)
CONFIG = """# Written by benchmarks/make_log.py: {events} events over two years.
service: hotel-voice-bot
state_dir: .opsctl
environments:
{environments}"""
ENV_CONFIG = """  {name}:
    platform:
      kind: ecs
      region: eu-west-1
      cluster: hvb-{name}
      service: hotel-voice-bot
      container: bot{endpoint}
    health:
      base_url: http://127.0.0.1:9/{name}
"""


class World:
    """What runs where, so releases, rollbacks and incidents follow on from each other."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.revision = {name: 1 for name, _ in ENVS}
        self.running = {name: _release(name, 1, "1.0.0") for name, _ in ENVS}
        self.verified = dict(self.running)
        self.version = [1, 0, 0]
        self.incidents = 0
        self.open_incident: tuple[str, str] | None = None  # (id, env)

    def next_image(self) -> str:
        v = self.version
        if self.rng.random() < 0.1:
            v[1], v[2] = v[1] + 1, 0
        else:
            v[2] += 1
        return f"hvb:{v[0]}.{v[1]}.{v[2]}"

    def new_release(self, env: str, image: str) -> dict[str, Any]:
        self.revision[env] += 1
        return _release(env, self.revision[env], image.partition(":")[2])


def _release(env: str, revision: int, tag: str) -> dict[str, Any]:
    return {"id": f"hvb-{env}:{revision}", "image": f"hvb:{tag}", "tag": tag, "created_at": None}


class Run:
    """One run's events, each a moment later than the one before."""

    def __init__(self, world: World, at: datetime, runbook: str, env: str, **extra: Any) -> None:
        self.world, self.at, self.events = world, at, []
        self.id = f"r{at:%Y%m%d-%H%M%S}-{world.rng.getrandbits(24):06x}"
        actor = world.rng.choice(ACTORS)
        self.base = {"run": self.id, "runbook": runbook, "env": env, "actor": actor}
        self.extra = {**extra, "caller_arn": ARN + actor.partition("@")[0]}  # a journal's extras follow the status

    def add(self, step: str, status: str, seconds: float = 0.4, **fields: Any) -> None:
        self.at += timedelta(seconds=seconds * (0.5 + self.world.rng.random()))
        self.events.append((self.at, {**self.base, "step": step, "status": status, **self.extra, **fields}))

    def gate(self, name: str, title: str, items: tuple[tuple[str, str, str], ...], failing: int = 0) -> bool:
        self.add(name, "started", kind="step", title=title)
        self.add(name, "started", checklist=name, title=title)
        failed = self.world.rng.sample(range(len(items)), failing) if failing else []
        for number, (item, item_title, uses) in enumerate(items):
            step = f"{name}/{item}"
            self.add(step, "started", 0.05, title=item_title, uses=uses)
            status = "failed" if number in failed else "passed"
            summary = f"{item_title}: {'failed' if status == 'failed' else 'ok'}"
            detail = {"value": status, "target": "ok", "ms": self.world.rng.randint(3, 400)}
            self.add(step, status, 2.0, title=item_title, uses=uses, summary=summary, blocking=True, attempts=1,
                     duration_ms=detail["ms"], detail=detail)  # fmt: skip
        counts = {"passed": len(items) - failing, "failed": failing, "warned": 0, "skipped": 0, "waived": 0}
        verdict = "failed" if failing else "passed"
        self.add(name, verdict, checklist=name, counts=counts, duration_ms=4000)
        self.add(name, verdict, kind="step", title=title, summary=f"{title}: {verdict}", detail={"counts": counts})
        return not failing


def checklist_run(world: World, at: datetime, env: str) -> Run:
    run = Run(world, at, "checklist:pre-deploy", env)
    run.add("run", "started", dry_run=False, params={})
    ok = run.gate("pre-deploy", "Pre-deployment checklist", PRE_ITEMS, failing=int(world.rng.random() < 0.1))
    run.add("run", "passed" if ok else "failed", duration_ms=9000)
    return run


def change_run(world: World, at: datetime, env: str, runbook: str) -> Run:
    """A deploy, hot-patch or manual rollback, with its verdict drawn from realistic odds."""
    incident = world.open_incident[0] if runbook == "hot-patch" and world.open_incident else None
    extra = {"change_type": {"deploy": "normal", "rollback": "standard", "hot-patch": "emergency"}[runbook]}
    run = Run(world, at, runbook, env, **extra, **({"incident": incident} if incident else {}))
    before = world.running[env]
    image = world.verified[env]["image"] if runbook == "rollback" else world.next_image()
    params = {"image": image, "timeout": 900.0, "reason": None, "approved_by": [], "supervisor": None}
    run.add("run", "started", params=params, digest=hashlib.sha256(runbook.encode()).hexdigest(), dry_run=False)
    state: dict[str, Any] = {"previous": before}
    run.add("plan", "started", kind="step", title="Plan the change (reads only)")
    run.add("plan", "passed", kind="step", title="Plan the change (reads only)", detail={"current": before},
            summary=f"{before['id']} ({before['image']}) -> new revision with {image}", state=state)  # fmt: skip
    roll = world.rng.random()
    if runbook != "rollback" and not run.gate("pre-deploy", "Pre-deploy gates", PRE_ITEMS, int(roll < 0.02)):
        run.add("run", "failed", summary="step pre-deploy failed", release_before=before, release_after=before)
        return run
    if roll > 0.993:  # killed mid-rollout (kill -9): no verdict
        run.add("deploy", "started", kind="step", title="Roll out the new image")
        return run
    after = world.new_release(env, image) if runbook != "rollback" else world.verified[env]
    state["attempted"] = after
    run.add("deploy", "started", kind="step", title="Roll out the new image")
    if 0.02 <= roll < 0.035:  # the rollout itself failed (circuit breaker)
        run.add("deploy", "failed", 45, kind="step", summary="rollout FAILED", state=state)
        run.add("run", "failed", summary="step deploy failed: rollout FAILED", release_before=before,
                release_after=before, attempted=after, verified=False)  # fmt: skip
        return run
    run.add("deploy", "passed", 60, kind="step", summary=f"{image} is live as {after['id']}", state=state)
    world.running[env] = after
    if runbook != "rollback" and 0.035 <= roll < 0.095:  # verification failed: automatic rollback
        run.gate("post-deploy", "Verify the release against the SLOs", POST_ITEMS, failing=2)
        target = world.verified[env]
        for step in ("rollback", "verify-rollback"):
            run.add(step, "started", rollback_of=runbook, kind="step", title=step)
            run.add(step, "passed", 30, rollback_of=runbook, kind="step", summary=f"rolled back to {target['id']}")
        world.running[env] = target
        run.add("run", "rolled_back", summary=f"verification failed; rolled back to {target['id']} and verified",
                release_before=before, release_after=target, attempted=after, verified=False)  # fmt: skip
        return run
    run.gate("post-deploy", "Verify the release against the SLOs", POST_ITEMS)
    world.verified[env] = after
    run.add("run", "succeeded", summary=f"{runbook} succeeded: {after['id']} ({image}) verified",
            release_before=before, release_after=after, attempted=after, verified=True)  # fmt: skip
    return run


def incident_runs(world: World, at: datetime, env: str) -> Iterator[Run]:
    """Open an incident, or move the open one on (acknowledge, resolve, post-mortem)."""
    if world.open_incident is None:
        world.incidents += 1
        world.open_incident = (f"INC-{world.incidents}", env)
        run = Run(world, at, "incident", env, incident=world.open_incident[0])
        severity = world.rng.choice(("P1", "P2", "P2", "P3"))
        run.add("incident", "opened", severity=severity, title="booking calls fail for some hotels")
        yield run
        ack = Run(world, run.at + timedelta(minutes=4), "incident", env, incident=world.open_incident[0])
        ack.add("incident", "acknowledged")
        yield ack
        return
    key, where = world.open_incident
    note = Run(world, at, "incident", where, incident=key)
    note.add("incident", "noted", text="hot-patch rolled out; watching error rate")
    note.add("incident", "resolved", 600, cause="a bad release; fixed by the hot-patch")
    world.open_incident = None
    yield note


def runs(world: World, start: datetime, end: datetime, events: int) -> Iterator[Run]:
    """Runs spread over ``[start, end]`` until about ``events`` events are written."""
    count, made, moment = 0, 0, start
    while count < events:
        per_run = count / made if made else 42.0  # events per run so far: spread the rest evenly to the end
        gap = (end - moment) / max(1.0, (events - count) / per_run)
        moment += gap * (0.2 + 1.6 * world.rng.random())
        env = world.rng.choices([e for e, _ in ENVS], [w for _, w in ENVS])[0]
        kind = world.rng.random()
        if world.open_incident and kind < 0.03:
            found = [change_run(world, moment, world.open_incident[1], "hot-patch")]
            found += list(incident_runs(world, found[0].at + timedelta(minutes=20), env))
        elif kind < 0.002:  # about one incident a fortnight at this team's pace
            found = list(incident_runs(world, moment, env))
        elif kind < 0.045:
            found = [change_run(world, moment, env, "rollback")]
        elif kind < 0.225:
            found = [checklist_run(world, moment, env)]
        else:
            found = [change_run(world, moment, env, "deploy")]
        made += len(found)
        for run in found:
            count += len(run.events)
            moment = max(moment, run.at)
            yield run


def write_config(out: Path, events: int, endpoint_url: str | None) -> None:
    """The project's opsctl.yaml (and its state folder)."""
    state = out / ".opsctl"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    (state / ".gitignore").write_text("# opsctl state: not source\n*\n")
    endpoint = f"\n      endpoint_url: {endpoint_url}" if endpoint_url else ""
    environments = "".join(ENV_CONFIG.format(name=name, endpoint=endpoint) for name, _ in ENVS)
    (out / "opsctl.yaml").write_text(CONFIG.format(events=events, environments=environments))


def write(out: Path, events: int, end: datetime, seed: int, endpoint_url: str | None) -> int:
    """Write the project folder; the number of events written."""
    write_config(out, events, endpoint_url)
    state = out / ".opsctl"
    world = World(random.Random(seed))
    prev, seq = GENESIS, 0
    log = state / "audit.jsonl"
    with log.open("wb", buffering=1 << 20) as handle:
        log.chmod(0o600)
        for run in runs(world, end - timedelta(days=730), end, events):
            for at, fields in run.events:
                seq += 1
                line, prev = encode_event({"seq": seq, "ts": format_ts(min(at, end)), **fields}, prev)
                handle.write(line)
    return seq


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True, help="about this many events (whole runs)")
    parser.add_argument("--out", type=Path, required=True, help="the project folder to write (created)")
    parser.add_argument("--end", help="the newest event's time, ISO 8601 (default: now)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--endpoint-url", help="AWS endpoint for the environments (e.g. a moto server)")
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    end = datetime.fromisoformat(args.end).astimezone(UTC) if args.end else datetime.now(UTC)
    written = write(args.out, args.events, end, args.seed, args.endpoint_url)
    print(f"{args.out}: {written} events in {args.out / '.opsctl' / 'audit.jsonl'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
