"""notify: where people are told about runs and incidents."""

from __future__ import annotations

from opsctl.config.base import EnvVarName, Model
from opsctl.values.urls import HttpUrl


class SlackNotify(Model):
    webhook_env: EnvVarName = "SLACK_WEBHOOK_URL"
    channel: str | None = None


class PagerDutyNotify(Model):
    routing_key_env: EnvVarName = "PAGERDUTY_ROUTING_KEY"
    api_url: HttpUrl = "https://events.pagerduty.com"


class WebhookNotify(Model):
    url_env: EnvVarName = "OPSCTL_WEBHOOK_URL"


class Notify(Model):
    slack: SlackNotify | None = None
    pagerduty: PagerDutyNotify | None = None
    webhook: WebhookNotify | None = None
