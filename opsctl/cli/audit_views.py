"""``opsctl audit show`` for people: one table of events, or, for ``--run``, the run's events under one heading.

Every event of a run repeats its run id, runbook, environment, actor and AWS
identity; shown on each row they take most of an 80-column terminal and say
nothing new. Grouped, those are said once in the run's heading, and a field
that does change within the run (an actor who broke a lock, a run resumed
by someone else) stays a column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opsctl.cli.tables import Column, fit_table

if TYPE_CHECKING:
    from rich.console import RenderableType

# Flat: the least useful columns give way first (the ARN, then the actor, then the environment).
FLAT = (
    Column("time", wrap=True, min_width=10),
    Column("run"),
    Column("env", drop=1),
    Column("actor", drop=2),
    Column("aws identity", wrap=True, min_width=20, drop=3),
    Column("step", wrap=True, min_width=10),
    Column("status"),
    Column("summary", wrap=True, min_width=12, squeeze=1),
)
# The fields a run's heading names once (event key, label), in the heading's order.
SHARED = (("runbook", "runbook"), ("env", "env"), ("actor", "actor"), ("caller_arn", "aws identity"))


def events_view(events: Sequence[dict[str, Any]], width: int, *, by_run: bool) -> RenderableType:
    """The events (oldest first) as a table at most ``width`` wide; ``by_run``: grouped under each run's heading."""
    if not by_run:
        return _flat(events, width)
    from rich.console import Group

    groups: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault(str(event.get("run")), []).append(event)
    parts: list[RenderableType] = []
    for run, group in groups.items():
        parts.extend(_run_group(run, group, width))
    return Group(*parts)


def _flat(events: Sequence[dict[str, Any]], width: int) -> RenderableType:
    # The AWS caller ARN sits beside the actor: the actor is what someone says, the ARN what AWS says.
    arns = any(e.get("caller_arn") for e in events)
    columns = [c for c in FLAT if arns or c.header != "aws identity"]
    rows = [
        [
            _time(e),
            _text(e.get("run")),
            _text(e.get("env")),
            _text(e.get("actor")),
            *([_text(e.get("caller_arn") or "-")] if arns else []),
            _text(e.get("step")),
            _text(e.get("status")),
            _text(e.get("summary", "")),
        ]
        for e in events
    ]
    return fit_table(columns, rows, width)


def _run_group(run: str, events: list[dict[str, Any]], width: int) -> list[RenderableType]:
    from rich.markup import escape

    shared = [(key, label) for key, label in SHARED if len({str(e.get(key) or "") for e in events}) == 1]
    varying = [(key, label) for key, label in SHARED if (key, label) not in shared and key != "runbook"]
    days = {str(e.get("ts", ""))[:10] for e in events}
    one_day = len(days) == 1
    said = {key: escape(str(events[0].get(key))) for key, _ in shared if events[0].get(key)}
    # Line one: what ran where and when; line two: who (the person's word, and AWS's).
    first = [f"[bold]run {escape(run)}[/]", *(said[key] for key in ("runbook", "env") if key in said)]
    if one_day and next(iter(days)):
        first.append(f"on {next(iter(days))} (UTC)")
    who = [f"{label} {said[key]}" for key, label in SHARED if key in ("actor", "caller_arn") and key in said]
    # An ARN is long: the actor and the AWS identity take a line each, so neither wraps at 80 columns.
    columns = [
        Column("time" if one_day else "time (UTC)", wrap=not one_day, min_width=10),
        *(Column(label, wrap=True, min_width=12, drop=1 + i) for i, (_, label) in enumerate(varying)),
        Column("step", wrap=True, min_width=12),
        Column("status"),
        Column("summary", wrap=True, min_width=16, squeeze=1),
    ]
    rows = [
        [
            str(e.get("ts", ""))[11:19] if one_day else _time(e),
            *(_text(e.get(key) or "-") for key, _ in varying),
            _text(e.get("step")),
            _text(e.get("status")),
            _text(e.get("summary", "")),
        ]
        for e in events
    ]
    heading = "\n".join([" · ".join(first), *who])
    return [heading, fit_table(columns, rows, width)]


def _time(event: dict[str, Any]) -> str:
    return str(event.get("ts", ""))[:19].replace("T", " ")


def _text(value: Any) -> str:
    """A cell as literal text: an actor like ``dependabot[bot]`` or a summary is not Rich markup."""
    from rich.markup import escape

    return escape(str(value))
