"""A run's view of the audit log: the :class:`Journal` that stamps every event with the run.

It also keeps a run's story consistent: after "run interrupted" nothing more
of that run is written (a worker thread that outlived it is ignored) until
the run is started or resumed again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opsctl.audit.auditlog import AuditLog

_REOPENING = frozenset({"started", "resumed"})  # run events that open a run's journal again


@dataclass
class Journal:
    """A run's writer: every event carries the run's id, runbook, env and actor (and extras).

    ``identify``, when given, is asked once, at the first event, who the cloud
    provider says the caller is (an AWS ARN); a non-empty answer joins the
    extras as ``caller_arn``. Unlike the actor, no environment variable can set
    it; asking lazily keeps commands that never write an event off the network.
    """

    log: AuditLog
    run: str
    runbook: str
    env: str | None
    actor: str
    extra: dict[str, Any] = field(default_factory=dict)
    identify: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)
    _identified: bool = field(default=False, init=False, repr=False, compare=False)
    # Checklist items write concurrently: the first events wait for the answer instead of going without it.
    _identifying: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def event(self, step: str, status: str, **fields: Any) -> dict[str, Any]:
        if self.identify is not None and not self._identified:
            self._identify(self.identify)
        base = {
            "run": self.run,
            "runbook": self.runbook,
            "env": self.env or "-",
            "actor": self.actor,
            "step": step,
            "status": status,
        }
        if step == "run" and status in _REOPENING:
            self.log.closed_runs.discard(self.run)
        elif self.run in self.log.closed_runs:
            # "run interrupted" is the run's last word: a worker thread that outlived it (a checklist
            # item, a rollout) must not write after it, or the journal would contradict itself.
            return {**base, **self.extra, **fields, "written": False}
        event = self.log.append({**base, **self.extra, **fields})
        if step == "run" and status == "interrupted":
            self.log.closed_runs.add(self.run)
        return event

    def _identify(self, identify: Callable[[], str | None]) -> None:
        with self._identifying:
            if self._identified:  # another thread asked while this one waited for the lock
                return
            arn = identify()
            if arn:
                self.extra["caller_arn"] = arn
            self._identified = True
