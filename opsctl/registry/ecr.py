"""ECR through boto3: an image's digest (``DescribeImages``) and its scan findings (``DescribeImageScanFindings``).

The account and region come from the image's host
(``123456789012.dkr.ecr.eu-west-1.amazonaws.com``), so a repository in
another region or account is asked where it lives; when the caller may not
read it, the message names the account and the permission to grant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opsctl.aws.errors import error_code, error_message
from opsctl.registry.awsfaults import aws_read
from opsctl.registry.model import DOCKER_MANIFEST, ImageNotFound, RegistryDenied, RegistryProblem, Resolved
from opsctl.values.imageref import ImageRef

_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$"
)
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})


@dataclass(frozen=True)
class EcrRepository:
    """Where an ECR image lives: account, region and repository name."""

    account: str
    region: str
    name: str

    def describe(self) -> str:
        return f"ECR repository {self.name} (account {self.account}, {self.region})"


def ecr_repository(ref: ImageRef) -> EcrRepository | None:
    """The ECR repository of ``ref``, or None when its registry is not ECR."""
    match = _ECR_HOST.match(ref.registry or "")
    if match is None:
        return None
    return EcrRepository(match["account"], match["region"], ref.repository)


@dataclass(frozen=True)
class ScanFindings:
    """An ECR scan: its status and the number of findings per severity (upper case: ``CRITICAL``)."""

    status: str
    counts: dict[str, int] = field(default_factory=dict)
    description: str = ""


class EcrRegistry:
    """Reads of one ECR region over an injected boto3 ``ecr`` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def for_repository(
        cls, repo: EcrRepository, *, profile: str | None = None, endpoint_url: str | None = None
    ) -> EcrRegistry:
        from opsctl.aws.client import aws_client

        return cls(aws_client("ecr", region=repo.region, endpoint_url=endpoint_url, profile=profile, retries=3))

    def resolve(self, ref: ImageRef, repo: EcrRepository) -> Resolved:
        """The digest of ``ref``; ImageNotFound naming the repository and the tag."""
        image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.tag or "latest"}
        answer = self._read(
            ref,
            repo,
            lambda: self.client.describe_images(registryId=repo.account, repositoryName=repo.name, imageIds=[image_id]),
        )
        details = answer.get("imageDetails") or []
        if not details:
            raise ImageNotFound(f"{ref}: tag {ref.tag or 'latest'} not found in {repo.describe()}")
        detail = details[0]
        media = str(detail.get("imageManifestMediaType") or DOCKER_MANIFEST)
        return Resolved(ref, str(detail["imageDigest"]), media, ref.registry or "")

    def scan_findings(self, ref: ImageRef, repo: EcrRepository, digest: str) -> ScanFindings | None:
        """The image's scan findings; None when ECR has no scan of it."""
        from botocore.exceptions import ClientError

        def call() -> dict[str, Any]:
            answer: dict[str, Any] = self.client.describe_image_scan_findings(
                registryId=repo.account, repositoryName=repo.name, imageId={"imageDigest": digest}
            )
            return answer

        try:
            answer = aws_read(f"reading the scan of {ref}", f"ECR in {repo.region}", call)
        except ClientError as exc:
            if error_code(exc) == "ScanNotFoundException":
                return None
            raise _problem(exc, ref, repo) from None
        status = answer.get("imageScanStatus") or {}
        findings = answer.get("imageScanFindings") or {}
        counts = {str(k).upper(): int(v) for k, v in (findings.get("findingSeverityCounts") or {}).items()}
        return ScanFindings(str(status.get("status", "UNKNOWN")), counts, str(status.get("description", "")))

    def _read(self, ref: ImageRef, repo: EcrRepository, call: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        try:
            answer: dict[str, Any] = aws_read(f"reading {ref}", f"ECR in {repo.region}", call)
        except ClientError as exc:
            raise _problem(exc, ref, repo) from None
        return answer


def _problem(exc: Exception, ref: ImageRef, repo: EcrRepository) -> RegistryProblem:
    code = error_code(exc)
    if code == "ImageNotFoundException":
        what = f"digest {ref.digest}" if ref.digest else f"tag {ref.tag or 'latest'}"
        return ImageNotFound(f"{ref}: {what} not found in {repo.describe()}")
    if code == "RepositoryNotFoundException":
        return ImageNotFound(f"{ref}: {repo.describe()} does not exist")
    if code in _DENIED:
        return RegistryDenied(
            f"{ref}: not allowed to read {repo.describe()} ({code}): grant ecr:DescribeImages and "
            f"ecr:DescribeImageScanFindings to this identity (for another account, in the repository policy)"
        )
    return RegistryProblem(f"{ref}: ECR refused: {code}: {error_message(exc)}")
