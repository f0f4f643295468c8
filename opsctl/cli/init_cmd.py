"""``opsctl init``: write a commented opsctl.yaml from what already runs (ECS, Fly, Kubernetes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from opsctl.cli.common import app_of


def init(
    ctx: typer.Context,
    ecs: list[str] = typer.Option([], "--ecs", metavar="CLUSTER/SERVICE", help="An ECS service (repeatable)."),
    fly: list[str] = typer.Option([], "--fly", metavar="APP", help="A Fly app (repeatable)."),
    kubernetes: list[str] = typer.Option(
        [], "--kubernetes", metavar="CONTEXT/NAMESPACE/DEPLOYMENT", help="A Kubernetes Deployment (repeatable)."
    ),
    env: list[str] = typer.Option(
        [],
        "--env",
        "-e",
        metavar="NAME",
        help="Environment name, one per target in the order ECS, Fly, Kubernetes [default: guessed].",
    ),
    service: str | None = typer.Option(
        None, "--service", metavar="NAME", help="service: [default: the first target's name]."
    ),
    health_url: list[str] = typer.Option(
        [],
        "--health-url",
        metavar="URL",
        help="health.base_url, one per target (e.g. a CDN in front of the load balancer).",
    ),
    region: str | None = typer.Option(
        None, "--region", metavar="REGION", help="ECS: AWS region [default: the AWS config's]."
    ),
    profile: str | None = typer.Option(
        None, "--profile", metavar="PROFILE", help="ECS: AWS profile [default: the standard chain]."
    ),
    fly_api_url: str = typer.Option(
        "https://api.machines.dev", "--fly-api-url", metavar="URL", help="Fly: the Machines API."
    ),
    fly_token_env: str = typer.Option(
        "FLY_API_TOKEN", "--fly-token-env", metavar="VAR", help="Fly: env var holding the token."
    ),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", metavar="FILE", help="Kubernetes: kubeconfig file to read."
    ),
    file: Path | None = typer.Option(
        None, "--file", "-f", metavar="FILE", help="Where to write [default: ./opsctl.yaml]."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file (kept as FILE.bak)."),
    print_only: bool = typer.Option(False, "--print", help="Print the file instead of writing it."),
) -> None:
    """Write a commented opsctl.yaml by discovering what already runs; never overwrites without --force.

    ECS: the region, the task definition's containers, the target group's
    health check path and the load balancer's DNS name as health.base_url.
    Fly: the app's machines, regions and HTTP check. Kubernetes: the
    Deployment's containers and probe path. Only reads; the file is checked as
    `opsctl config check` would before it is written.

    \b
    Examples:
      opsctl init --ecs hvb-staging/hotel-voice-bot
      opsctl init --ecs hvb-staging/hotel-voice-bot --ecs hvb-prod/hotel-voice-bot --env staging --env production
      opsctl init --fly hvb --env production --print
      opsctl init --kubernetes hvb-staging/hvb/hotel-voice-bot --kubeconfig ~/.kube/config
    """
    from opsctl.setup.project import InitRequest, init_project

    application = app_of(ctx)
    request = InitRequest(
        ecs=ecs,
        fly=fly,
        kubernetes=kubernetes,
        envs=env,
        health_urls=health_url,
        service=service,
        region=region,
        profile=profile,
        fly_api_url=fly_api_url,
        fly_token_env=fly_token_env,
        kubeconfig=kubeconfig,
    )
    path = file or Path(application.config_path or "opsctl.yaml")
    today = (application.clock() if application.clock else datetime.now(UTC)).strftime("%Y-%m-%d")
    result = init_project(path, request, force=force, write=not print_only, today=today)
    out = application.output
    if out.json:
        out.json_document({**result.as_dict(), **({"text": result.text} if print_only else {})})
        return
    if print_only:
        from opsctl.cli.output import text

        text(result.text, end="")
        return
    from rich.markup import escape

    # Whole lines (URLs, paths) even on a narrow terminal: people copy them.
    out.show(
        f"wrote {escape(str(path))}: service {escape(result.service)}, {len(result.environments)} environment(s)",
        soft_wrap=True,
    )
    for plan in result.environments:
        found = plan.found
        url = (found.health or {}).get("base_url") or "no health.base_url yet"
        out.show(f"  {escape(plan.name)}: {found.kind} {escape(found.target)} · {escape(str(url))}", soft_wrap=True)
    if result.backup is not None:
        out.show(f"  the old file is kept as {escape(str(result.backup))}", soft_wrap=True)
    first = result.environments[0].name
    out.show(f"next: opsctl config check, then opsctl deploy {escape(first)} --image IMAGE --dry-run", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(init)
