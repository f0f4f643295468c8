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


Key = tuple[str | None, str | None, str | None]


class _Lookup(threading.Thread):
    """One :func:`caller_arn` call in the background (a daemon: exiting never waits for AWS)."""

    def __init__(self, key: Key) -> None:
        super().__init__(name="opsctl-caller-arn", daemon=True)
        self.key = key
        self.arn: str | None = None

    def run(self) -> None:
        self.arn = caller_arn(*self.key)


class CallerIdentities:
    """Caller ARNs per (region, endpoint, profile), looked up once per workspace.

    :meth:`start` begins a lookup in a background thread as soon as the
    environment is known, so that the STS round trip (and importing boto3)
    overlaps the run's preparation; :meth:`arn` joins it when the first
    audit event needs the answer. The thread makes the very call :meth:`arn`
    would make, with the same timeouts and the same "no ARN" on any failure,
    so waiting for it never takes longer than asking then.
    """

    def __init__(self) -> None:
        self._known: dict[Key, str | None] = {}
        self._pending: dict[Key, _Lookup] = {}
        self._lock = threading.Lock()

    def start(self, region: str | None, endpoint_url: str | None, profile: str | None) -> None:
        """Begin looking up the ARN for these credentials now, unless already known or under way."""
        key = (region, endpoint_url, profile)
        with self._lock:
            if key in self._known or key in self._pending:
                return
            lookup = _Lookup(key)
            try:
                lookup.start()
            except RuntimeError:  # no thread to be had: arn() asks in the caller's thread, as without start()
                return
            self._pending[key] = lookup

    def arn(self, region: str | None, endpoint_url: str | None, profile: str | None) -> str | None:
        """The ARN, or None when it cannot be had; waits for a lookup :meth:`start` began."""
        key = (region, endpoint_url, profile)
        with self._lock:
            lookup = self._pending.get(key)
            if lookup is None:
                if key not in self._known:
                    self._known[key] = caller_arn(region, endpoint_url, profile)
                return self._known[key]
        lookup.join()
        with self._lock:
            self._pending.pop(key, None)
            self._known.setdefault(key, lookup.arn)
            return self._known[key]
