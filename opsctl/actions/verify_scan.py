"""``verify.scan``: the pre-deploy item "Security scan completed", answered by the image's scan findings.

With ``scan:`` limits in opsctl.yaml the item is machine-checked: ECR's own
findings for the (pinned) digest, or the Trivy JSON / SARIF report or command
named there, against ``max_critical`` / ``max_high`` / ``max_medium``. The
checklist keeps a manual item for projects without ``scan:`` (``when``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from opsctl.actions.verify import pinned_image
from opsctl.engine.actions import action
from opsctl.engine.context import RunContext
from opsctl.engine.outcome import Outcome
from opsctl.errors import BadInput, Unavailable
from opsctl.values.imageref import ImageRef


class ScanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = None


@action("verify.scan", ScanParams, needs_env=True)
def verify_scan(ctx: RunContext, params: ScanParams) -> Outcome:
    """The image's security findings are within the ``scan:`` limits."""
    from opsctl.verify.result import Verdict
    from opsctl.verify.run import verify_scan as scan_check

    image = pinned_image(ctx, ImageRef.parse(params.image) if params.image else ctx.request.image)
    if image is None:
        raise BadInput("verify.scan needs an image: pass --image or set with: image")
    if ctx.config.scan is None:
        return Outcome.skipped("no scan: limits in opsctl.yaml; confirm the scan by hand (item security-scan)")
    assert ctx.env_name is not None  # noqa: S101 - needs_env: the executor checked
    check = scan_check(ctx.config, ctx.env_name, image, redactor=ctx.redactor)
    detail = {key: value for key, value in check.as_dict().items() if key != "summary"}
    if check.verdict is Verdict.PASSED:
        return Outcome.passed(check.summary, **detail)
    if check.verdict is Verdict.UNAVAILABLE:
        raise Unavailable(f"{check.summary}; nothing was changed")
    if check.verdict is Verdict.NOT_CHECKED:
        return Outcome.failed(f"the security scan could not be judged: {check.summary}", **detail)
    return Outcome.failed(check.summary, **detail)
