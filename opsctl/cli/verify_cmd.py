"""``opsctl verify ENV --image IMAGE``: the pre-flight checks, one line each, before anything changes."""

from __future__ import annotations

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

STYLES = {"passed": "green", "failed": "bold red", "warned": "yellow", "unavailable": "bold magenta"}


def verify(
    ctx: typer.Context,
    env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. staging."),
    image: str = typer.Option(..., "--image", "-i", help="Image to check, e.g. ghcr.io/acme/hvb:1.8.0."),
) -> None:
    """Check an image and an environment before a deploy: reads only, changes nothing.

    The image exists and its tag resolves to a digest (ECR, or any registry
    over the OCI distribution API); on ECS the task and execution roles, the
    secrets the container references (never their values) and the awslogs
    log group exist; on Fly the app exists and the token can read it; the
    image's security scan is within the scan: limits. Families turned off
    with `verify: {image, roles, secrets, logs}` are listed as not checked.
    Exit 0 when all passed, 1 when a check failed, 5 when a registry or AWS
    service could not be reached, 2 for bad input.

    \b
    Examples:
      opsctl verify staging --image ghcr.io/acme/hvb:1.8.0
      opsctl --json verify production --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/hvb:1.8.0
    """
    from opsctl.values.imageref import ImageRef
    from opsctl.verify.run import verify_environment

    application = app_of(ctx)
    ref = ImageRef.parse(image)  # a malformed image is bad input (exit 2) before any call
    workspace = application.workspace()
    workspace.config.environment(env)  # an unknown name is bad input, listing the known ones
    report = verify_environment(
        workspace.config, env, ref, platform=lambda: workspace.platform(env), redactor=workspace.redactor
    )
    out = application.output
    if application.json:
        out.json_document(report.as_dict())
    else:
        from rich.markup import escape

        for check in report.checks:
            style = STYLES.get(check.verdict.value, "dim")
            verdict = check.verdict.value.replace("_", " ")
            out.show(f"[{style}]{verdict:<12}[/] {check.family:<8} {escape(check.summary)}", soft_wrap=True)
        out.show(escape(report.summary()), soft_wrap=True)
    raise typer.Exit(int(report.exit_code))


def register(app: typer.Typer) -> None:
    app.command()(verify)
