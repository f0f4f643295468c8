"""``monitoring.*``: the monitoring of the service works after a change.

``monitoring.alerting`` checks, per configured source: metrics are fresh;
Prometheus has the service's alerting rules loaded and healthy and an
Alertmanager to send to; Alertmanager answers and has a receiver that
delivers; CloudWatch alarms exist and none is INSUFFICIENT_DATA.

Every ``with:`` key is optional (see :class:`opsctl.health.params.AlertingParams`);
the logic lives in :mod:`opsctl.health.alerting`.
"""

from __future__ import annotations

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.health import alerting
from opsctl.health.params import AlertingParams


@action("monitoring.alerting", AlertingParams, needs_env=True)
def monitoring_alerting(ctx: RunContext, params: AlertingParams) -> Outcome:
    """Monitoring and alerting functional: fresh metrics, alerting rules, receivers and alarms per source."""
    return alerting.alerting(ctx, params)
