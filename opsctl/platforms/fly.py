"""The Fly.io Machines driver: roll an image over an app's machines, safely.

Every change is made under leases on all machines, follows each new instance
until it is started with every check passing, and puts changed machines back on
their previous config when anything fails. The release history lives on the
platform, in each machine's ``config.metadata`` (``opsctl_previous_image``,
``opsctl_history``).

This module (and the ``fly_*`` modules it uses) imports httpx: the factory in
:mod:`opsctl.platforms` imports it only when an environment uses Fly.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from opsctl.config import FlyPlatformConfig
from opsctl.errors import BadInput, OpsctlError
from opsctl.platforms.base import (
    DeployPlan,
    Platform,
    Release,
    RolloutOptions,
    RolloutResult,
    RolloutStatus,
    checked_image,
    pullable,
    release_by_image,
)
from opsctl.platforms.fly_http import MAX_WAIT_SECONDS, FlyApiError, FlyClient, read_token
from opsctl.platforms.fly_leases import LeaseSet
from opsctl.platforms.fly_machine_ops import MachineOps
from opsctl.platforms.fly_machines import (
    config_diff,
    config_of,
    history_of,
    image_groups,
    image_of,
    majority_image,
    mixed_images_warning,
    runs_image,
    with_image,
)
from opsctl.platforms.fly_rollout import Rollout
from opsctl.platforms.inflight import InFlight
from opsctl.platforms.migration import MigrationRequest, MigrationResult
from opsctl.values.durations import format_duration
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

STRATEGIES = ("rolling", "canary", "immediate")


class FlyPlatform(Platform):
    """All machines of one Fly app, reached through the Machines API.

    ``client`` (tests) is an ``httpx.Client`` to use instead of an owned one;
    ``environ`` replaces ``os.environ`` when reading the token; ``sleep`` is the
    retry backoff's sleep and ``clock`` the rollout's monotonic clock.

    The token comes from ``token_env``, or from ``FLY_API_TOKEN`` when that is
    unset (as flyctl would); ``notices`` then says so, and a deploy announces it
    (live view and the step's journal detail) and ``status`` lists it, never the value.
    """

    kind = "fly"

    def __init__(
        self,
        config: FlyPlatformConfig,
        *,
        client: httpx.Client | None = None,
        redactor: Redactor | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        token, source = read_token(config.token_env, os.environ if environ is None else environ)
        self.token_env = source  # the variable the token came from
        self.notices: list[str] = []
        if source != config.token_env:
            self.notices.append(f"{config.token_env} is not set: using the Fly API token from {source}")
        self.config = config
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add(token)
        self._clock = clock
        self._in_flight = InFlight()
        self.api = FlyClient(config.api_url, config.app, token, client=client, redactor=self.redactor, sleep=sleep)

    @classmethod
    def from_config(
        cls,
        config: FlyPlatformConfig,
        *,
        redactor: Redactor | None = None,
        client: httpx.Client | None = None,
    ) -> FlyPlatform:
        """The driver for an environment's ``platform: {kind: fly}`` block (token from ``token_env``)."""
        return cls(config, client=client, redactor=redactor)

    def describe(self) -> str:
        return f"fly app {self.config.app} ({self.config.api_url})"

    # -- reads -------------------------------------------------------------------------

    def _machines(self) -> list[dict[str, Any]]:
        machines = sorted(self.api.list_machines(), key=lambda m: str(m.get("id")))
        if not machines:
            raise BadInput(f"fly app {self.config.app} has no machines: create one with `fly deploy` first")
        return machines

    def current_release(self) -> Release:
        """The image all machines run; when mixed, the majority's (and :meth:`warnings` says so)."""
        return self._release_of(self._machines())

    @staticmethod
    def _release_of(machines: list[dict[str, Any]]) -> Release:
        image = majority_image(machines) or "?"
        ids = [str(m.get("id")) for m in machines if image_of(m) == image]
        return Release(id=image, image=image, detail={"machines": ids, "mixed": len(image_groups(machines)) > 1})

    def releases(self, limit: int = 20) -> list[Release]:
        """The current image, then earlier ones recorded in machine metadata, newest first."""
        machines = self._machines()
        seen = [majority_image(machines) or "?"]
        histories = [history_of(m) for m in machines]
        for depth in range(max((len(h) for h in histories), default=0)):
            for history in histories:
                if depth < len(history) and history[depth] not in seen:
                    seen.append(history[depth])
        current = seen[0]
        return [
            Release(
                id=image,
                image=image,
                detail={"source": "machines" if image == current else "machine metadata"},
            )
            for image in seen[: max(1, limit)]
        ]

    def find_release(self, ref: str) -> Release | None:
        """A known release whose image is ``ref``, ends with ``/ref`` (``hvb:1.7.0``) or has tag ``ref``."""
        return release_by_image(self.releases(limit=100), ref)

    def can_deploy(self, release: Release) -> tuple[bool, str]:
        """Any well-formed image reference: Fly pulls images by reference, nothing is retired."""
        return pullable(release, "Fly")

    def plan(self, image: ImageRef | str) -> DeployPlan:
        """Machines, current image -> new image, strategy, and the config diff; reads only."""
        image = str(checked_image(image))
        machines = self._machines()
        current = self._release_of(machines)
        change = [m for m in machines if not runs_image(m, image)]
        strategy = self.config.strategy
        how = f"rolling, {self.config.max_unavailable} at a time" if strategy == "rolling" else strategy
        app = self.config.app
        if not change:
            summary = f"fly app {app}: all {len(machines)} machines already run {image}; nothing to change"
        else:
            moves = "; ".join(f"{', '.join(ids)}: {old} -> {image}" for old, ids in image_groups(change))
            summary = f"fly app {app}: {moves} ({how})"
        diffs: dict[tuple[str, ...], list[str]] = {}
        for machine in change:
            config = config_of(machine)
            body = tuple(config_diff(config, with_image(config, image), "config")[2:])
            diffs.setdefault(body, []).append(str(machine.get("id")))
        lines: list[str] = []
        for body, ids in diffs.items():
            label = f"machine {ids[0]}" if len(ids) == 1 else f"machines {', '.join(ids)}"
            lines += [f"--- {label} config (current)", f"+++ {label} config (new)", *body]
        detail = {
            "strategy": strategy,
            "machines": {str(m.get("id")): image_of(m) for m in machines},
            "unchanged": [str(m.get("id")) for m in machines if runs_image(m, image)],
        }
        return DeployPlan(current=current, image=image, summary=summary, diff=tuple(lines), detail=detail)

    def warnings(self) -> list[str]:
        try:
            machines = self.api.list_machines()
        except (FlyApiError, BadInput) as exc:
            return [*self.notices, f"cannot list machines of fly app {self.config.app}: {exc}"]
        mixed = mixed_images_warning(machines)
        return [*self.notices, *([mixed] if mixed else [])]

    # -- changes -----------------------------------------------------------------------

    def deploy(self, image: ImageRef | str, options: RolloutOptions) -> RolloutResult:
        """Lease all machines, roll ``image`` out with the strategy, undo on failure, release leases."""
        strategy = options.strategy or self.config.strategy
        if strategy not in STRATEGIES:
            raise BadInput(f"unknown fly strategy '{strategy}': use one of {', '.join(STRATEGIES)}")
        image = str(checked_image(image))
        with self._in_flight.track(options) as tracked:
            if tracked is None:
                return RolloutResult(RolloutStatus.INTERRUPTED, None, "cancelled before the rollout began")
            try:
                result = self._deploy(image, strategy, tracked)
            except OpsctlError as exc:
                exc.message = self.redactor.text(exc.message)
                exc.args = (exc.message,)
                if options.cancel.is_set():  # a stop that could not put every machine back
                    self._in_flight.stopped(f"{self.describe()}: {exc.message}")
                raise
            if result.status is RolloutStatus.INTERRUPTED:
                self._in_flight.stopped(f"{self.describe()}: {result.message}; {self._leases_note(result)}")
            return result

    def wind_down(self, timeout: float) -> str | None:
        """Wait for a cancelled rollout to let its machine in flight reach a verdict, undo, release leases."""
        return self._in_flight.wait(
            timeout,
            abandoned=f"{self.describe()}: the rollout did not stop within {format_duration(timeout)}; its "
            f"machine leases expire after {format_duration(self.config.lease_ttl)}, and the next run of this "
            "environment adopts them",
        )

    def _leases_note(self, result: RolloutResult) -> str:
        errors = result.detail.get("lease_release_errors")
        if not errors:
            return "leases released"
        return f"could not release every lease ({'; '.join(errors)}); the next run adopts them"

    def rollback(self, to: Release, options: RolloutOptions) -> RolloutResult:
        """Deploy ``to.image`` again, with the same leases, strategy and undo as a deploy."""
        result = self.deploy(to.image, options)
        return dataclasses.replace(result, detail={**result.detail, "rollback_to": to.id})

    def run_migration(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        """A one-off machine with the new image runs the migration (:mod:`.fly_migrate`)."""
        from opsctl.platforms.fly_migrate import FlyMigration

        return FlyMigration(self.api, self.config, self.redactor, clock=self._clock).run(request, options)

    def close(self) -> None:
        self.api.close()

    def _deploy(self, image: str, strategy: str, options: RolloutOptions) -> RolloutResult:
        def emit(message: str) -> None:
            options.on_event(self.redactor.text(message))

        for notice in self.notices:
            emit(notice)
        ttl = max(1, int(self.config.lease_ttl))
        machines = self._machines()
        leases = LeaseSet(
            self.api,
            ttl,
            on_event=emit,
            on_lease=options.on_lease,
            journaled=options.journaled_leases,
            clock=self._clock,
        )
        with leases:
            leases.acquire_all([str(m["id"]) for m in machines])
            # Read again under the leases: this is the state nobody else can change now.
            machines = self._machines()
            late = [str(m["id"]) for m in machines if str(m["id"]) not in leases.held]
            leases.acquire_all(late)
            ops = MachineOps(
                self.api,
                leases.nonce,
                interval=min(options.poll_interval, self.config.poll_interval),
                cancel=options.cancel,
                emit=emit,
                tick=leases.renew_due,
                # Server-side waits stay well inside the lease so renewals happen in time.
                max_wait=min(MAX_WAIT_SECONDS, max(1, ttl // 3)),
                clock=self._clock,
                fence=options.fence,
                stall_timeout=self.config.stall_timeout,
            )
            rollout = Rollout(
                self.api, ops, image, strategy, self.config.max_unavailable, options, emit, clock=self._clock
            )
            result = rollout.run(machines)
        detail = dict(result.detail)
        if self.notices:
            detail["token_env"] = self.token_env
        if leases.release_errors:
            detail["lease_release_errors"] = leases.release_errors
        return dataclasses.replace(
            result, message=self.redactor.text(result.message), detail=self.redactor.value(detail)
        )
