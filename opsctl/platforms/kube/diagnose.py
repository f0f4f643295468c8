"""Why the new pods of a rollout are not ready, read from their status (and a crashing container's log).

A problem is *fatal* when waiting cannot fix it: the image cannot be pulled,
the container keeps crashing or is killed for memory, its config (a missing
Secret or ConfigMap) cannot be built. An unschedulable pod may still be placed
(a node being added), so it only explains a stall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Waiting reasons that fail the rollout at once.
FATAL_WAITING = frozenset(
    {"ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError", "InvalidImageName", "CreateContainerError"}
)
# ErrImagePull is the first failed pull: a registry hiccup looks the same, so it is fatal the second time seen.
PULL_ERROR = "ErrImagePull"
LOG_LINES = 5


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with one new pod: ``reason`` (``ImagePullBackOff``), the kubelet's message, log lines."""

    pod: str
    reason: str
    message: str
    fatal: bool
    logs: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line: ``pod hvb-7d9f-x2p4q: ImagePullBackOff: Back-off pulling image "hvb:1.9.0"``."""
        line = f"pod {self.pod}: {self.reason}" + (f": {self.message}" if self.message else "")
        if self.logs:
            line += f"; last log lines: {' | '.join(self.logs)}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "reason": self.reason, "message": self.message, "logs": list(self.logs)}


def _container_status(pod: dict[str, Any], container: str) -> dict[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return dict(status)
    return {}


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())


def diagnose_pod(pod: dict[str, Any], container: str, pull_errors: set[str]) -> Diagnosis | None:
    """The problem of one pod, or None when nothing explains it being unready (yet).

    ``pull_errors`` holds the pods seen in ErrImagePull at the previous look; it is updated.
    """
    name = str((pod.get("metadata") or {}).get("name"))
    status = _container_status(pod, container)
    waiting = (status.get("state") or {}).get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    restarts = int(status.get("restartCount") or 0)
    if reason == PULL_ERROR:
        seen_before = name in pull_errors
        pull_errors.add(name)
        return Diagnosis(name, reason, _one_line(waiting.get("message")), fatal=seen_before)
    pull_errors.discard(name)
    for state in ("state", "lastState"):
        terminated = (status.get(state) or {}).get("terminated") or {}
        if terminated.get("reason") == "OOMKilled":
            return Diagnosis(
                name, "OOMKilled", f"container {container} ran out of memory (restarted {restarts}x)", True
            )
    if reason in FATAL_WAITING:
        message = _one_line(waiting.get("message"))
        if reason == "CrashLoopBackOff":
            exit_code = ((status.get("lastState") or {}).get("terminated") or {}).get("exitCode")
            message = f"restarted {restarts}x" + (f", last exit code {exit_code}" if exit_code is not None else "")
        return Diagnosis(name, reason, message, True)
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return Diagnosis(name, "Unschedulable", _one_line(cond.get("message")), False)
    if reason:
        return Diagnosis(name, reason, _one_line(waiting.get("message")), False)
    return None


def diagnose(
    pods: list[dict[str, Any]],
    container: str,
    pull_errors: set[str],
    logs: Callable[[str], list[str]] | None = None,
) -> Diagnosis | None:
    """The most telling problem among the new pods: fatal first; a crash loop gets its last log lines.

    ``logs(pod)`` returns the previous instance's last lines (errors reading them are the caller's to swallow).
    """
    found = [d for d in (diagnose_pod(p, container, pull_errors) for p in pods) if d is not None]
    if not found:
        return None
    worst = next((d for d in found if d.fatal), found[0])
    if worst.reason in ("CrashLoopBackOff", "OOMKilled") and logs is not None:
        lines = tuple(_one_line(line) for line in logs(worst.pod) if line.strip())[-LOG_LINES:]
        return Diagnosis(worst.pod, worst.reason, worst.message, worst.fatal, lines)
    return worst
