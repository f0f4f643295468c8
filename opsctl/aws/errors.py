"""AWS errors in one line: what a failed boto3 call means for the person running opsctl.

Shared by every AWS user (the ECS driver, DynamoDB locks, the S3 audit
mirror, CloudWatch, STS), so that none of them imports another's module and
the same fault reads the same everywhere. botocore is imported inside
functions only (STYLE 8).
"""

from __future__ import annotations

from opsctl.errors import BadInput, OpsctlError

CREDENTIALS_HINT = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
NO_CREDENTIALS = f"no AWS credentials found: {CREDENTIALS_HINT}"
_BAD_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredTokenException",
        "ExpiredToken",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "AuthFailure",
    }
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` (``ThrottlingException``), or ``""``."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(exc: BaseException) -> str:
    """The AWS error message of a ``ClientError``, else the exception's own text."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)


def http_status(exc: BaseException) -> int:
    """The HTTP status AWS answered with, or 0 when there was no answer."""
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def credential_problem(exc: BaseException) -> BadInput | None:
    """A BadInput for missing, expired or rejected credentials, else None."""
    from botocore.exceptions import (
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
        TokenRetrievalError,
    )

    if isinstance(exc, NoCredentialsError):
        return BadInput(NO_CREDENTIALS)
    if isinstance(exc, PartialCredentialsError | CredentialRetrievalError | TokenRetrievalError):
        return BadInput(f"AWS credentials could not be loaded ({exc}): {CREDENTIALS_HINT}")
    if error_code(exc) in _BAD_CREDENTIAL_CODES:
        return BadInput(f"AWS rejected the credentials ({error_code(exc)}): {CREDENTIALS_HINT}")
    return None


def aws_problem(exc: BaseException, what: str, service: str) -> OpsctlError:
    """A one-line error for a failed AWS call (credentials, unreachable endpoint, refusal)."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

    problem = credential_problem(exc)
    if problem is not None:
        return problem
    if isinstance(exc, NoRegionError):
        return BadInput(f"{what}: no AWS region: set region in opsctl.yaml, or AWS_REGION / AWS_DEFAULT_REGION")
    if isinstance(exc, EndpointConnectionError):
        return BadInput(f"{what}: {service} is unreachable ({exc})")
    if isinstance(exc, ClientError):
        return BadInput(f"{what}: {service} refused: {error_code(exc)}: {error_message(exc)}")
    return BadInput(f"{what}: {type(exc).__name__}: {exc}")
