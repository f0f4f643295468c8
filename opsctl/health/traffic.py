"""What a real-traffic source (Prometheus, CloudWatch ALB) saw in one window, and how a reading is judged.

Both sources answer the same three questions for a window: how many requests,
how many failed (5xx), and the p95 latency. Judging is shared: no data fails,
fewer than ``min_requests`` requests is inconclusive (never a pass), and a
window whose requests all failed is a failure, never a latency figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsctl.health.analysis import Measurement


@dataclass(frozen=True)
class Traffic:
    """One window of real traffic; ``why`` non-empty means the source gave no usable data."""

    label: str  # "Prometheus, 10:01:00-10:02:00, version 1.8.0"
    requests: float | None = None
    errors: float | None = None
    p95_ms: float | None = None
    why: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, label: str, why: str, **detail: Any) -> Traffic:
        return cls(label, why=why, detail=detail)

    def counts(self) -> dict[str, Any]:
        return {"requests": round(self.requests or 0), "errors": round(self.errors or 0), **self.detail}


def pct(rate: float) -> str:
    return f"{rate * 100:.2f}%"


def _screen(traffic: Traffic, min_requests: int, target: str) -> Measurement | None:
    """The reading when there is nothing to judge (no data, too little traffic, all failed); else None."""
    base = {"target": target, "source_label": traffic.label, **traffic.counts()}
    if traffic.why:
        return Measurement.no_data(f"{traffic.why} ({traffic.label})", value="no data", **base)
    requests = traffic.requests or 0.0
    if requests < min_requests or requests <= 0:
        return Measurement.too_little(
            f"{requests:.0f} requests in the window, fewer than min_requests {min_requests} ({traffic.label})",
            value=f"{requests:.0f} requests",
            **base,
        )
    errors = traffic.errors or 0.0
    if errors >= requests:
        return Measurement(
            None,
            False,
            f"all {requests:.0f} requests in the window failed (5xx) ({traffic.label})",
            {**base, "value": "all failed"},
        )
    return None


def judge_latency(traffic: Traffic, target_ms: float, min_requests: int) -> Measurement:
    """p95 of the window's real requests within ``target_ms``."""
    target = f"p95 <= {target_ms:.0f}ms"
    screened = _screen(traffic, min_requests, target)
    if screened is not None:
        return screened
    if traffic.p95_ms is None:
        return Measurement.no_data(f"no latency data ({traffic.label})", value="no data", target=target)
    p95 = traffic.p95_ms
    passed = p95 <= target_ms
    failed = f", {traffic.errors:.0f} failed" if traffic.errors else ""
    summary = (
        f"p95 {p95:.0f}ms {'<=' if passed else '>'} {target_ms:.0f}ms "
        f"({traffic.label}: {traffic.requests:.0f} requests{failed})"
    )
    detail = {"p95_ms": round(p95, 1), "value": f"p95 {p95:.0f}ms", "target": target, **traffic.counts()}
    return Measurement(p95, passed, summary, detail)


def error_rate_of(traffic: Traffic, min_requests: int, target: str) -> tuple[float | None, Measurement | None]:
    """(errors / requests, None), or (None, the reading) when there is nothing to judge.

    A window where every request failed is a 100 % error rate here, not a screen-out.
    """
    if traffic.why or (traffic.requests or 0) < max(min_requests, 1):
        return None, _screen(traffic, min_requests, target)
    requests, errors = traffic.requests or 0.0, traffic.errors or 0.0
    return min(1.0, errors / requests), None
