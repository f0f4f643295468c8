"""Container registries: does an image exist, and which digest does its tag name now.

Two drivers behind one call, :func:`opsctl.registry.resolve.resolve`:
ECR repositories through boto3 (``DescribeImages``, and
``DescribeImageScanFindings`` for the scan), any other registry (Docker Hub,
GHCR, registry.fly.io, a private one) through the OCI distribution API over
httpx. Both read only. httpx and boto3 are imported by the modules that use
them, never here, so ``opsctl --help`` stays fast.
"""
