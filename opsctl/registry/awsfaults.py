"""A failed AWS read in one line, telling "the service is unreachable" (exit 5) from "AWS said no".

Pre-flight checks read ECR, IAM, Secrets Manager, SSM and CloudWatch Logs.
When one of them cannot be reached nothing was changed and trying again may
help: that is :class:`~opsctl.errors.Unavailable`, not bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opsctl.aws.errors import credential_problem, error_code, error_message
from opsctl.errors import BadInput, Unavailable

T = TypeVar("T")

_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the AWS endpoint gave no usable answer (connection, timeout, 5xx, throttling)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError):
        return True
    if isinstance(exc, ClientError):
        status = int(getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or error_code(exc) in _THROTTLED
    return False


def aws_read(what: str, service: str, call: Callable[[], T]) -> T:
    """``call()``; Unavailable when ``service`` is unreachable, BadInput for credentials, else the ClientError.

    ``what`` says what was being read, for the message: ``reading role hvb-task``.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        problem = credential_problem(exc)
        if problem is not None:
            raise problem from None
        if unreachable(exc):
            detail = error_message(exc) if isinstance(exc, ClientError) else str(exc)
            raise Unavailable(f"{service} is unavailable ({what}): {detail}; nothing was changed, try again") from None
        if isinstance(exc, ClientError):
            raise
        raise BadInput(f"{what}: {type(exc).__name__}: {exc}") from None
