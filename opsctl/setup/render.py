"""The opsctl.yaml ``opsctl init`` writes: discovered values, where each came from, and what to add next.

Written as text (not dumped), so that every value carries its comment and
the optional sections stay in the file, commented out, for the user to turn on.
Scalars are written plain when YAML reads them back as the same string, and
double-quoted (JSON, which YAML reads) otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opsctl.setup.model import Discovered

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./:@+-]*$")
_YAML_WORDS = re.compile(r"^(y|n|yes|no|on|off|true|false|null|~|[-+]?[0-9][0-9_.:eE+-]*|\.inf|\.nan)$", re.I)
COMMENT_COLUMN = 40
_COMMENTS = {
    "kind": "ecs | fly | kubernetes",
    "container": "the container whose image a deploy replaces",
    "token_env": "the env var holding the Fly API token (never the token itself)",
}


@dataclass(frozen=True)
class Planned:
    """One environment of the file: its name, what was found, and whether it is protected."""

    name: str
    found: Discovered

    @property
    def protected(self) -> bool:
        return self.name == "production"


def scalar(value: Any) -> str:
    """``value`` as a YAML scalar that reads back as itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not _YAML_WORDS.fullmatch(text) and ": " not in text and " #" not in text:
        return text
    return json.dumps(text)


def render(service: str, planned: Sequence[Planned], *, today: str) -> str:
    """The whole file."""
    lines = [
        f"# opsctl.yaml, written by `opsctl init` on {today} from what runs now:",
        *(f"#   {p.name}: {p.found.kind} {p.found.target}" for p in planned),
        "# Check it with `opsctl config check`; `opsctl config schema` describes every key.",
        f"service: {scalar(service)}",
        _commented("state_dir: .opsctl", "audit log, locks and runs, relative to this file"),
        "",
        "environments:",
    ]
    staging = next((p.name for p in planned if p.name == "staging"), None)
    for plan in planned:
        lines += _environment(plan, staging)
    lines += _project_sections()
    return "\n".join(lines) + "\n"


def _environment(plan: Planned, staging: str | None) -> list[str]:
    found = plan.found
    out = [f"  {scalar(plan.name)}:"]
    out += [f"    # {note}" for note in found.notes]
    if found.image:
        out.append(f"    # running now: {found.image}")
    if plan.protected:
        out.append(_commented("    protected: true", "typed confirmation before every change"))
    out.append("    platform:")
    for key, value in found.platform.items():
        out.append(_keyed(6, key, value, _COMMENTS.get(key)))
    if found.health is not None:
        out.append("    health:")
        for key, value in found.health.items():
            if isinstance(value, dict):
                out.append(f"      {key}: {{{', '.join(f'{k}: {scalar(v)}' for k, v in value.items())}}}")
            else:
                out.append(_keyed(6, key, value, "where post-deploy verification probes the bot"))
        indent = "      # "
    else:
        indent = "    # "
    if found.suggestions:
        out += [f"{indent}{line}" for line in found.suggestions]
    if plan.protected and staging is not None:
        out.append(
            _commented(f"    # requires: {{promoted_from: {staging}, approvals: 1}}", "only images verified in staging")
        )
    return out


def _keyed(indent: int, key: str, value: Any, comment: str | None) -> str:
    line = f"{' ' * indent}{key}: {scalar(value)}"
    return _commented(line, comment) if comment else line


def _commented(line: str, comment: str) -> str:
    """``line`` with ``comment`` after it, comments aligned at one column."""
    return f"{line:<{COMMENT_COLUMN}} # {comment}"


def _project_sections() -> list[str]:
    """The project-wide sections, commented out: the defaults apply until one is turned on."""
    return [
        "",
        "# slo: the defaults are the operational maturity targets",
        "# slo: {p95_ms: 2000, error_rate: 0.01, error_window: 5m}",
        _commented("# notify:", "URLs and keys come from env vars, never from this file"),
        "#   slack: {webhook_env: SLACK_WEBHOOK_URL}",
        "#   pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY}",
        "# locks: {backend: dynamodb, table: opsctl-locks}     # when CI and people deploy from several hosts",
        "# audit: {s3: {bucket: my-audit-bucket, prefix: opsctl/}}   # the team's central audit trail",
        _commented("# github: {repo: owner/name}", "CI gates, and a GitHub Deployment for every deploy"),
    ]
