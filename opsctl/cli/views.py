"""Views of a running checklist or runbook: live (Rich), plain lines, or JSON events.

Each view is an Observer (see opsctl.engine.context): the core sends events,
the view draws them. The core's events are already redacted.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from opsctl.cli import output
from opsctl.cli.output import Output
from opsctl.values.durations import format_duration

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from opsctl.cli.application import Application

ICONS = {
    "passed": "✓",
    "failed": "✗",
    "warned": "!",
    "skipped": "↷",
    "waived": "⚑",
    "not_applicable": "·",
    "started": "…",
}
WORDS = {
    "passed": "PASS",
    "failed": "FAIL",
    "warned": "WARN",
    "skipped": "SKIP",
    "waived": "WAIVED",
    "not_applicable": "N/A",
}
STYLES = {
    "passed": "green",
    "failed": "bold red",
    "warned": "yellow",
    "skipped": "dim",
    "waived": "bold yellow",
    "not_applicable": "dim",
    "started": "cyan",
}


def make_view(application: Application) -> JsonView | PlainView | LiveView:
    if application.json:
        return JsonView()
    if application.is_tty:
        return LiveView(application.console)
    return PlainView()


class JsonView:
    """JSON Lines on stdout, one object per event: ``{"event": "item.finished", ...}``.

    The command prints the summary object after the last event (README "JSON output").
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # items run concurrently: one whole line at a time

    def event(self, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            output.json_line({"event": kind, **data})


class PlainView:
    """Greppable lines for logs and pipes: ``PASS  git-clean  working tree is clean (12ms)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _emit(self, line: str) -> None:
        with self._lock:
            output.text(line)

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "checklist.started":
            self._emit(f"== {data['title']} ({data['checklist']})")
        elif kind == "item.finished":
            word = WORDS.get(data["status"], data["status"].upper())
            if data["status"] == "not_applicable":  # it never ran: no time, blocking or not
                self._emit(f"{word}  {data['id']}  {data['summary']}")
                return
            blocking = "" if data.get("blocking", True) else " [non-blocking]"
            self._emit(f"{word}  {data['id']}  {data['summary']} ({data['duration_ms']}ms){blocking}")
        elif kind == "item.retry":
            self._emit(f"RETRY {data['id']}  attempt {data['attempt']} failed: {data['summary']}")
        elif kind == "step.started":
            self._emit(f"-> {data['title']}")
        elif kind == "step.finished":
            self._emit(f"{WORDS.get(data['status'], data['status'].upper())}  step {data['id']}  {data['summary']}")
        elif kind in ("platform.event", "message"):
            self._emit(f"   {data['message']}")


class LiveView:
    """A live table: a spinner per running item, then its icon, duration and summary."""

    def __init__(self, console: Console) -> None:
        self.out = Output.over(console)
        self._lock = threading.RLock()
        self._rows: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        self._live: Live | None = None
        self._started: dict[str, float] = {}

    def event(self, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            if kind == "checklist.started":
                self._rows, self._order, self._started = {}, [], {}
                self.out.show(f"[bold]{data['title']}[/] [dim]({data['checklist']})[/]")
                for item in data["items"]:
                    self._order.append(item["id"])
                    self._rows[item["id"]] = {"id": item["id"], "title": item["title"], "status": "waiting"}
            elif kind == "item.started":
                self._started[data["id"]] = time.monotonic()
                self._rows[data["id"]] = {**self._rows.get(data["id"], {}), "status": "started"}
                if data.get("uses") != "manual":
                    self._ensure_live()
            elif kind == "item.finished":
                self._rows[data["id"]] = {**self._rows.get(data["id"], {}), **data}
                if self._live is None:
                    # Printed on its own (a manual item, before the live table): not again in the table.
                    self.out.show(self._line(self._rows[data["id"]]))
                    self._order.remove(data["id"])
            elif kind == "checklist.finished":
                self._stop_live()
            elif kind in ("platform.event", "message"):
                self.out.show(f"   [dim]{_escape(data['message'])}[/]")
            elif kind == "step.started":
                self._stop_live()
                self.out.show(f"[bold cyan]→ {_escape(data['title'])}[/]")
            elif kind == "step.finished":
                self._stop_live()
                style = STYLES.get(data["status"], "")
                icon = ICONS.get(data["status"], "•")
                self.out.show(f"[{style}]{icon}[/] {_escape(data['summary'])}")
            if self._live is not None:
                self._live.update(self._render())

    def _ensure_live(self) -> None:
        if self._live is None:
            from rich.live import Live

            self._live = Live(self._render(), console=self.out.console, refresh_per_second=8, transient=False)
            self._live.start()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()
            self._live = None

    def _line(self, row: dict[str, Any]) -> str:
        status = row.get("status", "waiting")
        icon = ICONS.get(status, " ")
        style = STYLES.get(status, "dim")
        ran = "duration_ms" in row and status != "not_applicable"
        took = f" [dim]{format_duration(row['duration_ms'] / 1000)}[/]" if ran else ""
        summary = f"  {_escape(row['summary'])}" if row.get("summary") else ""
        soft = " [dim](non-blocking)[/]" if status == "failed" and row.get("blocking") is False else ""
        return f" [{style}]{icon}[/] {_escape(row.get('title', row['id']))}{took}{soft}{summary}"

    def _render(self) -> RenderableType:
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column()
        for item_id in self._order:
            row = self._rows[item_id]
            if row.get("status") == "started":
                spent = time.monotonic() - self._started.get(item_id, time.monotonic())
                table.add_row(Spinner("dots", style="cyan"), f"{_escape(row['title'])} [dim]{spent:.0f}s[/]")
            elif row.get("status") == "waiting":
                table.add_row(" ", f"[dim]{_escape(row['title'])}[/]")
            else:
                table.add_row("", self._line(row)[1:])
        return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))
