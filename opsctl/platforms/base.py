"""The Platform interface: what opsctl needs from a container platform.

A driver (ECS with boto3, Fly Machines with httpx) is made by
:func:`opsctl.platforms.make_platform` from an environment's ``platform:``
config and receives its API client by injection, so tests can hand it a
client pointed at a local server.

Rules every driver follows:
- read before writing: ``plan`` and ``current_release`` never change anything;
- never re-send a mutating call after an ambiguous error: describe first;
- follow *our* change to a verdict; never report success for a state the
  platform reached by reverting us;
- never delete what a rollback may still need (task definitions, images).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.values.imageref import ImageRef

if TYPE_CHECKING:
    from opsctl.platforms.migration import MigrationRequest, MigrationResult


@dataclass(frozen=True)
class Release:
    """One deployable state of the service.

    ``id`` is what the platform calls it (ECS: ``family:revision``; Fly: the
    image reference); ``image`` is the configured container's image.
    """

    id: str
    image: str
    created_at: datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """The image's version (``hvb:1.8.0`` -> ``1.8.0``; a digest-only reference -> the digest)."""
        ref = ImageRef.try_parse(self.image)
        return ref.version if ref is not None else "unknown"

    def as_dict(self) -> dict[str, Any]:
        """The release as JSON (``--json`` output, run state, audit events)."""
        return {
            "id": self.id,
            "image": self.image,
            "tag": self.tag,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def checked_image(image: ImageRef | str) -> ImageRef:
    """``image`` parsed for a driver (a bare name means ``latest``); BadInput when it is no reference.

    The core hands drivers an already parsed :class:`ImageRef`; text (a library
    caller, a test) is parsed here, so no malformed image reaches an API call.
    """
    if isinstance(image, ImageRef):
        return image
    ref = ImageRef.try_parse(image)
    if ref is None:
        raise BadInput(f"not an image reference: {image!r} (expected [registry/]name[:tag][@digest])")
    return ref


def release_by_image(known: Sequence[Release], ref: str, *more: Callable[[Release], bool]) -> Release | None:
    """The first of ``known`` whose image is ``ref``, ends with ``/ref`` (``hvb:1.7.0``) or has tag ``ref``.

    Each test is tried over all of ``known`` before the next, looser one, so an
    exact image wins over a tag that happens to match; ``more`` are a driver's
    own, loosest tests (Kubernetes: a ReplicaSet revision).
    """
    matchers: tuple[Callable[[Release], bool], ...] = (
        lambda r: r.image == ref,
        lambda r: r.image.endswith(f"/{ref}"),
        lambda r: ":" not in ref and "/" not in ref and r.tag == ref,
        *more,
    )
    for match in matchers:
        for release in known:
            if match(release):
                return release
    return None


def pullable(release: Release, platform: str) -> tuple[bool, str]:
    """``can_deploy`` of a platform that pulls images by reference and retires nothing (Fly, Kubernetes)."""
    if ImageRef.try_parse(release.image) is not None:
        return True, f"{platform} pulls the image by reference"
    return False, f"not an image reference: {release.image!r}"


@dataclass(frozen=True)
class DeployPlan:
    """What a deploy would do, computed with reads only (the dry run shows it)."""

    current: Release | None
    image: str
    summary: str  # "hvb-staging:12 (hvb:1.7.0) -> new revision with hvb:1.8.0"
    diff: tuple[str, ...] = ()  # unified-diff lines of the change (task definition, machine config)
    detail: dict[str, Any] = field(default_factory=dict)


class RolloutStatus(StrEnum):
    STABLE = "stable"  # our change is what runs, everywhere
    FAILED = "failed"  # our change failed (rollout FAILED, tasks cannot be placed, machine critical)
    REVERTED = "reverted"  # the platform itself put something else back (circuit breaker)
    TIMEOUT = "timeout"  # no verdict before the deadline
    INTERRUPTED = "interrupted"  # cancel was set


def _ignore(message: str) -> None:
    del message


def _unfenced() -> None:
    return None


def _ignore_lease(status: str, unit: str, nonce: str) -> None:
    del status, unit, nonce


# What a driver reports about each lease it holds on one unit of the platform (Fly: a machine):
# ``on_lease(status, unit id, nonce)``. ``acquired`` and ``adopted`` mean it holds the lease under
# that nonce; ``released``, ``expired`` and ``lost`` (someone else holds it now) that it does not.
LEASE_HELD = frozenset({"acquired", "adopted"})
LEASE_GONE = frozenset({"released", "expired", "lost"})


@dataclass(frozen=True)
class RolloutOptions:
    timeout: float = 900.0
    on_event: Callable[[str], None] = _ignore  # platform events, for the live view
    cancel: threading.Event = field(default_factory=threading.Event)
    strategy: str | None = None  # Fly: rolling | canary | immediate (None = config default)
    poll_interval: float = 5.0  # first poll delay; drivers back off from here
    # Canary strategies call this after the first unit runs the new image; a
    # False answer (with its reason) stops the rollout and restores the canary.
    verify_canary: Callable[[], tuple[bool, str]] | None = None
    # Called right before every mutating API call (register, update, machine update);
    # it raises when the run lost its lock, so nothing more is changed.
    fence: Callable[[], None] = _unfenced
    # Every lease taken, adopted or given back, for the run to journal (see LEASE_HELD): a run
    # killed with -9 cannot give its leases back, and only the journal still knows their nonces.
    on_lease: Callable[[str, str, str], None] = _ignore_lease
    # Leases that runs of this environment journaled and never gave back (unit id -> nonce).
    # The caller holds the environment's lock, so the runs that took them are gone: a driver
    # presents these nonces to adopt the leases instead of waiting for them to expire.
    journaled_leases: Mapping[str, str] = field(default_factory=dict)
    # The run making the change, for drivers that record it on the platform (Kubernetes' change-cause).
    run_id: str = ""


@dataclass(frozen=True)
class RolloutResult:
    status: RolloutStatus
    release: Release | None  # what runs after the rollout (our release when STABLE)
    message: str  # one line: what happened and why
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is RolloutStatus.STABLE


class Platform(ABC):
    """A container platform holding one service of one environment."""

    kind: str = "abstract"

    @abstractmethod
    def describe(self) -> str:
        """A short human name of the target: ``ecs hvb-staging/hotel-voice-bot (eu-west-1)``."""

    @abstractmethod
    def current_release(self) -> Release:
        """What the service runs now. Raises BadInput if the target does not exist."""

    @abstractmethod
    def releases(self, limit: int = 20) -> list[Release]:
        """Platform-side history, newest first (ECS: ACTIVE revisions of the family)."""

    @abstractmethod
    def find_release(self, ref: str) -> Release | None:
        """A release by id or image reference, or None when the platform knows none."""

    @abstractmethod
    def can_deploy(self, release: Release) -> tuple[bool, str]:
        """Whether ``release`` can still be deployed (ECS: its task definition is ACTIVE), and why not."""

    @abstractmethod
    def plan(self, image: ImageRef | str) -> DeployPlan:
        """What ``deploy(image)`` would change, using reads only."""

    @abstractmethod
    def deploy(self, image: ImageRef | str, options: RolloutOptions) -> RolloutResult:
        """Roll ``image`` out and follow it until stable, failed, reverted, timed out or cancelled.

        Idempotent on resume: if the platform already runs or is rolling out
        ``image`` from an earlier attempt of the same run, follow that instead
        of starting another change. Raises ``Locked`` only before changing
        anything (a run stopped that way stays resumable).
        """

    @abstractmethod
    def rollback(self, to: Release, options: RolloutOptions) -> RolloutResult:
        """Put ``to`` back (ECS: the exact task definition revision) and follow it."""

    def plan_rollback(self, to: Release) -> DeployPlan:
        """What ``rollback(to)`` would change, using reads only (the confirmation and dry run show it).

        By default a rollback deploys ``to.image`` again, so its plan is that
        deploy's; a driver that puts back something more exact overrides it.
        """
        return self.plan(to.image)

    def warnings(self) -> list[str]:
        """Conditions a person should know about (e.g. machines on mixed images); `status` shows them."""
        return []

    def rollout_facts(self) -> dict[str, Any] | None:
        """Live rollout figures for ``status`` where the platform keeps them, else None (reads only).

        ``{"replicas": {"desired", "updated", "ready", "available"}, "pods": {image: count},
        "mixed_images": bool, "conditions": [{"type", "status", "reason", "message"}]}``.
        """
        return None

    def wind_down(self, timeout: float) -> str | None:
        """After the run's cancel event is set: wait (at most ``timeout`` seconds) for the change in flight.

        A driver whose rollout goes on in another thread lets it finish or undo
        what it was changing (never leaving a unit half-updated) and give back
        what it holds on the platform, so that the run journals ``interrupted``
        only after that. Returns what was done, in one line (None: nothing was
        in flight). Once it returns, the driver reports no more leases.
        """
        del timeout
        return None

    def run_migration(self, request: MigrationRequest, options: RolloutOptions) -> MigrationResult:
        """Run ``request.command`` once with ``request.image`` in a one-off unit and wait for it to exit.

        Changes nothing that serves traffic. ``options.fence`` is called before
        starting it; a non-zero exit is a FAILED result with the unit's last log
        lines, not an exception. Drivers that cannot run one keep this default.
        """
        del request, options
        raise BadInput(
            f"database migrations (migrate: in opsctl.yaml) are not supported on {self.kind} platforms; "
            "remove migrate: from this environment and run them another way"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and leases."""
