"""What the live, plain and JSON views draw for a checklist's events."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from opsctl.cli.views import JsonView, LiveView, PlainView


def _events() -> list[tuple[str, dict[str, Any]]]:
    items = [{"id": "review", "title": "Code reviewed"}, {"id": "web", "title": "Web up"}]
    done = {"duration_ms": 3, "attempts": 1, "detail": {}}
    return [
        ("checklist.started", {"checklist": "smoke", "title": "Smoke", "items": items}),
        ("item.started", {"id": "review", "title": "Code reviewed", "uses": "manual"}),
        (
            "item.finished",
            {
                "id": "review",
                "title": "Code reviewed",
                "uses": "manual",
                "status": "passed",
                "summary": "confirmed by me",
                "blocking": True,
                **done,
            },
        ),
        ("item.started", {"id": "web", "title": "Web up", "uses": "http.get"}),
        (
            "item.finished",
            {
                "id": "web",
                "title": "Web up",
                "uses": "http.get",
                "status": "failed",
                "summary": "connection refused",
                "blocking": False,
                **done,
            },
        ),
        ("checklist.finished", {"checklist": "smoke", "status": "warned"}),
    ]


def test_live_view_draws_a_manual_item_once_and_marks_non_blocking_failures() -> None:
    console = Console(record=True, width=100, force_terminal=True, color_system=None)
    view = LiveView(console)
    for kind, data in _events():
        view.event(kind, data)
    text = console.export_text()
    assert text.count("Code reviewed") == 1
    assert "Web up" in text
    assert "(non-blocking)" in text
    assert "connection refused" in text


def test_plain_view_prints_one_greppable_line_per_item(capsys: pytest.CaptureFixture[str]) -> None:
    view = PlainView()
    for kind, data in _events():
        view.event(kind, data)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "== Smoke (smoke)",
        "PASS  review  confirmed by me (3ms)",
        "FAIL  web  connection refused (3ms) [non-blocking]",
    ]


def test_json_view_prints_one_event_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    view = JsonView()
    for kind, data in _events():
        view.event(kind, data)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == [kind for kind, _ in _events()]
    assert events[4]["blocking"] is False


def _gate_events() -> list[tuple[str, dict[str, Any]]]:
    """A gate with a waived item and an item that does not apply (its `when` is false)."""
    items = [{"id": "scan", "title": "Security scan"}, {"id": "tests", "title": "CI green"}]
    base = {"attempts": 1, "detail": {}, "blocking": True}
    waived = "waived by dev@example.com, approved by lead@example.com: scanner down"
    return [
        ("checklist.started", {"checklist": "pre", "title": "Pre", "items": items}),
        ("item.started", {"id": "scan", "title": "Security scan", "uses": "manual"}),
        (
            "item.finished",
            {"id": "scan", "title": "Security scan", "uses": "manual", "status": "waived", "summary": waived}
            | base
            | {"duration_ms": 2},
        ),
        ("item.started", {"id": "tests", "title": "CI green", "uses": "github.checks"}),
        (
            "item.finished",
            {
                "id": "tests",
                "title": "CI green",
                "uses": "github.checks",
                "status": "not_applicable",
                "summary": "does not apply (when: github is not none)",
            }
            | base
            | {"duration_ms": 0},
        ),
        ("checklist.finished", {"checklist": "pre", "status": "warned"}),
    ]


def test_plain_view_words_for_waived_and_not_applicable(capsys: pytest.CaptureFixture[str]) -> None:
    view = PlainView()
    for kind, data in _gate_events():
        view.event(kind, data)

    assert capsys.readouterr().out.splitlines() == [
        "== Pre (pre)",
        "WAIVED  scan  waived by dev@example.com, approved by lead@example.com: scanner down (2ms)",
        "N/A  tests  does not apply (when: github is not none)",  # it never ran: no time shown
    ]


def test_live_view_marks_waived_and_not_applicable_items() -> None:
    console = Console(record=True, width=120, force_terminal=True, color_system=None)
    view = LiveView(console)
    for kind, data in _gate_events():
        view.event(kind, data)
    lines = console.export_text().splitlines()

    assert " ⚑ Security scan 2ms  waived by dev@example.com, approved by lead@example.com: scanner down" in lines
    assert any(line.strip() == "· CI green  does not apply (when: github is not none)" for line in lines)
