"""Keep secrets out of the terminal and the audit log.

Secrets reach opsctl only through environment variables named by ``*_env``
config keys (and the standard cloud variables). A :class:`Redactor` knows
their values and replaces them, plus anything that looks like a credential
in URLs, headers or well-known token formats, with ``***``.

Redact *before* truncating: a secret cut in half by ``text[:160]`` no longer
matches, and its first characters leak (a PagerDuty key at offset 150 of an
error body once did). :meth:`Redactor.excerpt` does both in the right order.
As a second line of defence, :meth:`Redactor.text` also masks a known
secret's beginning when it is what a text ends with (before a closing quote,
bracket or ``...``): that is exactly what a truncation leaves behind.
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
# The shortest beginning of a secret that is masked at the end of a text (see the module
# docstring). Shorter beginnings tell little, and would mask ordinary words too often.
_MIN_FRAGMENT = 6
# What a truncation may leave after the cut: an ellipsis, closing quotes or brackets (repr, JSON), spaces.
_TRAILER = re.compile(r"(?:\.\.\.|\u2026)?[\"')\]}>]{0,3}\s*\Z")


class Redactor:
    """Replaces known secret values and credential-shaped text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._joined: re.Pattern[str] | None = None
        self._fragile: tuple[str, ...] = ()  # secrets whose beginning is masked at a text's end
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
            # Not URLs: their beginning (scheme and host) is public, and their secret path is
            # registered on its own (opsctl.notify.secret_from_env).
            self._fragile = tuple(s for s in ordered if len(s) > _MIN_FRAGMENT and "://" not in s)

    def text(self, value: str) -> str:
        if self._joined is not None:
            value = self._joined.sub(MASK, value)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return self._cut_tail(value)

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside dicts, lists and tuples."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def excerpt(self, value: str, limit: int) -> str:
        """``value`` redacted, its whitespace collapsed, *then* cut to ``limit`` characters (``...`` marks a cut)."""
        flat = " ".join(self.text(value).split())
        return flat if len(flat) <= limit else flat[: max(0, limit - 3)].rstrip() + "..."

    def _cut_tail(self, value: str) -> str:
        """Mask the beginning of a known secret that ends ``value`` (what ``secret_text[:n]`` leaves)."""
        if not self._fragile:
            return value
        trailer = _TRAILER.search(value, max(0, len(value) - 16))
        cut = trailer.start() if trailer else len(value)
        for secret in self._fragile:
            tail = value[max(0, cut - len(secret) + 1) : cut]
            start = tail.find(secret[0])
            while start != -1 and len(tail) - start >= _MIN_FRAGMENT:
                if secret.startswith(tail[start:]):
                    return value[: cut - len(tail) + start] + MASK + value[cut:]
                start = tail.find(secret[0], start + 1)
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
