"""``opsctl demo``: the tour of the product in a local sandbox, each step the real command, in-process."""

from __future__ import annotations

import shlex
import sys
import time
from contextlib import nullcontext, redirect_stdout
from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of
from opsctl.cli.output import Output
from opsctl.process.signals import sigterm_as_interrupt

if TYPE_CHECKING:
    from opsctl.cli.application import Application
    from opsctl.sandbox.demo import Sandbox, Verdict

# typer runs on click, vendored as typer._click by recent typer: the root command is read by its
# (stable) click attributes, ``main`` and ``commands``, rather than by class.
Command = Any


def demo(
    ctx: typer.Context,
    keep: bool = typer.Option(
        False, "--keep", help="Leave the sandbox running (until Ctrl-C) to try commands in another terminal."
    ),
) -> None:
    """Show the whole product in a local sandbox: no cloud account, no network, under 30 seconds.

    Starts moto (AWS ECS) and the demo Hotel Voice Bot on 127.0.0.1, writes a
    project in a temporary folder, then runs the real commands: the pre-deploy
    gates, a good deploy (verified in ECR, pinned to its digest), a bad deploy
    (verification fails, automatic rollback), a deploy of a tag that does not
    exist (verify stops it before any change), status, audit verify and report.
    Exit 0 only when every step gave its expected verdict; everything is
    removed afterwards, also on Ctrl-C.
    Needs the sandbox extra: pip install 'opsctl[sandbox]'.

    \b
    Examples:
      opsctl demo
      opsctl demo --keep
    """
    from opsctl.sandbox.aws import require_moto
    from opsctl.sandbox.demo import open_sandbox

    require_moto()
    application = app_of(ctx)
    # With --json the tour goes to stderr and stdout carries one JSON summary.
    out = Output(application, json=application.json, human_to_stderr=application.json)
    # The demo runs the real commands: the root command (this very CLI) comes from the context,
    # so this module need not import the app that registers it.
    root: Command = ctx.find_root().command
    clock = time.monotonic()
    verdicts: list[Verdict] = []
    with sigterm_as_interrupt():  # the sandbox must never outlive the demo
        out.show("[bold]opsctl demo[/]: starting moto (AWS ECS) and the demo Hotel Voice Bot on 127.0.0.1 …")
        try:
            with open_sandbox() as sandbox:
                out.show(f"  AWS (moto) {sandbox.endpoint_url} · bot {sandbox.bot_url} · project {sandbox.config_path}")
                interrupted = _tour(application, root, out, sandbox, verdicts)
                _summary(out, verdicts, time.monotonic() - clock, interrupted=interrupted)
                if keep and not interrupted:
                    _keep(out, sandbox)
        finally:
            out.show("[dim]sandbox stopped: moto and the bot are down, the temporary folder is removed[/]")
    if interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if all(v.ok for v in verdicts) else 1)


def _tour(application: Application, root: Command, out: Output, sandbox: Sandbox, verdicts: list[Verdict]) -> bool:
    """Run every step and judge it; True when the user interrupted a step."""
    from opsctl.sandbox.demo import Verdict, demo_steps, judge

    steps = demo_steps(sandbox, report="report" in root.commands)
    halted = False
    for number, step in enumerate(steps, start=1):
        if halted and step.changes:
            verdicts.append(Verdict(step, False, "not run: an earlier step gave an unexpected verdict"))
            continue
        out.show()
        out.rule(f"[bold]{number}/{len(steps)} {_esc(step.title)}[/]", align="left")
        out.show(f"[bold cyan]$[/] {_esc(step.command)}")
        started = time.monotonic()
        code = _invoke(application, root, sandbox, step.argv)
        if code == 130:
            return True
        verdict = judge(sandbox, step, code, time.monotonic() - started)
        verdicts.append(verdict)
        mark = "[green]✓ as expected[/]" if verdict.ok else "[bold red]✗ NOT as expected[/]"
        out.show(f"{mark} {_esc(step.key)}: {_esc(verdict.got)}" + ("" if verdict.ok else f"; expected {step.expect}"))
        halted = halted or not verdict.ok
    return False


def _invoke(application: Application, root: Command, sandbox: Sandbox, argv: tuple[str, ...]) -> int:
    """Run ``opsctl ARGV`` in this process against the sandbox's config; returns its exit code."""
    from opsctl.cli.application import Application
    from opsctl.sandbox.demo import DEMO_ACTOR

    inner = Application(
        config_path=str(sandbox.config_path),
        actor=DEMO_ACTOR,
        no_color=application.no_color,
        interactive=application.is_tty and not application.json,
    )
    with redirect_stdout(sys.stderr) if application.json else nullcontext():
        try:
            root.main(args=list(argv), prog_name="opsctl", obj=inner)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # a bug past the command's own error edge: the step failed, the tour goes on
            # A line of the tour (plain, also under --json): the demo's own outcome is its summary.
            Output(application).error(application.redact(f"unexpected {type(exc).__name__}: {exc}"), 1)
            return 1
    return 0


def _summary(out: Output, verdicts: list[Verdict], seconds: float, *, interrupted: bool) -> None:
    failed = [v for v in verdicts if not v.ok]
    if out.json:
        ok = not failed and not interrupted
        out.json_line(
            {
                "event": "demo.finished",
                "ok": ok,
                "exit_code": 130 if interrupted else 0 if ok else 1,
                "interrupted": interrupted,
                "seconds": round(seconds, 1),
                "steps": [v.as_dict() for v in verdicts],
            }
        )
    out.show()
    if interrupted:
        out.show(f"[yellow]demo interrupted after {seconds:.1f}s[/]")
    elif failed:
        names = ", ".join(v.step.key for v in failed)
        out.show(
            f"[bold red]✗ demo FAILED[/] in {seconds:.1f}s: {len(failed)} step(s) gave an unexpected verdict: {names}"
        )
    else:
        out.show(
            f"[bold green]✓ demo passed[/] in {seconds:.1f}s: every step gave its expected verdict "
            "(good deploy verified, bad deploy rolled back, audit log intact)"
        )


def _keep(out: Output, sandbox: Sandbox) -> None:
    """Print how to use the sandbox from another terminal, then wait for Ctrl-C."""
    from opsctl.sandbox.demo import KEEP_IMAGES, MISSING_IMAGE
    from opsctl.sandbox.project import manual_confirms

    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sandbox.exports().items())
    confirms = " ".join(manual_confirms(sandbox.root))
    out.show()
    out.show("[bold]The sandbox keeps running until Ctrl-C.[/] Config: " + _esc(str(sandbox.config_path)))
    out.show("In another terminal:")
    for line in (
        f"export {exports}",
        "opsctl status staging",
        "opsctl runs",
        f"opsctl verify staging --image {MISSING_IMAGE}",
        *(f"opsctl deploy staging --image {image} {confirms}" for image in KEEP_IMAGES),
        "opsctl rollback staging",
        "opsctl releases staging",
        "opsctl audit show --env staging",
        "opsctl report",
    ):
        out.show(f"  {_esc(line)}", soft_wrap=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        out.show()


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def register(app: typer.Typer) -> None:
    app.command()(demo)
