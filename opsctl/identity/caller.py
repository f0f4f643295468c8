"""Who is calling AWS, as AWS itself says (item 3 of the team-scale issue).

``OPSCTL_ACTOR`` or ``git user.email`` name a person, but anyone can set them.
The STS caller identity ARN is asserted by AWS from the credentials used, so
on AWS-backed environments every audit event also records it. The lookup is
best effort: a short timeout, no retries, and any failure means "no ARN",
never a failed run.

boto3 is imported inside functions only (STYLE 8); clients come from
:mod:`opsctl.aws.client` (cached sessions, explicit timeouts, standard retries).
"""

from __future__ import annotations

import threading

ARN_CONNECT_TIMEOUT = 2.0
ARN_READ_TIMEOUT = 3.0


def caller_arn(region: str | None, endpoint_url: str | None, profile: str | None) -> str | None:
    """The ARN behind the current AWS credentials, or None when it cannot be had quickly."""
    from opsctl.aws.client import aws_client

    try:
        client = aws_client(
            "sts",
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
            retries=0,
            connect_timeout=ARN_CONNECT_TIMEOUT,
            read_timeout=ARN_READ_TIMEOUT,
        )
        arn = client.get_caller_identity().get("Arn")
    except Exception:  # best effort by design: any failure (no credentials too) means "no ARN", never a failed run
        return None
    return str(arn) if arn else None


class CallerIdentities:
    """Caller ARNs per (region, endpoint, profile), looked up once per workspace."""

    def __init__(self) -> None:
        self._known: dict[tuple[str | None, str | None, str | None], str | None] = {}
        self._lock = threading.Lock()

    def arn(self, region: str | None, endpoint_url: str | None, profile: str | None) -> str | None:
        key = (region, endpoint_url, profile)
        with self._lock:
            if key not in self._known:
                self._known[key] = caller_arn(region, endpoint_url, profile)
            return self._known[key]
