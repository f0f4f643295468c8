"""The sandbox's ECR: real-looking manifests in moto, tags that resolve to the manifests' digests, pinned images."""

from __future__ import annotations

import hashlib
import json

from opsctl.registry.resolve import AwsAccess, resolve
from opsctl.sandbox.aws import RunningImage, create_ecs_service
from opsctl.sandbox.demo import GOOD_IMAGE, MISSING_IMAGE
from opsctl.sandbox.ecr import HOST, manifest, push_images
from opsctl.values.imageref import ImageRef
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws


def test_the_demo_images_are_ecr_references() -> None:
    assert HOST == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert GOOD_IMAGE == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hvb:1.8.0"
    assert MISSING_IMAGE == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hvb:1.8.1"


def test_a_manifest_looks_like_what_docker_push_leaves() -> None:
    body = json.loads(manifest("hvb", "1.8.0"))
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert body["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert body["config"]["size"] > 0
    assert [layer["mediaType"] for layer in body["layers"]] == ["application/vnd.docker.image.rootfs.diff.tar.gzip"]
    for blob in (body["config"], *body["layers"]):
        assert blob["digest"].startswith("sha256:")
        assert len(blob["digest"]) == len("sha256:") + 64
    assert manifest("hvb", "1.8.0") == manifest("hvb", "1.8.0")  # the same tag, the same digest every run
    assert manifest("hvb", "1.8.0") != manifest("hvb", "1.9.0-bad")


def test_pushed_tags_resolve_to_the_sha256_of_their_manifest(aws: MotoServer) -> None:
    pushed = push_images(aws.endpoint_url, "hvb", ("1.7.0", "1.8.0"))
    digest = "sha256:" + hashlib.sha256(manifest("hvb", "1.8.0")).hexdigest()
    assert pushed["1.8.0"].digest == digest
    assert pushed["1.8.0"].pinned == f"{HOST}/hvb:1.8.0@{digest}"
    assert pushed["1.7.0"].digest != digest
    found = resolve(ImageRef.parse(pushed["1.8.0"].ref), {}, aws=AwsAccess(endpoint_url=aws.endpoint_url))
    assert (found.digest, str(found.pinned)) == (digest, pushed["1.8.0"].pinned)
    detail = aws.client("ecr").describe_images(repositoryName="hvb", imageIds=[{"imageTag": "1.8.0"}])
    assert detail["imageDetails"][0]["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"


def test_the_bot_version_of_a_pinned_image_is_its_tag(aws: MotoServer) -> None:
    pushed = push_images(aws.endpoint_url, "hvb", ("1.7.0",))
    service = create_ecs_service(aws.endpoint_url, image=pushed["1.7.0"].pinned)
    running = RunningImage(service)
    try:
        assert running.image(fresh=True) == pushed["1.7.0"].pinned
        assert running() == "1.7.0"  # what the bot serves as /health's version
        assert running.task_definition() == "arn:aws:ecs:eu-west-1:123456789012:task-definition/hvb:1"
    finally:
        running.close()
