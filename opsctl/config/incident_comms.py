"""notify.statuspage and notify.github_issue: where an incident is told to the public, and its ticket.

Both belong to ``opsctl incident``: ``incident open --public`` opens a public
Statuspage incident and sets the configured components from the severity;
``notify.github_issue`` opens a GitHub issue (in ``github.repo``) as the
incident's ticket, labelled by severity.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from opsctl.config.base import EnvVarName, Model, Name
from opsctl.values.urls import HttpUrl


class StatuspageNotify(Model):
    """Atlassian Statuspage: a page, its API key (by env var) and the components opsctl may set."""

    page_id: str = Field(pattern=r"^[A-Za-z0-9]+$", description="the page's id (Statuspage: API info)")
    api_key_env: EnvVarName = "STATUSPAGE_API_KEY"
    components: dict[Name, str] = Field(
        default_factory=dict, description="short name -> component id; `incident open --public` sets them all"
    )
    api_url: HttpUrl = "https://api.statuspage.io/v1"

    @field_validator("components")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        for name, component in value.items():
            if not str(component).strip() or not str(component).isalnum():
                raise ValueError(f"component {name}: '{component}' is not a Statuspage component id")
        return value


class GitHubIssueNotify(Model):
    """An incident's ticket as a GitHub issue in ``github.repo`` (token and api_url from ``github:``)."""

    labels: list[str] = Field(default_factory=lambda: ["incident"], description="labels every incident issue gets")
    severity_labels: dict[str, str] = Field(
        default_factory=lambda: {s: f"severity:{s}" for s in ("P0", "P1", "P2", "P3")},
        description="severity -> the label added for it",
    )
    close_on_resolve: bool = True
