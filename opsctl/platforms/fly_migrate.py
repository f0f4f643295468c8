"""Database migrations on Fly: a one-off machine with the new image, followed until it exits.

The machine copies what the app's machines need to reach the database (env,
guest size, init settings; Fly injects the app's secrets into every machine)
but none of what would send it traffic (no services, no checks) or share
state (no mounts). It runs the migration command instead of the image's
command, never restarts, and destroys itself when it exits (``auto_destroy``),
so it never joins a rollout. Exit code 0 is success.

The Machines API offers no logs; the result names the flyctl command that shows
them. A machine still running at the deadline, or when the run is cancelled,
is left running (stopping a migration halfway is worse), and the result says so.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from opsctl.config import FlyPlatformConfig
from opsctl.platforms.base import RolloutOptions, checked_image
from opsctl.platforms.fly_http import FlyAmbiguous, FlyApiError, FlyClient
from opsctl.platforms.fly_machines import config_of
from opsctl.platforms.migration import MigrationRequest, MigrationResult, MigrationStatus
from opsctl.values.imageref import ImageRef
from opsctl.values.redact import Redactor

MIGRATION_KEY = "opsctl_migration"  # machine metadata: which run's migration this machine is
ONE_OFF_GROUP = "opsctl_migrate"  # its process group, so that no tool takes it for an app machine
MAX_WAIT_CHUNK = 5  # seconds per server-side wait: cancel and the deadline are honoured within it
DESTROY_WAIT = 5  # seconds to see an exited machine destroyed
_COPIED = ("env", "guest", "init", "dns")
_ENDED = frozenset({"stopped", "destroyed", "failed"})


def one_off_config(template: Mapping[str, Any], image: str, command: tuple[str, ...], label: str) -> dict[str, Any]:
    """A machine config that runs ``command`` once with ``image``, like ``template``'s machine but serving nothing."""
    config: dict[str, Any] = {key: copy.deepcopy(template[key]) for key in _COPIED if key in template}
    init = {k: v for k, v in dict(config.get("init") or {}).items() if k != "exec"}  # exec would replace our cmd
    config.update(
        image=image,
        init={**init, "cmd": list(command)},
        auto_destroy=True,
        restart={"policy": "no"},
        metadata={MIGRATION_KEY: label, "fly_process_group": ONE_OFF_GROUP},
    )
    return config


def migration_label(machine: Mapping[str, Any]) -> str | None:
    """Which run's migration this machine is (None: an app machine)."""
    metadata = config_of(machine).get("metadata")
    label = metadata.get(MIGRATION_KEY) if isinstance(metadata, dict) else None
    return str(label) if label else None


def exit_of(machine: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest exit event's ``exit_event`` (exit_code, oom_killed...), or None when it has not exited."""
    events = [e for e in machine.get("events") or [] if isinstance(e, dict) and e.get("type") == "exit"]
    for event in sorted(events, key=lambda e: -int(e.get("timestamp") or 0)):
        found = (event.get("request") or {}).get("exit_event")
        if isinstance(found, dict):
            return found
    return None


class FlyMigration:
    """Run one migration in a one-off machine of ``config.app`` through ``api`` (the driver's client)."""

    def __init__(
        self,
        api: FlyClient,
        config: FlyPlatformConfig,
        redactor: Redactor,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.config = config
        self.redactor = redactor
        self._clock = clock

    def run(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        ref = checked_image(request.image)
        shown = request.shown
        machines = self.api.list_machines()
        ours = [m for m in machines if migration_label(m) == request.label]
        if ours:
            machine = ours[-1]
            options.on_event(f"following migration machine {machine.get('id')} started by an earlier attempt")
        else:
            template = sorted((m for m in machines if migration_label(m) is None), key=lambda m: str(m.get("id")))
            if not template:
                message = f"fly app {self.config.app} has no machines to copy the migration's environment from"
                return self._result(MigrationStatus.FAILED, message, ref)
            config = one_off_config(config_of(template[0]), str(ref), request.command, request.label)
            body = {"config": config, "region": template[0].get("region"), "name": f"opsctl-migrate-{request.label}"}
            options.fence()  # right before creating it: a run that lost its lock starts nothing
            try:
                machine = self._create(body, request.label)
            except FlyApiError as exc:
                return self._result(MigrationStatus.FAILED, f"Fly did not start the migration `{shown}`: {exc}", ref)
        machine_id = str(machine.get("id"))
        options.on_event(f"migration machine {machine_id} runs `{shown}` on {ref}")
        return self._follow(machine_id, str(machine.get("instance_id") or ""), request, options, ref)

    def _create(self, body: dict[str, Any], label: str) -> dict[str, Any]:
        try:
            created = self.api.request("POST", "machines", json=body).json()
        except FlyAmbiguous:
            # The create may have happened: look for our machine before saying anything else.
            found = [m for m in self.api.list_machines() if migration_label(m) == label]
            if found:
                return found[-1]
            raise
        if not isinstance(created, dict) or not created.get("id"):
            raise FlyApiError("Fly API answered POST machines with an unexpected body")
        return created

    def _follow(
        self, machine_id: str, instance_id: str, request: MigrationRequest, options: RolloutOptions, ref: ImageRef
    ) -> MigrationResult:
        interval = max(0.01, min(options.poll_interval, self.config.poll_interval, float(MAX_WAIT_CHUNK)))
        deadline = self._clock() + request.timeout
        while True:
            try:
                machine = self.api.get_machine(machine_id)
            except FlyApiError as exc:
                message = f"the migration machine {machine_id} cannot be read ({exc}); its exit code is unknown"
                return self._result(MigrationStatus.FAILED, message, ref, machine_id)
            if str(machine.get("state")) in _ENDED:
                return self._verdict(machine, request, ref)
            remaining = deadline - self._clock()
            if remaining <= 0:
                message = request.still_running(f"machine {machine_id}")
                return self._result(MigrationStatus.TIMEOUT, message, ref, machine_id)
            if options.cancel.is_set():
                message = request.interrupted(f"machine {machine_id}")
                return self._result(MigrationStatus.INTERRUPTED, message, ref, machine_id)
            chunk = max(1, min(MAX_WAIT_CHUNK, int(remaining)))
            try:
                self.api.wait_state(machine_id, instance_id, "stopped", chunk)
            except FlyApiError as exc:
                options.on_event(f"{machine_id}: wait failed ({exc}); reading the machine")
                if options.cancel.wait(interval):
                    continue

    def _verdict(self, machine: dict[str, Any], request: MigrationRequest, ref: ImageRef) -> MigrationResult:
        machine_id = str(machine.get("id"))
        exited = exit_of(machine)
        code = exited.get("exit_code") if exited else None
        code = code if isinstance(code, int) else None
        if code == 0:
            status, message = MigrationStatus.SUCCEEDED, request.exited_zero(f"machine {machine_id}")
        else:
            why = (
                f"exited with code {code}" if code is not None else f"ended {machine.get('state')} without an exit code"
            )
            if exited and exited.get("oom_killed"):
                why += " (killed: out of memory)"
            status, message = MigrationStatus.FAILED, request.failed(f"machine {machine_id}", why)
        detail: dict[str, Any] = {}
        if machine.get("state") != "destroyed" and not self._destroyed(machine):
            detail["left_behind"] = (
                f"machine {machine_id} was not destroyed; remove it: fly machine destroy {machine_id}"
            )
        image_ref = machine.get("image_ref")
        digest = ref.digest or (
            str(image_ref["digest"]) if isinstance(image_ref, dict) and image_ref.get("digest") else None
        )
        return self._result(status, message, ref, machine_id, code=code, digest=digest, detail=detail)

    def _destroyed(self, machine: dict[str, Any]) -> bool:
        """Wait briefly for ``auto_destroy``: an exited one-off left listed would look like an app machine."""
        try:
            return self.api.wait_state(
                str(machine.get("id")), str(machine.get("instance_id") or ""), "destroyed", DESTROY_WAIT
            )
        except FlyApiError:
            return False

    def _result(
        self,
        status: MigrationStatus,
        message: str,
        ref: ImageRef,
        unit: str | None = None,
        *,
        code: int | None = None,
        digest: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> MigrationResult:
        note = (
            f"the Fly Machines API offers no logs: run `fly logs --app {self.config.app} --machine {unit} --no-tail`"
            if unit
            else None
        )
        return MigrationResult.of(
            status,
            self.redactor.text(message),
            ref,
            unit,
            code=code,
            digest=digest,
            logs_note=note,
            detail=self.redactor.value(detail or {}),
        )
