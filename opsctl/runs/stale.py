"""Runs the world has moved past: dead ones (interrupted) and overtaken ones (superseded).

A run takes its environment's lock before its first event and gives it back
after its last, so a run the log calls ``running`` is really running only
while the lock is held for it by a live process. A kill -9 leaves no
terminal event: the file lock goes with the process, and a shared lock
(DynamoDB) outlives it until it expires, but names the host and pid of its
holder. :func:`settle` tells such runs as ``interrupted``.

A stopped run is *superseded* once another run changed its environment, or
the platform runs something its journal never expected: resuming it would
verify, and perhaps roll back, someone else's release.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opsctl.audit.query import RunSummary, describe_run, superseding_run
from opsctl.errors import BadInput, OpsctlError

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.locks.base import LockInfo
    from opsctl.platforms.base import Release

START_NEW = "start a new run instead"


class Liveness:
    """Whether a run the log calls ``running`` still runs, asked of the lock store once per environment."""

    def __init__(self, holder_of: Callable[[str], LockInfo | None], environments: Iterable[str]) -> None:
        self._holder_of = holder_of
        self._environments = frozenset(environments)
        self._holders: dict[str, LockInfo | OpsctlError | None] = {}

    @classmethod
    def of(cls, config: Config, *, holders: Mapping[str, LockInfo | None] | None = None) -> Liveness:
        """The configured lock store's view; ``holders``: environments whose holder was read already."""
        from opsctl.locks import make_lock_backend

        backend = make_lock_backend(config)
        liveness = cls(backend.status, config.environments)
        liveness._holders.update(holders or {})
        return liveness

    def alive(self, run: RunSummary) -> bool | None:
        """True: it runs; False: its process is gone; None: nobody can tell (no lock to look at)."""
        if run.dry_run or run.runbook.startswith("checklist:") or run.env not in self._environments:
            return None  # dry runs, checklists and onboarding hold no lock
        holder = self._holder(run.env)
        if isinstance(holder, OpsctlError):
            return None  # the lock store is down: `status` says so already
        if holder is None or holder.run not in (run.run, "?"):
            return False  # a running run always holds its lock: without it, its process ended
        if holder.run == "?":
            return None  # held, but by whom cannot be read (the holder is still writing its file)
        return not _dead_here(holder)

    def _holder(self, env: str) -> LockInfo | OpsctlError | None:
        if env not in self._holders:
            try:
                self._holders[env] = self._holder_of(env)
            except OpsctlError as exc:
                self._holders[env] = exc
        return self._holders[env]


def _dead_here(holder: LockInfo) -> bool:
    """A lock held for a process of this host that no longer exists (a shared lock outlives kill -9)."""
    import socket

    return holder.host == socket.gethostname() and bool(holder.pid) and not holder.alive_here()


def settle(runs: Sequence[RunSummary], liveness: Liveness, *, only: set[str] | None = None) -> list[RunSummary]:
    """``runs`` with each ``running`` run whose process is gone told as ``interrupted``.

    ``only``: judge just these run ids (the others' locks are not this host's to read).
    """
    settled = []
    for run in runs:
        if run.status == "running" and (only is None or run.run in only) and liveness.alive(run) is False:
            run = dataclasses.replace(  # noqa: PLW2901 - the settled copy replaces the loop's run
                run,
                status="interrupted",
                summary=f"stopped without a verdict (its process is gone); see `opsctl resume {run.run}`",
            )
        settled.append(run)
    return settled


def check_not_superseded(
    runs: list[RunSummary],
    stopped: RunSummary,
    *,
    current: Release | None = None,
    state: Mapping[str, Any] | None = None,
) -> None:
    """BadInput (exit 2) when ``stopped`` may not be resumed because its environment moved on.

    ``runs``: the environment's runs, oldest first; ``current``: what the platform runs now;
    ``state``: the stopped run's last journaled snapshot (what it read and tried).
    """
    later = superseding_run(runs, stopped)
    if later is not None:
        raise BadInput(
            f"{stopped.env} was changed by run {later.run} ({describe_run(later)}) after run {stopped.run} "
            f"was interrupted; {START_NEW}"
        )
    if current is None:
        return
    expected = _expected(stopped, state or {})
    known = {name for release in expected for name in release}
    if known and not ({current.id, current.image} & known):
        shown = " or ".join(_shown(release) for release in expected)
        raise BadInput(
            f"{stopped.env} was changed after run {stopped.run} was interrupted: it now runs {current.id} "
            f"({current.image}), but the run expected {shown}; {START_NEW}"
        )


def _expected(stopped: RunSummary, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Releases (id and image) the run read, left or set out to put in place: anything else came from elsewhere."""
    found: list[tuple[str, ...]] = []
    for key in ("previous", "attempted", "release", "rollback_plan", "rollback_target"):
        release = state.get(key)
        if isinstance(release, Mapping):
            found.append(tuple(dict.fromkeys(str(release[k]) for k in ("id", "image") if release.get(k))))
    requested = stopped.requested
    found += [(value,) for value in (requested.image, requested.to) if value]
    unique: list[tuple[str, ...]] = []
    for release in found:
        if release and not any(set(release) <= set(seen) for seen in unique):
            unique.append(release)
    return unique


def _shown(release: tuple[str, ...]) -> str:
    return f"{release[0]} ({release[1]})" if len(release) == 2 else release[0]


def offerable(runs: list[RunSummary]) -> list[RunSummary]:
    """Interrupted runs that a resume could continue, newest first (``runs``: settled, oldest first)."""
    return [
        run
        for run in reversed(runs)
        if run.status == "interrupted"
        and not run.dry_run
        and not run.runbook.startswith("checklist:")
        and superseding_run(runs, run) is None
    ]
