"""The stand-in bot's state: how it is told to behave, and what it has served (stdlib only).

:class:`Behaviour` holds every knob of the control API (see :mod:`opsctl.sandbox.bot`
for what each one does); :class:`BotState` is the thread-safe state the HTTP handler
reads and updates, shared by all requests: the current behaviour, the counters, the
round-robin over a list of versions and the fault numbering. It knows nothing of HTTP.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from opsctl.sandbox.botmetrics import RequestMetrics

DEFAULT_DEPENDENCIES = ("database", "openai", "whatsapp")
Version = str | Sequence[str] | Callable[[], str]


@dataclass(frozen=True)
class Behaviour:
    """How the bot answers; every field is a knob of :meth:`BotState.configure`."""

    version: Version = "1.8.0"
    dependencies: dict[str, str | None] = field(default_factory=dict)
    pool_in_use: int = 4
    pool_size: int = 20
    latency: float = 0.0
    error_rate: float = 0.0
    status: int | None = None
    hang: float = 0.0
    rate_limit: int = 0
    retry_after: float = 1.0
    non_json: bool = False
    missing_fields: frozenset[str] = frozenset()
    flap_every: int = 0
    redirect_to: str | None = None
    bad_tag_unhealthy: bool = True
    fault_paths: frozenset[str] | None = None


class BotState:
    """The control API and the counters of the bot, safe to use from many request threads."""

    def __init__(self, version: Version = "1.8.0") -> None:
        self._initial = Behaviour(version=version)
        self.behaviour = self._initial
        self._lock = threading.Lock()
        # Set when the server stops: wakes requests held by hang/latency so shutdown does not wait for them.
        self._stopping = threading.Event()
        self._faulted = 0  # requests the faults applied to (drives error_rate and flap_every)
        self._cycle: itertools.cycle[str] | None = None
        self.hits: Counter[str] = Counter()
        self.answered: Counter[tuple[str, int]] = Counter()
        self.requests = RequestMetrics()  # exported on /metrics; never reset, like a real counter

    def configure(self, **changes: Any) -> None:
        """Change how the bot answers, e.g. ``configure(status=503)``; see :mod:`opsctl.sandbox.bot`."""
        known = {f.name for f in fields(Behaviour)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown bot behaviour: {', '.join(sorted(unknown))}")
        for key in ("missing_fields", "fault_paths"):
            if changes.get(key) is not None:
                changes[key] = frozenset(changes[key])
        with self._lock:
            self.behaviour = replace(self.behaviour, **changes)
            if "version" in changes:
                self._cycle = None
            if "error_rate" in changes or "flap_every" in changes:
                self._faulted = 0

    def reset(self) -> None:
        """Back to healthy, serving the version given at construction."""
        with self._lock:
            self.behaviour, self._cycle, self._faulted = self._initial, None, 0

    def current_version(self) -> str:
        """The version this request is answered by (advances a list of versions, one per call)."""
        version = self.behaviour.version
        if callable(version):
            return version()
        if isinstance(version, str):
            return version
        with self._lock:
            if self._cycle is None:
                self._cycle = itertools.cycle(list(version))
            return next(self._cycle)

    def version_label(self) -> str:
        """The version a request answered by a fault counts under (never advances a list of versions)."""
        version = self.behaviour.version
        if callable(version):
            return version()
        return version if isinstance(version, str) else ",".join(version)

    def _count(self, counter: Counter[Any], key: Any) -> int:
        with self._lock:
            counter[key] += 1
            return int(counter[key])

    def _fault_number(self) -> int:
        with self._lock:
            self._faulted += 1
            return self._faulted

    def _take_rate_limit(self) -> bool:
        with self._lock:
            if self.behaviour.rate_limit <= 0:
                return False
            self.behaviour = replace(self.behaviour, rate_limit=self.behaviour.rate_limit - 1)
            return True
