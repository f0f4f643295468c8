"""``platform.verify``: the pre-flight checks as a runbook step (first in deploy and hot-patch, dry runs too).

It runs :func:`opsctl.verify.run.verify_environment` for the run's image,
shows one line per check, and pins the digest the tag resolved to in the
run's state (``run.state.pinned``): ``platform.plan`` and ``platform.deploy``
then use ``name:tag@digest``, so a tag moved after this step cannot change
what runs. A service that could not be reached (and no check that failed)
stops the run with exit 5 before anything changed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput, Unavailable
from opsctl.values.imageref import ImageRef


class VerifyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = None


@action("platform.verify", VerifyParams, needs_env=True)
def platform_verify(ctx: RunContext, params: VerifyParams) -> Outcome:
    """The image exists (tag -> digest, pinned), roles, secrets and log groups exist, the scan is within limits."""
    from opsctl.verify.run import verify_environment

    image = ImageRef.parse(params.image) if params.image else ctx.request.image
    if image is None:
        raise BadInput("platform.verify needs an image: pass --image or set with: image")
    assert ctx.env_name is not None  # noqa: S101 - needs_env: the executor checked
    report = verify_environment(ctx.config, ctx.env_name, image, platform=ctx.platform, redactor=ctx.redactor)
    for check in report.checks:
        ctx.emit("message", message=check.line())
    detail = report.as_dict()
    if report.failed:
        return Outcome.failed(report.summary(), **detail)
    if report.unavailable:
        why = report.unavailable[0].summary  # AWS reads already say "nothing was changed": not twice
        raise Unavailable(why if "nothing was changed" in why else f"{why}; nothing was changed")
    if report.pinned and report.digest:
        ctx.state.pinned = {"tag_ref": str(image), "digest": report.digest, "image": report.pinned}
    return Outcome.passed(report.summary(), **detail)


def pinned_image(ctx: RunContext, image: ImageRef | None) -> ImageRef | None:
    """``image`` pinned to the digest the verify step resolved for it, when it did (else ``image``)."""
    pinned = ctx.state.pinned
    if image is None or pinned is None or pinned["tag_ref"] != str(image):
        return image
    return ImageRef.parse(pinned["image"])
