"""The root's commands, imported only when one is run or asked for (STYLE 8: `opsctl --help` stays fast).

Each ``opsctl/cli/*_cmd.py`` pulls in its own dependencies; importing all of
them, and having Typer build every click command, made ``opsctl --help``
1.6x as slow as ``import typer``. The table below names each root command,
the module that defines it and its one-line help, so the root listing needs
none of them; the command itself is built by Typer's own machinery the first
time someone looks it up.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand

# click's Command, from the click that typer runs on (typer vendors it in recent releases).
Command = Any


@dataclass(frozen=True)
class LazyCommand:
    """A root command that is not imported until it is needed.

    ``group``: the module has a sub-Typer ``app``, added as the group ``name``;
    otherwise the module's ``register(app)`` adds ``name`` (and maybe others).
    ``help``: the first paragraph of the command's help, what the root listing
    shows (shortened to the terminal width exactly as click shortens it).
    """

    name: str
    module: str
    group: bool
    help: str


def _commands(module: str, *names_and_help: tuple[str, str]) -> tuple[LazyCommand, ...]:
    return tuple(LazyCommand(name, f"opsctl.cli.{module}", False, help_) for name, help_ in names_and_help)


def _group(name: str, module: str, help_: str) -> tuple[LazyCommand, ...]:
    return (LazyCommand(name, f"opsctl.cli.{module}", True, help_),)


# In the order `opsctl --help` lists them: commands first, then groups (as Typer orders them).
# tests/cli/test_lazy_commands.py checks each help against the loaded command's own.
COMMANDS: tuple[LazyCommand, ...] = (
    *_commands(
        "deploy_cmd",
        ("deploy", "Deploy an image: gates, rollout, verification; automatic rollback on failure."),
        ("rollback", "Roll back to the last verified release (or --to), then verify it."),
        ("hotpatch", "Emergency change for an open incident: short gates, rollout, verification, automatic rollback."),
        ("resume", "Continue an interrupted run from its first unfinished step (re-reads the platform first)."),
    ),
    *_commands(
        "demo_cmd",
        ("demo", "Show the whole product in a local sandbox: no cloud account, no network, under 30 seconds."),
    ),
    *_commands(
        "status_cmd",
        ("status", "Current release, lock holder, platform warnings and the last runs of an environment."),
        ("releases", "Release history of an environment, each marked verified / failed / rolled back."),
        ("runs", "Recent runs (deploys, rollbacks, hot-patches, checklists) from the audit log."),
    ),
    *_commands(
        "verify_cmd",
        ("verify", "Check an image and an environment before a deploy: reads only, changes nothing."),
    ),
    *_commands(
        "health_cmd",
        ("health", "Probe an environment now: liveness, served version, dependencies, synthetic request, SLOs."),
    ),
    *_commands(
        "logs_cmd",
        ("logs", "Show the service's logs from CloudWatch Logs (ECS: the awslogs group of the task definition)."),
    ),
    *_commands(
        "changes_cmd",
        ("changes", "Commits between the release running in ENV and HEAD (or --image), newest first."),
    ),
    *_commands(
        "slo_cmd",
        ("slo", "Error budget: availability over the SLO period, budget spent and remaining, burn rates, a chart."),
    ),
    *_commands(
        "oncall_cmd",
        ("oncall", "Who is on call: primary, secondary and escalation, and the next handoff."),
    ),
    *_commands(
        "announce_cmd",
        ("announce", "Announce a deployment window: mail and post the notice now, and record it in the audit log."),
    ),
    *_commands(
        "report_cmd",
        ("report", "Deployment KPIs from the audit log: frequency, success rate, change failure rate, MTTR, MTBF."),
    ),
    *_commands(
        "review_cmd",
        ("review", "A regular review from the audit log: weekly metrics, monthly incidents, quarterly trends."),
    ),
    *_commands(
        "maturity_cmd",
        ("maturity", "Score the team against the operational maturity levels 1-3 from the evidence opsctl can see."),
    ),
    *_commands(
        "docs_cmd",
        ("docs", "Generate runbooks/*.md and checklists/README.md from the YAML, so the docs cannot drift."),
    ),
    *_commands(
        "init_cmd",
        ("init", "Write a commented opsctl.yaml by discovering what already runs; never overwrites without --force."),
    ),
    *_group("checklist", "checklist_cmd", "List, show and run YAML checklists (gates)."),
    *_group("audit", "audit_cmd", "Read and verify the tamper-evident audit log."),
    *_group("lock", "lock_cmd", "See or break an environment's deploy lock."),
    *_group("platform", "platform_cmd", "Kubernetes: a Deployment's rollout state, and the RBAC Role opsctl needs."),
    *_group("config", "config_cmd", "Check opsctl.yaml and print its JSON Schema."),
    *_group("onboard", "onboard_cmd", "Walk through your next open onboarding items; progress is kept per person."),
    *_group("incident", "incident_cmd", "Incident response: open, ack, note, escalate, resolve, timeline, postmortem."),
)


def build(entry: LazyCommand) -> dict[str, Command]:
    """Import ``entry``'s module and build its click command(s), exactly as registering them on the root would.

    They are registered into a throwaway Typer with the root's help settings
    and built by Typer itself, so options, help text and completion are the
    same as when the root imported every module up front.
    """
    module = importlib.import_module(entry.module)
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_show_locals=False, add_completion=False)
    if entry.group:
        holder.add_typer(module.app, name=entry.name)
    else:
        module.register(holder)
    return dict(typer.main.get_group(holder).commands)


class LazyCommands(MutableMapping[str, Command]):
    """A group's ``commands`` mapping that builds a lazy command on first lookup.

    Names, order and membership (``in``, typo suggestions) need no import;
    ``commands[name]`` (and so ``get_command``) imports and builds it.
    """

    def __init__(self, eager: MutableMapping[str, Command], lazy: Iterable[LazyCommand]) -> None:
        self._loaded: dict[str, Command] = dict(eager)
        self._lazy = {entry.name: entry for entry in lazy if entry.name not in self._loaded}
        self._order = [*self._loaded, *self._lazy]

    def is_loaded(self, name: str) -> bool:
        """Whether ``name`` is already a click command (looking it up costs nothing)."""
        return name in self._loaded

    def listing(self, name: str) -> Command:
        """What the root listing needs of ``name``: the command if loaded, else a stand-in with its help."""
        if name in self._loaded:
            return self._loaded[name]
        return TyperCommand(name=name, help=self._lazy[name].help)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            entry = self._lazy[name]  # KeyError for an unknown name, as a dict would
            for built_name, command in build(entry).items():
                self._loaded.setdefault(built_name, command)
                self._lazy.pop(built_name, None)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        if name not in self._loaded and name not in self._lazy:
            self._order.append(name)
        self._lazy.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._loaded and name not in self._lazy:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)
        self._order.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)
