"""Waived gates for ``opsctl report``: the manual items runs went past without them being done.

A waiver (``--waive ID --reason TEXT --approved-by NAME``) is journaled as the
item's event with status ``waived``; its reason and approvers are in the
event's ``detail``. The report lists those of the counted runs per environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsctl.audit.line import format_ts

WAIVED_MARK = b'"status":"waived"'  # a waived item's event, in the compact JSON the log writes


@dataclass(frozen=True)
class Waived:
    """A manual gate a run went past without it being done, and who agreed."""

    run: str
    env: str
    runbook: str
    item: str
    at: datetime
    actor: str
    reason: str
    approved_by: tuple[str, ...]

    @classmethod
    def of(cls, event: dict[str, Any]) -> Waived:
        """From a ``waived`` item event (``step`` is ``<step>/<item>``; the waiver is in its ``detail``)."""
        raw = event.get("detail")
        detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
        listed = detail.get("approved_by")
        approvers: list[Any] = listed if isinstance(listed, list) else []
        return cls(
            str(event.get("run")),
            str(event.get("env")),
            str(event.get("runbook")),
            str(event.get("step", "")).rpartition("/")[2],
            _ts(event.get("ts")),
            str(event.get("actor")),
            str(detail.get("reason") or ""),
            tuple(str(a) for a in approvers),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "env": self.env,
            "runbook": self.runbook,
            "item": self.item,
            "at": format_ts(self.at),
            "actor": self.actor,
            "reason": self.reason,
            "approved_by": list(self.approved_by),
        }


def waivers_by_env(
    waived: Iterable[Waived], runs: set[str], start: datetime, end: datetime
) -> dict[str, tuple[Waived, ...]]:
    """The waivers of ``runs`` recorded in ``[start, end]``, per environment, oldest first."""
    found: dict[str, list[Waived]] = {}
    for waiver in sorted(waived, key=lambda w: w.at):
        if waiver.run in runs and start <= waiver.at <= end:
            found.setdefault(waiver.env, []).append(waiver)
    return {env: tuple(items) for env, items in found.items()}


def _ts(text: object) -> datetime:
    return datetime.fromisoformat(str(text))
