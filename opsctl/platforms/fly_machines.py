"""Reading Fly machine objects: images, checks, crashes, history kept in metadata.

Everything here is a pure function of the JSON the Machines API returns, so it
is shared by the driver, the rollout and ``plan`` without any I/O.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from opsctl.values.imageref import ImageRef

# Where the driver keeps release history on the platform (machine config metadata).
PREVIOUS_KEY = "opsctl_previous_image"
HISTORY_KEY = "opsctl_history"
HISTORY_LIMIT = 10

# States in which a machine that we asked to start is not going to serve traffic.
DOWN_STATES = frozenset({"stopped", "failed", "destroying", "destroyed", "suspended"})


def config_of(machine: Mapping[str, Any]) -> dict[str, Any]:
    config = machine.get("config")
    return config if isinstance(config, dict) else {}


def image_of(machine: Mapping[str, Any]) -> str:
    """The image the machine is configured with (``config.image``), else its resolved reference."""
    image = config_of(machine).get("image")
    if isinstance(image, str) and image:
        return image
    ref = machine.get("image_ref")
    if isinstance(ref, dict) and ref.get("repository"):
        registry = f"{ref['registry']}/" if ref.get("registry") else ""
        return f"{registry}{ref['repository']}:{ref.get('tag') or 'latest'}"
    return "?"


def runs_image(machine: Mapping[str, Any], image: str) -> bool:
    """``config.image`` is ``image`` and the resolved ``image_ref`` (when reported) agrees.

    The resolved registry may be a mirror, so only the tag or digest is compared.
    """
    if config_of(machine).get("image") != image:
        return False
    ref = machine.get("image_ref")
    if not isinstance(ref, dict):
        return True
    wanted = ImageRef.try_parse(image)
    if wanted is None:
        return False
    if wanted.digest:
        return not ref.get("digest") or ref.get("digest") == wanted.digest
    return not ref.get("tag") or ref.get("tag") == (wanted.tag or "latest")


def machine_ids(machines: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(m.get("id")) for m in machines]


def image_groups(machines: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(image, machine ids) pairs, most machines first, then by image."""
    groups: dict[str, list[str]] = {}
    for machine in machines:
        groups.setdefault(image_of(machine), []).append(str(machine.get("id")))
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def majority_image(machines: Iterable[Mapping[str, Any]]) -> str | None:
    groups = image_groups(machines)
    return groups[0][0] if groups else None


def mixed_images_warning(machines: Iterable[Mapping[str, Any]]) -> str | None:
    """``machines on mixed images: hvb:1.8.0 (m1, m2), hvb:1.7.0 (m3)``, or None when uniform."""
    groups = image_groups(machines)
    if len(groups) < 2:
        return None
    return "machines on mixed images: " + ", ".join(f"{image} ({', '.join(ids)})" for image, ids in groups)


def history_of(machine: Mapping[str, Any]) -> list[str]:
    """Images this machine ran before, newest first, as recorded in its metadata."""
    metadata = config_of(machine).get("metadata")
    if not isinstance(metadata, dict):
        return []
    found = [image for image in str(metadata.get(HISTORY_KEY) or "").split(",") if image]
    previous = metadata.get(PREVIOUS_KEY)
    if isinstance(previous, str) and previous and previous not in found:
        found.insert(0, previous)
    return found


def with_image(config: Mapping[str, Any], image: str) -> dict[str, Any]:
    """A copy of ``config`` running ``image``, remembering the image it replaces in metadata."""
    new = copy.deepcopy(dict(config))
    old = new.get("image")
    new["image"] = image
    if isinstance(old, str) and old and old != image:
        metadata = new.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        history = [old, *(i for i in str(metadata.get(HISTORY_KEY) or "").split(",") if i and i != old)]
        # Metadata values are strings on Fly; image references never contain commas.
        metadata[HISTORY_KEY] = ",".join(history[:HISTORY_LIMIT])
        metadata[PREVIOUS_KEY] = old
        new["metadata"] = metadata
    return new


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any], label: str) -> list[str]:
    """Unified-diff lines between two machine configs (stable JSON rendering)."""

    def render(config: Mapping[str, Any]) -> list[str]:
        return json.dumps(config, indent=2, sort_keys=True).splitlines()

    return list(difflib.unified_diff(render(old), render(new), f"{label} (current)", f"{label} (new)", lineterm=""))


def expected_check_count(config: Mapping[str, Any]) -> int:
    """Checks configured on the machine: top-level ``checks`` plus those of its services."""
    count = len(config.get("checks") or {})
    for service in config.get("services") or []:
        if isinstance(service, dict):
            count += sum(len(service.get(key) or []) for key in ("checks", "http_checks", "tcp_checks"))
    return count


def checks_verdict(machine: Mapping[str, Any]) -> tuple[str, str]:
    """("passing" | "pending" | "critical", why). A configured check with no result is pending."""
    config = config_of(machine)
    reported = [c for c in machine.get("checks") or [] if isinstance(c, dict)]
    critical = [c for c in reported if c.get("status") == "critical"]
    if critical:
        first = critical[0]
        output = str(first.get("output") or "").strip().splitlines()
        why = f"check {first.get('name')} critical" + (f": {output[0][:120]}" if output else "")
        return "critical", why
    status = {str(c.get("name")): str(c.get("status")) for c in reported}
    missing = [name for name in config.get("checks") or {} if name not in status]
    if missing or len(reported) < expected_check_count(config):
        names = ", ".join(missing) or "service checks"
        return "pending", f"no result yet from {names}"
    waiting = [f"{name}={value}" for name, value in status.items() if value != "passing"]
    if waiting:
        return "pending", "checks not passing: " + ", ".join(waiting)
    return "passing", f"{len(reported)} checks passing" if reported else "no checks configured"


def crash_problem(machine: Mapping[str, Any], *, started: bool) -> str | None:
    """Why the machine is not going to come up on its current version, or None.

    ``started`` says the version already reached ``started`` once: from then on
    any exit or any state other than ``started`` means it crashed.
    """
    state = str(machine.get("state") or "")
    exits = _exits_since_start(machine)
    if exits:
        exit_event = exits[0].get("request", {}).get("exit_event", {})
        code = exit_event.get("exit_code")
        how = f" (exit code {code})" if code is not None else ""
        if exit_event.get("oom_killed"):
            how = f" (exit code {code}, out of memory)" if code is not None else " (out of memory)"
        return f"exited {len(exits)} time(s) since it started{how}"
    if state in DOWN_STATES:
        return f"state {state}"
    if started and state not in {"started", ""}:
        return f"restarting (state {state} after it had started)"
    return None


def _exits_since_start(machine: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Exit events after the first start that followed the latest update, newest first.

    The update itself stops the old instance, so exits before that start are
    the old version's and do not count.
    """
    events = sorted(
        (e for e in machine.get("events") or [] if isinstance(e, dict)),
        key=lambda e: int(e.get("timestamp") or 0),
    )
    updates = [int(e.get("timestamp") or 0) for e in events if e.get("type") in {"update", "launch"}]
    if not updates:
        return []
    starts = [int(e.get("timestamp") or 0) for e in events if e.get("type") == "start"]
    start = next((t for t in starts if t >= updates[-1]), None)
    if start is None:
        return []
    exits = [e for e in events if e.get("type") == "exit" and int(e.get("timestamp") or 0) >= start]
    return list(reversed(exits))
