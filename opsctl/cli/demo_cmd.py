"""``opsctl demo``: the tour of the product in a local sandbox, each step the real command, in-process."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from opsctl.cli.common import app_of

if TYPE_CHECKING:
    from rich.console import Console

    from opsctl.cli.application import Application
    from opsctl.sandbox.demo import Sandbox, Verdict


def demo(
    ctx: typer.Context,
    keep: bool = typer.Option(
        False, "--keep", help="Leave the sandbox running (until Ctrl-C) to try commands in another terminal."
    ),
) -> None:
    """Show the whole product in a local sandbox: no cloud account, no network, under 30 seconds.

    Starts moto (AWS ECS) and the demo Hotel Voice Bot on 127.0.0.1, writes a
    project in a temporary folder, then runs the real commands: the pre-deploy
    gates, a good deploy (verified), a bad deploy (verification fails, automatic
    rollback), status, audit verify and report. Exit 0 only when every step gave
    its expected verdict; everything is removed afterwards, also on Ctrl-C.
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
    out = application.err_console if application.json else application.console
    clock = time.monotonic()
    verdicts: list[Verdict] = []
    with _sigterm_as_interrupt():
        out.print("[bold]opsctl demo[/]: starting moto (AWS ECS) and the demo Hotel Voice Bot on 127.0.0.1 …")
        try:
            with open_sandbox() as sandbox:
                out.print(
                    f"  AWS (moto) {sandbox.endpoint_url} · bot {sandbox.bot_url} · project {sandbox.config_path}"
                )
                interrupted = _tour(application, out, sandbox, verdicts)
                _summary(application, out, verdicts, time.monotonic() - clock, interrupted=interrupted)
                if keep and not interrupted:
                    _keep(out, sandbox)
        finally:
            out.print("[dim]sandbox stopped: moto and the bot are down, the temporary folder is removed[/]")
    if interrupted:
        raise typer.Exit(130)
    raise typer.Exit(0 if all(v.ok for v in verdicts) else 1)


def _tour(application: Application, out: Console, sandbox: Sandbox, verdicts: list[Verdict]) -> bool:
    """Run every step and judge it; True when the user interrupted a step."""
    from opsctl.sandbox.demo import Verdict, demo_steps, judge

    steps = demo_steps(sandbox, report=_has_command("report"))
    halted = False
    for number, step in enumerate(steps, start=1):
        if halted and step.changes:
            verdicts.append(Verdict(step, False, "not run: an earlier step gave an unexpected verdict"))
            continue
        out.print()
        out.rule(f"[bold]{number}/{len(steps)} {_esc(step.title)}[/]", align="left")
        out.print(f"[bold cyan]$[/] {_esc(step.command)}")
        started = time.monotonic()
        code = _invoke(application, sandbox, step.argv)
        if code == 130:
            return True
        verdict = judge(sandbox, step, code, time.monotonic() - started)
        verdicts.append(verdict)
        mark = "[green]✓ as expected[/]" if verdict.ok else "[bold red]✗ NOT as expected[/]"
        out.print(f"{mark} {_esc(step.key)}: {_esc(verdict.got)}" + ("" if verdict.ok else f"; expected {step.expect}"))
        halted = halted or not verdict.ok
    return False


def _invoke(application: Application, sandbox: Sandbox, argv: tuple[str, ...]) -> int:
    """Run ``opsctl ARGV`` in this process against the sandbox's config; returns its exit code."""
    from typer.main import get_command

    from opsctl.cli.app import app
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
            get_command(app).main(args=list(argv), prog_name="opsctl", obj=inner)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # a bug past the command's own error edge: the step failed, the tour goes on
            typer.echo(application.redact(f"error: unexpected {type(exc).__name__}: {exc}"), err=True)
            return 1
    return 0


def _summary(
    application: Application, out: Console, verdicts: list[Verdict], seconds: float, *, interrupted: bool
) -> None:
    failed = [v for v in verdicts if not v.ok]
    if application.json:
        summary = {
            "ok": not failed and not interrupted,
            "interrupted": interrupted,
            "seconds": round(seconds, 1),
            "steps": [v.as_dict() for v in verdicts],
        }
        sys.stdout.write(json.dumps(summary) + "\n")
    out.print()
    if interrupted:
        out.print(f"[yellow]demo interrupted after {seconds:.1f}s[/]")
    elif failed:
        names = ", ".join(v.step.key for v in failed)
        out.print(
            f"[bold red]✗ demo FAILED[/] in {seconds:.1f}s: {len(failed)} step(s) gave an unexpected verdict: {names}"
        )
    else:
        out.print(
            f"[bold green]✓ demo passed[/] in {seconds:.1f}s: every step gave its expected verdict "
            "(good deploy verified, bad deploy rolled back, audit log intact)"
        )


def _keep(out: Console, sandbox: Sandbox) -> None:
    """Print how to use the sandbox from another terminal, then wait for Ctrl-C."""
    from opsctl.sandbox.demo import manual_confirms

    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sandbox.exports().items())
    confirms = " ".join(manual_confirms(sandbox.root))
    out.print()
    out.print("[bold]The sandbox keeps running until Ctrl-C.[/] Config: " + _esc(str(sandbox.config_path)))
    out.print("In another terminal:")
    for line in (
        f"export {exports}",
        "opsctl status staging",
        "opsctl runs",
        f"opsctl deploy staging --image hvb:2.0.0 {confirms}",
        f"opsctl deploy staging --image hvb:2.1.0-bad {confirms}",
        "opsctl rollback staging",
        "opsctl releases staging",
        "opsctl audit show --env staging",
        "opsctl report",
    ):
        out.print(f"  {_esc(line)}", soft_wrap=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        out.print()


def _has_command(name: str) -> bool:
    from typer.main import get_command

    from opsctl.cli.app import app

    group: Any = get_command(app)
    return name in group.commands


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM cleans up like Ctrl-C (the sandbox must never outlive the demo)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def register(app: typer.Typer) -> None:
    app.command()(demo)
