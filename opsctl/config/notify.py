"""notify: where people are told about runs and incidents."""

from __future__ import annotations

from opsctl.config.base import EnvVarName, Model
from opsctl.config.email import EmailNotify
from opsctl.config.incident_comms import GitHubIssueNotify, StatuspageNotify
from opsctl.values.urls import HttpUrl


class SlackNotify(Model):
    webhook_env: EnvVarName = "SLACK_WEBHOOK_URL"
    channel: str | None = None
    bot_token_env: EnvVarName | None = None  # Web API bot token: `incident open` makes inc-<id>-<slug> channels
    api_url: HttpUrl = "https://slack.com/api"


class PagerDutyNotify(Model):
    routing_key_env: EnvVarName = "PAGERDUTY_ROUTING_KEY"
    api_url: HttpUrl = "https://events.pagerduty.com"


class WebhookNotify(Model):
    url_env: EnvVarName = "OPSCTL_WEBHOOK_URL"


class Notify(Model):
    slack: SlackNotify | None = None
    pagerduty: PagerDutyNotify | None = None
    webhook: WebhookNotify | None = None
    statuspage: StatuspageNotify | None = None
    github_issue: GitHubIssueNotify | None = None
    email: EmailNotify | None = None  # SMTP to contacts: deployment windows, incidents, post-mortem dates
