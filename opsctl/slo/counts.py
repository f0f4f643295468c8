"""What a source of request counts offers the error budget: counts over a window, and bad requests over time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from opsctl.slo.budget import Counts


class CounterSource(Protocol):
    """Good vs bad requests of one environment, from its metrics (Prometheus counters or ALB counts).

    Every method raises :class:`~opsctl.errors.Unavailable` when the source
    cannot be asked (exit 5) and :class:`~opsctl.errors.BadInput` when it
    rejects what the configuration made of the question (exit 2).
    """

    @property
    def kind(self) -> str:
        """``prometheus`` or ``cloudwatch``."""
        ...

    @property
    def label(self) -> str:
        """Where the figures come from, for people: ``Prometheus http://prom:9090 (http_requests_total)``."""
        ...

    def counts(self, window_s: float, at: datetime) -> Counts:
        """All and bad requests in ``(at - window_s, at]``."""
        ...

    def bad_series(self, start: datetime, end: datetime, step_s: float) -> list[tuple[datetime, float]]:
        """Bad requests per ``step_s`` bucket from ``start`` to ``end``, each keyed by the bucket's end, oldest first.

        Buckets without data are omitted.
        """
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
