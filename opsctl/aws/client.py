"""One place that makes boto3 clients: cached sessions, explicit timeouts, standard retries.

A boto3 Session loads its service models on first use; making a new session
per client costs hundreds of milliseconds. Sessions are cached per (profile,
region) and client creation is serialised, because sessions are not
thread-safe.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

from opsctl.errors import BadInput

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
_lock = threading.Lock()
# A session resolves and keeps credentials: a change to these starts a new one.
_CREDENTIAL_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_ENDPOINT_URL",
)


def _session(profile: str | None, region: str | None) -> Any:
    return _cached_session(profile, region, tuple(os.environ.get(name) for name in _CREDENTIAL_ENV))


@lru_cache(maxsize=16)
def _cached_session(profile: str | None, region: str | None, env: tuple[str | None, ...]) -> Any:
    del env  # part of the cache key only
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        name = profile or os.environ.get("AWS_PROFILE", "")
        source = "" if profile else " (from AWS_PROFILE)"
        raise BadInput(
            f"AWS profile '{name}'{source} not found in the AWS config files; "
            "fix the profile or run `aws configure sso`"
        ) from None


def aws_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    retries: int = 4,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Any:
    """A client with botocore's standard retry mode (``retries=0``: no automatic re-sends)."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": retries},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    with _lock:
        return _session(profile, region).client(service, endpoint_url=endpoint_url or None, config=config)
