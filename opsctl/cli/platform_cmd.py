"""``opsctl platform status | rbac``: what the Kubernetes driver sees, and the RBAC it needs."""

from __future__ import annotations

from typing import Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.completion import complete_env

app = typer.Typer(help="Kubernetes: a Deployment's rollout state, and the RBAC Role opsctl needs.")


@app.command("status")
def status(
    ctx: typer.Context, env: str = typer.Argument(..., autocompletion=complete_env, help="Environment, e.g. staging.")
) -> None:
    """Replicas (desired/updated/ready/available), images the pods run, conditions, revisions (kubernetes).

    Each ReplicaSet revision is marked with the audit log's verdict on its
    image (verified / failed / rolled_back), so the revision a rollback would
    choose is plain to see.

    \b
    Example:
      opsctl platform status staging
      opsctl --json platform status staging
    """
    from opsctl.audit.query import load_runs, release_history
    from opsctl.errors import BadInput

    application = app_of(ctx)
    ws = application.workspace()
    kind = ws.config.environment(env).platform.kind
    if kind != "kubernetes":
        raise BadInput(f"environment {env} runs on {kind}: `opsctl platform status` is for kubernetes")
    from opsctl.platforms.kube.driver import KubernetesPlatform

    platform = ws.platform(env)
    if not isinstance(platform, KubernetesPlatform):  # a test's stand-in driver
        raise BadInput(f"environment {env}: {platform.describe()} is no kubernetes driver")
    facts = platform.facts()
    verdicts: dict[str, str] = {}
    for record in release_history(load_runs(ws.audit.path, env), env):
        verdicts.setdefault(record.image, record.verdict.replace(" ", "_"))
    for rev in facts["revisions"]:
        rev["verdict"] = verdicts.get(str(rev["image"]), "-")
    if application.json:
        application.output.json_document({"env": env, **facts})
        return
    _draw(application, env, facts)


def _draw(application: Any, env: str, facts: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = application.output
    r = facts["replicas"]
    out.show(f"[bold]{escape(env)}[/] · {escape(facts['target'])}")
    out.show(f"  image     {escape(str(facts['image']))} (revision {facts['revision']})")
    out.show(
        f"  replicas  {r['desired']} desired, {r['updated']} updated, {r['ready']} ready, {r['available']} available"
    )
    pods = ", ".join(f"{n} on {image}" for image, n in facts["pods"].items()) or "no pods"
    flag = " [yellow](mixed images: a rollout is in progress or stuck)[/]" if facts["mixed_images"] else ""
    out.show(f"  pods      {escape(pods)}{flag}")
    for c in facts["conditions"]:
        style = "green" if c["status"] == "True" else "yellow"
        out.show(
            f"  [{style}]{escape(str(c['type']))}={escape(str(c['status']))}[/] {escape(str(c['reason']))}: "
            f"{escape(str(c['message'] or ''))}"
        )
    table = Table(title="revisions (newest first)", title_justify="left")
    for column in ("revision", "image", "verdict", "pods", "change-cause"):
        table.add_column(column)
    for rev in facts["revisions"]:
        table.add_row(
            *(escape(str(v)) for v in (rev["revision"], rev["image"], rev["verdict"], rev["replicas"])),
            escape(str(rev["change_cause"] or "-")),
        )
    out.show(table)


@app.command("rbac")
def rbac(
    ctx: typer.Context,
    env: list[str] = typer.Argument(
        None, autocompletion=complete_env, help="Environments (default: every kubernetes environment)."
    ),
    print_only: bool = typer.Option(False, "--print", help="Print the Role and RoleBinding YAML (required)."),
    subject: str = typer.Option("opsctl", "--service-account", help="Service account the RoleBinding names."),
) -> None:
    """Print the least-privilege Role (and RoleBinding) opsctl needs, for kubectl apply.

    Deployments: get, patch; replicasets: list; pods: list; pods/log: get;
    with locks.backend kubernetes also leases: create, get, update. opsctl
    never creates RBAC itself: review the YAML, then apply it.

    \b
    Example:
      opsctl platform rbac --print > opsctl-rbac.yaml
      opsctl platform rbac staging --print --service-account ci-deployer
    """
    from opsctl.errors import BadInput
    from opsctl.platforms.kube.rbac import rbac_documents

    application = app_of(ctx)
    if not print_only:
        raise BadInput(
            "opsctl does not create RBAC objects (that needs rights a deploy should not have): "
            "run `opsctl platform rbac --print | kubectl apply -f -` as a cluster admin"
        )
    config = application.workspace().config
    text = rbac_documents(config, list(env or []), subject)
    if application.json:
        application.output.json_document({"yaml": text})
    else:
        application.output.text(text, end="")
