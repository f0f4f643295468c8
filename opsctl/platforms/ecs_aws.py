"""boto3 plumbing for the ECS driver: clients, error translation, careful mutating calls.

boto3/botocore are imported inside functions only: ``opsctl --help`` must not
pay for them (STYLE 8).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from opsctl.aws.errors import credential_problem, error_code, error_message, http_status
from opsctl.errors import BadInput, NeedsHuman

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

T = TypeVar("T")

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
# botocore's Config `max_attempts` counts retries after the first attempt (0 = send once).
READ_RETRIES = 4  # "standard" mode for reads: throttling, 5xx, connection errors
WRITE_ATTEMPTS = 5  # our own loop for RegisterTaskDefinition / UpdateService

# Error codes that mean "rejected before doing anything, try later": safe to re-send.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)

NO_REGION = "no AWS region: set platform.region in opsctl.yaml, or AWS_REGION / AWS_DEFAULT_REGION"


def make_clients(region: str | None, endpoint_url: str | None, profile: str | None) -> tuple[ECSClient, ECSClient]:
    """A reading client (botocore standard retries) and a writing client (no botocore retries).

    The writing client must not retry by itself: botocore's standard mode
    re-sends after read timeouts and 5xx answers, which for UpdateService or
    RegisterTaskDefinition could apply a change twice. :func:`mutate` decides
    instead, after looking at the state. ``endpoint_url=None`` leaves boto3's
    own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_ECS handling in charge.
    """
    from botocore.exceptions import NoRegionError

    from opsctl.aws.client import aws_client

    def client(retries: int) -> ECSClient:
        made: ECSClient = aws_client(
            "ecs",
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
            retries=retries,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        return made

    try:
        return client(READ_RETRIES), client(0)
    except NoRegionError:
        raise BadInput(NO_REGION) from None


def is_ambiguous(exc: BaseException) -> bool:
    """True when a request may have reached AWS and taken effect without us seeing the answer."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        return http_status(exc) >= 500 and error_code(exc) not in THROTTLING_CODES
    # Connection errors before sending are included: telling them apart from
    # "sent, then the connection dropped" is not reliable across urllib3 versions.
    return isinstance(exc, ConnectionError | HTTPClientError)


def backoff(attempt: int, base: float, cap: float = 20.0) -> float:
    """Exponential backoff with full jitter (attempt 1 -> up to ``base``)."""
    return random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not crypto


class Cancelled(Exception):
    """``options.cancel`` was set while waiting between attempts."""


def mutate(
    what: str,
    send: Callable[[], T],
    took_effect: Callable[[], T | None],
    *,
    cancel: threading.Event,
    base_delay: float,
    on_retry: Callable[[str], None] | None = None,
    redact: Callable[[str], str] = str,
    fence: Callable[[], None] | None = None,
) -> T:
    """Make one mutating call at most once in effect.

    ``fence`` is called right before every send (the first and each re-send):
    it raises when the run lost its environment's lock, and then nothing is sent.

    Throttling is a clear rejection: wait and re-send. After an ambiguous
    error (timeout, dropped connection, 5xx) the call may have been applied,
    so ``took_effect`` looks at the state first; only when it finds nothing
    is the call sent again (both our calls are harmless to repeat once the
    state shows they did not land). Any other client error is the user's
    to fix and becomes BadInput.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    say = on_retry or (lambda _message: None)
    attempt = 0
    while True:
        attempt += 1
        if fence is not None:
            fence()
        try:
            return send()
        except (BotoCoreError, ClientError) as exc:
            problem = credential_problem(exc)
            if problem is not None:
                raise problem from None
            if error_code(exc) in THROTTLING_CODES:
                if attempt >= WRITE_ATTEMPTS:
                    raise NeedsHuman(f"{what}: ECS kept throttling us ({attempt} attempts); try again later") from None
                say(f"{what}: throttled by ECS, retrying")
                if cancel.wait(backoff(attempt, base_delay)):
                    raise Cancelled from None
                continue
            if not is_ambiguous(exc):
                # ECS may quote the request (environment values) back in its message.
                raise BadInput(f"{what}: ECS refused: {redact(error_message(exc))}") from None
            say(f"{what}: no clear answer from ECS ({type(exc).__name__}); checking whether it took effect")
            if cancel.wait(backoff(1, base_delay)):
                raise Cancelled from None
            found = took_effect()
            if found is not None:
                return found
            if attempt >= WRITE_ATTEMPTS:
                raise NeedsHuman(
                    f"{what}: no clear answer from ECS after {attempt} attempts and the change "
                    "is not visible; check the service in the AWS console"
                ) from None
