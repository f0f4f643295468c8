"""One rollout of an image over the machines of a Fly app, with its strategy and its undo.

The caller holds leases on every machine. Machines already on the target image
(an earlier attempt of the same run) are followed, not updated. When a machine
fails, every machine this rollout changed goes back to the exact config it had
before, so the app is not left on mixed versions.

When the rollout is cancelled (Ctrl-C, SIGTERM) the same rule holds: each
machine whose update was already sent is followed to a verdict first (bounded
by :data:`STOP_SECONDS`), then every machine this rollout changed goes back, so
the app runs the image it ran before and no machine is left half-updated.
``opsctl resume`` then rolls the image out again from the start.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsctl.errors import Locked, NeedsHuman
from opsctl.platforms.base import Release, RolloutOptions, RolloutResult, RolloutStatus
from opsctl.platforms.fly_http import FlyApiError, FlyClient
from opsctl.platforms.fly_machine_ops import Cancelled, MachineOps, StepFailed
from opsctl.platforms.fly_machines import (
    config_of,
    history_of,
    image_of,
    majority_image,
    mixed_images_warning,
    runs_image,
    with_image,
)


@dataclass
class Step:
    """What happened to one machine; ``before_config`` is recorded before we change it."""

    machine_id: str
    before_image: str
    instance_id: str
    # untouched | unchanged (already on the image) | updated | failed | restored | reverted (by Fly)
    action: str = "untouched"
    before_config: dict[str, Any] | None = None
    restore_image: str | None = None
    first_instance_id: str = ""
    settled: bool = False  # followed to a verdict (healthy, or failed) since the last update


# How long a cancelled rollout may take to let updates in flight reach a verdict and put
# changed machines back: a stop must end, and a SIGTERM is often followed by SIGKILL.
STOP_SECONDS = 120.0


@dataclass
class Rollout:
    client: FlyClient
    ops: MachineOps
    image: str
    strategy: str
    max_unavailable: int
    options: RolloutOptions
    emit: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    steps: dict[str, Step] = field(default_factory=dict)

    def waves(self, machines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Machines already on the image first (resume), then by id, grouped by strategy."""
        order = sorted(machines, key=lambda m: (not runs_image(m, self.image), str(m.get("id"))))
        if self.strategy == "immediate":
            return [order]
        size = max(1, self.max_unavailable)
        head, rest = (order[:1], order[1:]) if self.strategy == "canary" else ([], order)
        chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
        return [head, *chunks] if head else chunks

    def run(self, machines: list[dict[str, Any]]) -> RolloutResult:
        deadline = self.clock() + self.options.timeout
        waves = self.waves(machines)
        for machine in machines:
            self._record(machine)
        try:
            for index, wave in enumerate(waves):
                if self.options.cancel.is_set():
                    raise Cancelled
                for machine in wave:
                    self._update(machine)
                for machine in wave:
                    step = self.steps[str(machine["id"])]
                    self.ops.follow(step.machine_id, step.instance_id, self.image, deadline)
                    step.settled = True
                if self.strategy == "canary" and index == 0:
                    self._verify_canary(wave[0])
        except StepFailed as failure:
            return self._undo(failure, waves)
        except FlyApiError as exc:
            # The API failed under us (after retries): undo what we changed, if it answers again.
            return self._undo(StepFailed(RolloutStatus.FAILED, f"rollout stopped by an API error: {exc}"), waves)
        except Locked as exc:
            # A renewal found a lease taken (it had expired): what this attempt changed goes back.
            return self._undo(StepFailed(RolloutStatus.FAILED, f"lost a lease: {exc}"), waves)
        except Cancelled:
            return self._stop(waves)
        done = len(machines)
        already = [s.machine_id for s in self.steps.values() if s.action == "unchanged"]
        note = f"; {', '.join(already)} already did" if already and len(already) < done else ""
        if len(already) == done:
            note = "; nothing to change"
        message = f"{done} machine(s) of fly app {self.client.app} run {self.image} ({self._how()}){note}"
        return self._result(RolloutStatus.STABLE, message, waves)

    def _how(self) -> str:
        if self.strategy == "rolling":
            return f"rolling, {self.max_unavailable} at a time"
        return self.strategy

    def _record(self, machine: Mapping[str, Any]) -> None:
        machine_id = str(machine["id"])
        on_target = runs_image(machine, self.image)
        instance = str(machine.get("instance_id") or "")
        step = Step(machine_id, image_of(machine), instance, first_instance_id=instance)
        if on_target:
            step.action = "unchanged"
            # Changed by an earlier attempt: its previous image is in metadata.
            history = history_of(machine)
            step.restore_image = history[0] if history else None
        self.steps[machine_id] = step

    def _update(self, machine: Mapping[str, Any]) -> None:
        step = self.steps[str(machine["id"])]
        if step.action == "unchanged":
            return
        step.before_config = copy.deepcopy(config_of(machine))
        step.restore_image = step.before_image
        self.emit(f"{step.machine_id}: updating {step.before_image} -> {self.image}")
        step.action = "failed"  # until the platform confirms the new instance
        updated = self.ops.update(step.machine_id, with_image(step.before_config, self.image))
        step.action = "updated"
        step.settled = False
        step.instance_id = str(updated.get("instance_id") or "")

    def _verify_canary(self, machine: Mapping[str, Any]) -> None:
        check = self.options.verify_canary
        if check is None:
            return
        machine_id = str(machine["id"])
        self.emit(f"{machine_id}: canary runs {self.image}; verifying")
        try:
            ok, reason = check()
        except Exception as exc:  # a broken verifier must still restore the canary
            ok, reason = False, f"{type(exc).__name__}: {exc}"
        if not ok:
            raise StepFailed(RolloutStatus.FAILED, f"canary {machine_id} failed verification: {reason}")
        self.emit(f"{machine_id}: canary verified ({reason})" if reason else f"{machine_id}: canary verified")

    def _stop(self, waves: list[list[dict[str, Any]]]) -> RolloutResult:
        """Cancelled: let each update in flight reach a verdict, then undo this rollout (module docstring).

        Sending the old config to a machine that is still starting would leave
        which version ends up running to chance, so each such machine is first
        followed (not cancellable) until it is healthy or has failed.
        """
        deadline = self.clock() + STOP_SECONDS
        for step in self.steps.values():
            if step.action not in {"updated", "unchanged"} or step.settled:
                continue
            self.emit(f"{step.machine_id}: stopping; letting its update to {self.image} reach a verdict first")
            try:
                self.ops.follow(step.machine_id, step.instance_id, self.image, deadline, cancellable=False)
            except (StepFailed, FlyApiError, Locked) as exc:  # Locked: a lease lost meanwhile
                self.emit(f"{step.machine_id}: {exc}")
            step.settled = True
        return self._undo(StepFailed(RolloutStatus.INTERRUPTED, "cancelled"), waves, deadline)

    def _undo(
        self, failure: StepFailed, waves: list[list[dict[str, Any]]], deadline: float | None = None
    ) -> RolloutResult:
        """Put every machine this rollout changed back on the config it had before."""
        self.emit(f"rollout stopped: {failure.message}")
        changed = [s for s in self.steps.values() if s.action in {"updated", "failed"}]
        earlier = [s for s in self.steps.values() if s.action == "unchanged" and s.restore_image]
        targets = {s.restore_image for s in (changed or earlier)}
        back = targets.pop() if len(targets) == 1 else None
        # A machine changed by an earlier attempt goes back only to the image the
        # rest returns to: its recorded history might be older than this deploy.
        resumed = [s for s in earlier if s.restore_image == back]
        problems: list[str] = []
        if deadline is None:
            deadline = self.clock() + max(self.options.timeout, 60.0)
        for step in [*reversed(changed), *resumed]:
            try:
                self._restore(step, deadline)
            except (StepFailed, FlyApiError, Locked) as exc:  # Locked: a lease lost meanwhile
                problems.append(f"{step.machine_id}: {exc}")
        if problems:
            mixed = self._mixed()
            raise NeedsHuman(
                f"{failure.message}; restoring the previous image failed ({'; '.join(problems)})"
                + (f"; {mixed}" if mixed else "")
            )
        restored = [s.machine_id for s in self.steps.values() if s.action == "restored"]
        untouched = [s.machine_id for s in self.steps.values() if s.action == "untouched"]
        message = failure.message
        if restored:
            images = sorted({str(self.steps[m].restore_image) for m in restored})
            message += f"; restored {', '.join(restored)} to {', '.join(images)}"
        if untouched:
            message += f"; {', '.join(untouched)} untouched"
        return self._result(failure.status, message, waves, failure.diagnosis)

    def _restore(self, step: Step, deadline: float) -> None:
        image = step.restore_image
        if image is None:
            return
        machine = self.client.get_machine(step.machine_id)
        if runs_image(machine, image):
            # Our update was refused (same instance) or Fly itself put the old image back.
            same = machine.get("instance_id") == step.first_instance_id
            step.action = "untouched" if same else "reverted"
            self.emit(f"{step.machine_id}: already on {image}")
            return
        config = step.before_config or with_image(config_of(machine), image)
        self.emit(f"{step.machine_id}: restoring {image}")
        updated = self.ops.update(step.machine_id, config)
        self.ops.follow(step.machine_id, str(updated.get("instance_id") or ""), image, deadline, cancellable=False)
        step.action = "restored"

    def _final_machines(self) -> list[dict[str, Any]] | None:
        try:
            return self.client.list_machines()
        except FlyApiError:
            return None

    def _mixed(self) -> str | None:
        machines = self._final_machines()
        return mixed_images_warning(machines) if machines else None

    def _result(
        self,
        status: RolloutStatus,
        message: str,
        waves: list[list[dict[str, Any]]],
        diagnosis: dict[str, Any] | None = None,
    ) -> RolloutResult:
        final = self._final_machines() or []
        now = {str(m.get("id")): image_of(m) for m in final}
        machines = {
            s.machine_id: {
                "before": s.before_image,
                "after": now.get(s.machine_id, "?"),
                "action": s.action,
                **({"restored_to": s.restore_image} if s.action == "restored" else {}),
            }
            for s in self.steps.values()
        }
        detail: dict[str, Any] = {
            "app": self.client.app,
            "image": self.image,
            "strategy": self.strategy,
            "waves": [[str(m["id"]) for m in wave] for wave in waves],
            "machines": machines,
            "restored": {s.machine_id: s.restore_image for s in self.steps.values() if s.action == "restored"},
        }
        mixed = mixed_images_warning(final)
        if mixed:
            detail["warning"] = mixed
        if diagnosis is not None and status is not RolloutStatus.INTERRUPTED:
            detail["diagnosis"] = diagnosis  # why the machine failed: its events and failing checks
        current = self.image if status is RolloutStatus.STABLE else majority_image(final)
        release = Release(id=current, image=current, detail={"machines": sorted(now)}) if current else None
        return RolloutResult(status=status, release=release, message=message, detail=detail)
