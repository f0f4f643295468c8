"""The root command: global options, command groups, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import typer
from typer.core import TyperGroup

from opsctl import __version__
from opsctl.cli import output
from opsctl.cli.application import Application
from opsctl.cli.common import app_of
from opsctl.cli.completion import keep_order_in_shells
from opsctl.cli.lazy import COMMANDS, LazyCommands
from opsctl.errors import ExitCode, OpsctlError


def _click_exceptions() -> ModuleType:
    """The exceptions of the click that typer runs on.

    Recent typer vendors click as ``typer._click`` (and no longer depends on
    click), older typer uses click itself: take the module beside the base
    class of TyperGroup, whichever it is.
    """
    core = next(c.__module__ for c in TyperGroup.__mro__[1:] if c.__module__.endswith(".core"))
    return importlib.import_module(core.rsplit(".", 1)[0] + ".exceptions")


_exc = _click_exceptions()
_ClickCommand: Any = next(c for c in TyperGroup.__mro__[1:] if c.__name__ == "Command")
keep_order_in_shells()  # completions newest first: bash and fish would sort them


class VersionAsked(Exception):  # a signal, not an error
    """``opsctl --version``: answered in :meth:`OpsctlGroup.main`, which knows whether ``--json`` was given."""


def _version_option(ctx: Any, _param: Any, value: bool) -> None:
    # Eager, so it answers before click asks for a command; completion parses without acting on it.
    if value and not ctx.resilient_parsing:
        raise VersionAsked


class OpsctlGroup(TyperGroup):
    """Turns every expected error into one line on stderr and its exit code (STYLE 3).

    Its commands come from opsctl/cli/lazy.py: a command's module is imported
    only when that command is run or looked up, so `opsctl --help` imports none.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, COMMANDS)

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ARG002 - click's signature
        """Every command name, in creation order, without importing any command."""
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: ARG002 - click's signature
        """The click command ``cmd_name`` (built on first use), or None."""
        return self.commands.get(cmd_name)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Command names (from the table: completing ``opsctl <Tab>`` imports no command), then options."""
        commands = self.commands
        if not isinstance(commands, LazyCommands):
            return list(super().shell_complete(ctx, incomplete))
        item = importlib.import_module(_exc.__name__.rsplit(".", 1)[0] + ".shell_completion").CompletionItem
        listed = [(name, commands.listing(name)) for name in self.list_commands(ctx) if name.startswith(incomplete)]
        found = [item(name, help=command.get_short_help_str()) for name, command in listed if not command.hidden]
        return found + list(_ClickCommand.shell_complete(self, ctx, incomplete))  # the options, as click lists them

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The help's command listing; commands not yet built show their help from the table."""
        commands = self.commands
        if not isinstance(commands, LazyCommands):
            return super().format_commands(ctx, formatter)
        listed = [(name, commands.listing(name)) for name in self.list_commands(ctx)]
        rows = [(name, command) for name, command in listed if not command.hidden]
        if not rows:
            return None
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)  # as click does it
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])
        return None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        argv = kwargs.get("args")
        if argv is None:
            argv = args[0] if args else sys.argv[1:]
        argv = hoist_global_options(list(argv or []))
        if args:
            args = (argv, *args[1:])
        else:
            kwargs["args"] = argv
        # Read from argv, not the Application: a usage error comes before the root callback has run.
        globals_ = argv[: argv.index("--")] if "--" in argv else argv
        debug = "--debug" in globals_
        as_json = "--json" in globals_ or bool(getattr(kwargs.get("obj"), "json", False))
        try:
            result = super().main(*args, **kwargs)
        except VersionAsked:
            print_version(as_json=as_json)
            code = ExitCode.OK
        except _exc.NoArgsIsHelpError as exc:
            output.text(exc.ctx.get_help())
            code = ExitCode.OK
        except _exc.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            code = _fail(f"{exc.format_message()}{hint}", ExitCode.BAD_INPUT, as_json)
        except typer.Abort:
            code = _fail("interrupted", ExitCode.INTERRUPTED, as_json)
        except _exc.ClickException as exc:
            code = _fail(exc.format_message(), ExitCode.BAD_INPUT, as_json)
        except OpsctlError as exc:
            if debug:
                raise
            code = _fail(_redact(exc.message), exc.exit_code, as_json)
        except KeyboardInterrupt:
            code = _fail("interrupted", ExitCode.INTERRUPTED, as_json)
        except Exception as exc:
            if debug:
                raise
            message = (
                _redact(f"unexpected {type(exc).__name__}: {exc}")
                + " (a bug in opsctl; rerun with --debug for the traceback and report it)"
            )
            code = _fail(message, ExitCode.FAILED, as_json)
        else:
            code = ExitCode(result) if isinstance(result, int) else ExitCode.OK
        sys.exit(int(code))


_GLOBAL_FLAGS = ("--json", "--no-color", "--debug")
_GLOBAL_VALUES = ("--config", "-c")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options written after the command to the front.

    ``opsctl deploy staging --image X --yes --json`` is how people (and CI)
    write it; click only reads root options before the command name.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in _GLOBAL_FLAGS or arg.startswith("--config="):
            front.append(arg)
        elif arg in _GLOBAL_VALUES and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _redact(text: str) -> str:
    from opsctl.values.redact import Redactor

    return Redactor.from_env(()).text(text)


def _fail(message: str, code: ExitCode, as_json: bool) -> ExitCode:
    output.error(message, code, as_json=as_json)
    return code


app = typer.Typer(
    cls=OpsctlGroup,
    name="opsctl",
    help="Gated deploys, verification, rollback and an audit trail for the Hotel Voice Bot.\n\n"
    "\b\nExamples:\n  opsctl checklist run pre-deploy --env staging\n  opsctl deploy staging --image hvb:1.8.0\n"
    "  opsctl rollback production\n  opsctl audit verify",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help keeps `opsctl --help` as fast as importing typer
    pretty_exceptions_show_locals=False,  # locals can hold tokens
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


@app.callback()
def root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", "-c", help="Path to opsctl.yaml (default: OPSCTL_CONFIG, else search upwards)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable output (JSON)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours (also when NO_COLOR is set)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    _version: bool = typer.Option(
        False, "--version", "-V", callback=_version_option, is_eager=True, help="Print the opsctl version and exit."
    ),
) -> None:
    """Global options apply to every command."""
    application = ctx.obj if isinstance(ctx.obj, Application) else Application()
    application.config_path = config if config is not None else application.config_path  # `--config ""` is an error
    application.json = json_output or application.json
    application.no_color = no_color or application.no_color
    application.debug = debug or application.debug
    ctx.obj = application


@app.command()
def version(ctx: typer.Context) -> None:
    """Print the opsctl version (also: opsctl --version).

    \b
    Examples:
      opsctl version
      opsctl --version
      opsctl --json version
    """
    print_version(as_json=app_of(ctx).json)


def print_version(*, as_json: bool) -> None:
    """``opsctl N`` for people; with ``--json`` the version and Python as one document."""
    if as_json:
        output.json_document({"version": __version__, "python": sys.version.split()[0]})
    else:
        output.text(f"opsctl {__version__}")


def run() -> None:
    """Console-script entry point (and ``python -m opsctl``): ends the process, skipping the interpreter's teardown."""
    from opsctl.process.entry import run_cli

    run_cli(app)
