"""CloudWatch ALB as the real-traffic source (moto over HTTP): p95, ELB + target 5xx, windows after the rollout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Status
from opsctl.health import slo
from opsctl.health.params import ErrorRateParams, LatencyParams
from tests.health.helpers import config_for, ctx_for
from tests.support import alb as alb_support
from tests.support import moto_server as aws_support
from tests.support.alb import put_alb
from tests.support.context import make_ctx
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws
percentiles = alb_support.percentiles

LB = "app/hvb-staging/50dc6c495c0c9188"
TG = "targetgroup/hvb-staging/73e2d6bc24d8a067"
SLO = {"p95_ms": 300, "error_rate": 0.01, "error_window": "5m", "db_pool_utilization": 0.8}
WINDOW = {"initial_delay": "0s", "interval": "2s", "count": 1, "min_requests": 10}


def alb_ctx(tmp_path: Path, aws: MotoServer, **more: Any) -> RunContext:
    cloudwatch = {"load_balancer": LB, "target_group": TG, "region": aws.region, "delay": "0s", **more}
    ctx = ctx_for(tmp_path, "http://127.0.0.1:9", slo=SLO, cloudwatch=cloudwatch, analysis=WINDOW)
    ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    return ctx


def inside_window() -> datetime:
    """A moment inside the window that starts at the rollout just journaled."""
    return datetime.now(UTC) + timedelta(seconds=1)


def test_p95_from_target_response_time(tmp_path: Path, aws: MotoServer, percentiles: None) -> None:
    ctx = alb_ctx(tmp_path, aws)
    put_alb(aws, lb=LB, tg=TG, at=inside_window(), requests=200, latency_s=0.45)
    outcome = slo.latency(ctx, LatencyParams(guard=False))
    assert outcome.status is Status.FAILED, outcome.summary
    assert outcome.summary.startswith(f"p95 450ms > 300ms (CloudWatch {TG}, ")
    assert outcome.summary.endswith(": 200 requests)")
    assert outcome.detail["source"] == "cloudwatch"


def test_elb_5xx_count_as_errors(tmp_path: Path, aws: MotoServer, percentiles: None) -> None:
    ctx = alb_ctx(tmp_path, aws)
    # New tasks crash: the targets answered 2 errors, the load balancer itself 18 x 502/503.
    put_alb(aws, lb=LB, tg=TG, at=inside_window(), requests=400, target_5xx=2, elb_5xx=18)
    outcome = slo.error_rate(ctx, ErrorRateParams(baseline=False, guard=False))
    assert outcome.status is Status.FAILED
    assert outcome.summary.startswith(f"error rate 5.00% > 1.00% (CloudWatch {TG}, ")
    assert outcome.summary.endswith(": 20 of 400 requests failed)")
    assert outcome.detail["elb_5xx"] == 18


def test_data_before_the_rollout_is_not_read(tmp_path: Path, aws: MotoServer, percentiles: None) -> None:
    put_alb(aws, lb=LB, tg=TG, at=datetime.now(UTC) - timedelta(seconds=30), requests=500, elb_5xx=400)
    ctx = alb_ctx(tmp_path, aws)
    put_alb(aws, lb=LB, tg=TG, at=inside_window(), requests=300)
    outcome = slo.error_rate(ctx, ErrorRateParams(baseline=False, guard=False))
    assert outcome.status is Status.PASSED, outcome.summary
    assert outcome.summary.endswith(": 0 of 300 requests failed)")


def test_no_requests_in_a_protected_window_fails_as_inconclusive(tmp_path: Path, aws: MotoServer) -> None:
    config = config_for("http://127.0.0.1:9")
    config["environments"]["production"]["health"] = {
        "base_url": "http://127.0.0.1:9",
        "cloudwatch": {"load_balancer": LB, "target_group": TG, "region": aws.region, "delay": "0s"},
        "analysis": WINDOW,
    }
    ctx = make_ctx(tmp_path, config, env="production")
    ctx.journal.event("deploy", "passed", kind="step", detail={"rollout": "stable"})
    outcome = slo.error_rate(ctx, ErrorRateParams(baseline=False, guard=False))
    assert outcome.status is Status.FAILED
    assert outcome.summary.startswith("inconclusive: 0 requests in the window, fewer than min_requests 10 (CloudWatch ")
    # Production's defaults tolerate one inconclusive reading, but no reading passed: never a pass.
    assert outcome.summary.endswith(") [1 of 1 readings inconclusive, limit 1]")
    assert outcome.detail["verdict"] == "inconclusive"
    allowed = slo.error_rate(ctx, ErrorRateParams(baseline=False, guard=False, inconclusive="warn"))
    assert allowed.status is Status.WARNED
