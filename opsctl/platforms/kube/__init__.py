"""The Kubernetes platform driver (``platform: {kind: kubernetes}``), built on the official client.

Nothing here is imported by ``opsctl --help``: :func:`opsctl.platforms.make_platform`
imports :mod:`opsctl.platforms.kube.driver` only for an environment that uses it.
"""
