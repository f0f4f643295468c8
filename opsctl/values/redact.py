"""Keep secrets out of the terminal and the audit log.

Secrets reach opsctl only through environment variables named by ``*_env``
config keys (and the standard cloud variables). A :class:`Redactor` knows
their values and replaces them, plus anything that looks like a credential
in URLs, headers or well-known token formats, with ``***``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Env vars that hold credentials whatever the config says.
ALWAYS_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "FLY_API_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "SLACK_WEBHOOK_URL",
    "PAGERDUTY_ROUTING_KEY",
    "OPSCTL_WEBHOOK_URL",
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # https://user:password@host -> https://user:***@host
    (re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]{0,15}://[^/\s:@]{1,256}:)[^/\s@]{1,1024}(?=@)"), r"\g<pre>" + MASK),
    # ?token=...&api_key=...
    (
        re.compile(
            r"(?P<pre>[?&;](?:access_token|token|api_key|apikey|key|secret|password|signature|sig"
            r"|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s\"']+",
            re.IGNORECASE,
        ),
        r"\g<pre>" + MASK,
    ),
    # Authorization: Bearer xxx / token xxx / Basic xxx
    (
        re.compile(r"(?P<pre>\b(?:Bearer|Basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
        r"\g<pre>" + MASK,
    ),
    # Well-known token shapes: GitHub, Slack, AWS access key ids, Fly macaroons.
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\bFlyV1 [A-Za-z0-9_,+/=-]{16,}"), "FlyV1 " + MASK),
    (re.compile(r"(?P<pre>hooks\.slack\.com/services/)[A-Za-z0-9/]+"), r"\g<pre>" + MASK),
)

# Values shorter than this are not treated as secrets: masking "1" or "ok"
# everywhere would make output unreadable and protects nothing.
_MIN_SECRET_LEN = 4


class Redactor:
    """Replaces known secret values and credential-shaped text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._joined: re.Pattern[str] | None = None
        self.add(*secrets)

    @classmethod
    def from_env(cls, env_names: Iterable[str], environ: Mapping[str, str] | None = None) -> Redactor:
        """A redactor for the values of ``env_names`` plus :data:`ALWAYS_SECRET_ENV`."""
        source = os.environ if environ is None else environ
        names = set(env_names) | set(ALWAYS_SECRET_ENV)
        return cls(source[name] for name in names if source.get(name))

    def add(self, *secrets: str) -> None:
        new = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
        if new - self._secrets:
            self._secrets |= new
            # Longest first so that a secret containing another is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._joined = re.compile("|".join(re.escape(s) for s in ordered))

    def text(self, value: str) -> str:
        if self._joined is not None:
            value = self._joined.sub(MASK, value)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside dicts, lists and tuples."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def secret_env_names(data: Any) -> set[str]:
    """Every env var name that a raw config names with a ``*_env`` key."""
    found: set[str] = set()
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                found.add(value)
            elif isinstance(key, str) and key.endswith("_env") and isinstance(value, Mapping):
                found |= {v for v in value.values() if isinstance(v, str)}  # header -> env var name
            else:
                found |= secret_env_names(value)
    elif isinstance(data, list):
        for value in data:
            found |= secret_env_names(value)
    return found
