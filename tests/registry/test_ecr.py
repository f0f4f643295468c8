"""ECR through boto3 against moto on 127.0.0.1: digests, missing tags and repositories, scan findings."""

from __future__ import annotations

import contextlib
import json

import pytest

from opsctl.registry.ecr import EcrRegistry, ecr_repository
from opsctl.registry.model import ImageNotFound, RegistryDenied
from opsctl.registry.resolve import AwsAccess, resolve
from opsctl.values.imageref import ImageRef
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws

ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 2,
        "digest": "sha256:" + "b" * 64,
    },
    "layers": [],
}


def _push(server: MotoServer, repository: str = "hvb", tag: str = "1.8.0") -> str:
    ecr = server.client("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    return str(
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(MANIFEST), imageTag=tag)["image"]["imageId"][
            "imageDigest"
        ]
    )


def test_ecr_host_names_account_and_region() -> None:
    repo = ecr_repository(ImageRef.parse("210987654321.dkr.ecr.us-east-2.amazonaws.com/team/hvb:1"))
    assert repo is not None
    assert (repo.account, repo.region, repo.name) == ("210987654321", "us-east-2", "team/hvb")
    assert repo.describe() == "ECR repository team/hvb (account 210987654321, us-east-2)"
    assert ecr_repository(ImageRef.parse("ghcr.io/acme/hvb:1")) is None


def test_tag_resolves_through_describe_images(aws: MotoServer) -> None:
    digest = _push(aws)
    found = resolve(ImageRef.parse(f"{ECR_HOST}/hvb:1.8.0"), {}, aws=AwsAccess(endpoint_url=aws.endpoint_url))
    assert found.digest == digest
    assert str(found.pinned) == f"{ECR_HOST}/hvb:1.8.0@{digest}"


def test_missing_tag_and_missing_repository(aws: MotoServer) -> None:
    _push(aws)
    reach = AwsAccess(endpoint_url=aws.endpoint_url)
    with pytest.raises(ImageNotFound) as caught:
        resolve(ImageRef.parse(f"{ECR_HOST}/hvb:9.9.9"), {}, aws=reach)
    assert str(caught.value) == (
        f"{ECR_HOST}/hvb:9.9.9: tag 9.9.9 not found in ECR repository hvb (account 123456789012, eu-west-1)"
    )
    with pytest.raises(ImageNotFound) as caught:
        resolve(ImageRef.parse(f"{ECR_HOST}/nope:1"), {}, aws=reach)
    assert (
        str(caught.value) == f"{ECR_HOST}/nope:1: ECR repository nope (account 123456789012, eu-west-1) does not exist"
    )


def test_scan_findings_none_before_a_scan_then_counts(aws: MotoServer) -> None:
    digest = _push(aws)
    ref = ImageRef.parse(f"{ECR_HOST}/hvb:1.8.0")
    repo = ecr_repository(ref)
    assert repo is not None
    registry = EcrRegistry(aws.client("ecr"))
    assert registry.scan_findings(ref, repo, digest) is None
    aws.client("ecr").start_image_scan(repositoryName="hvb", imageId={"imageDigest": digest})
    findings = registry.scan_findings(ref, repo, digest)
    assert findings is not None
    assert findings.status == "COMPLETE"
    assert findings.counts == {"HIGH": 1}  # moto's one fake finding


def test_access_denied_names_the_permission() -> None:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    ref = ImageRef.parse("210987654321.dkr.ecr.eu-west-1.amazonaws.com/hvb:1")
    repo = ecr_repository(ref)
    assert repo is not None
    with Stubber(client) as stub:
        stub.add_client_error("describe_images", "AccessDeniedException", "not authorized", 400)
        with pytest.raises(RegistryDenied) as caught:
            EcrRegistry(client).resolve(ref, repo)
    assert str(caught.value) == (
        f"{ref}: not allowed to read ECR repository hvb (account 210987654321, eu-west-1) (AccessDeniedException): "
        "grant ecr:DescribeImages and ecr:DescribeImageScanFindings to this identity "
        "(for another account, in the repository policy)"
    )
