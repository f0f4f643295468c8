"""Pre-flight verification (`opsctl verify`, the first step of deploy and hot-patch): know before changing.

Read-only checks, each one line with a verdict: the image exists and its tag
resolves to a digest (:mod:`.image`), the ECS task and execution roles, the
secrets the container references and its awslogs group exist
(:mod:`.ecs`), the Fly app exists and the token can read it (:mod:`.fly`),
and the image's security scan is within the ``scan:`` limits
(:mod:`.scan`). :func:`opsctl.verify.run.verify_environment` runs them and
returns a :class:`opsctl.verify.result.VerifyReport`.
"""
