"""``opsctl --json demo``: the tour on stderr, one summary object on stdout (the tour itself: tests/sandbox)."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from opsctl.cli import demo_cmd
from opsctl.cli.application import Application
from opsctl.cli.output import Output
from opsctl.sandbox.demo import DemoStep, Verdict

STEP = DemoStep("status", "Status", ("status", "staging"), "exit 0")


def _json_output() -> tuple[Output, io.StringIO]:
    application = Application(json=True, no_color=True)
    tour = io.StringIO()
    application._err_console = Console(file=tour, color_system=None, width=200)
    return Output(application, json=True, human_to_stderr=True), tour


@pytest.mark.parametrize(
    ("ok", "interrupted", "exit_code", "said"),
    [
        (True, False, 0, "✓ demo passed in 1.2s"),
        (False, False, 1, "✗ demo FAILED in 1.2s: 1 step(s) gave an unexpected verdict: status"),
        (True, True, 130, "demo interrupted after 1.2s"),
    ],
    ids=["passed", "failed", "interrupted"],
)
def test_the_json_summary_is_the_only_line_on_stdout(
    capsys: pytest.CaptureFixture[str], ok: bool, interrupted: bool, exit_code: int, said: str
) -> None:
    out, tour = _json_output()
    demo_cmd._summary(out, [Verdict(STEP, ok, "exit 0", 0.5)], 1.23, interrupted=interrupted)
    stdout = capsys.readouterr().out
    assert stdout.count("\n") == 1
    assert json.loads(stdout) == {
        "event": "demo.finished",
        "ok": ok and not interrupted,
        "exit_code": exit_code,
        "interrupted": interrupted,
        "seconds": 1.2,
        "steps": [
            {
                "step": "status",
                "title": "Status",
                "command": "opsctl status staging",
                "expected": "exit 0",
                "got": "exit 0",
                "ok": ok,
                "seconds": 0.5,
            }
        ],
    }
    assert said in tour.getvalue()
