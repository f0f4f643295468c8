"""The whole story for real: a bad deploy, an incident, `opsctl rollback --incident`, resolve, post-mortem, report.

ECS is moto in server mode and the bot is the sandbox bot on 127.0.0.1
(DESIGN section 7); the CLI runs in-process with a clock the test moves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import CONFIRMS, TagBot
from tests.e2e.harness import write_config as write_e2e_config
from tests.incidents.support import BOB, Project
from tests.support import moto_server as aws_support
from tests.support.moto_server import EcsService

moto_server = aws_support.moto_server
aws = aws_support.aws
ecs_service = aws_support.ecs_service


def test_incident_rolled_back_resolved_and_reported(
    tmp_path: Path, ecs_service: EcsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with TagBot(ecs_service) as bot:
        write_e2e_config(tmp_path, ecs_service, bot.url)
        project = Project(tmp_path)
        project.clock.at(-30)
        project.ok("deploy", "staging", "--image", "hvb:1.8.0", *CONFIRMS, "--timeout", "20s")
        project.clock.at(-10)
        bad = project.run(
            "deploy", "staging", "--image", "hvb:1.9.0-bad", "--no-rollback", *CONFIRMS, "--timeout", "20s"
        )
        assert bad.code == 1, bad.out + bad.err

        project.clock.at(0)
        project.ok("incident", "open", "-s", "P1", "-t", "Bookings fail since 1.9.0", "--env", "staging")
        project.clock.at(3)
        project.ok("incident", "ack", "INC-1", actor=BOB)
        project.clock.at(5)
        project.ok("rollback", "staging", "--incident", "INC-1", "--timeout", "20s", actor=BOB)
        project.clock.at(25)
        project.ok("incident", "resolve", "INC-1", "--cause", "1.9.0 broke the OpenAI client", actor=BOB)

    shown = project.ok("--json", "incident", "show", "INC-1").json()
    (rollback_run,) = shown["runs"]
    assert [(e["at"][11:16], e["actor"], e["what"]) for e in shown["timeline"]] == [
        ("10:00", "alice@example.com", "opened as P1 in staging: Bookings fail since 1.9.0"),
        ("10:03", BOB, "acknowledged"),
        ("10:05", BOB, "rollback started in staging: to the last verified release"),
        ("10:05", BOB, "rollback succeeded: hvb:2 (hvb:1.8.0) verified"),
        ("10:25", BOB, "resolved: 1.9.0 broke the OpenAI client"),
    ]
    linked = [c for c in shown["changes"] if c["linked"]]
    assert [(c["run"], c["runbook"], c["image_before"], c["image_after"], c["verified"]) for c in linked] == [
        (rollback_run, "rollback", "hvb:1.9.0-bad", "hvb:1.8.0", True)
    ]
    assert [c["checks"][0] for c in linked] == [
        {"name": "rollback-verify", "status": "passed", "summary": "4 passed", "item": False}
    ]
    suspects = [(c["runbook"], c["image_after"], c["status"]) for c in shown["changes"] if not c["linked"]]
    assert suspects == [("deploy", "hvb:1.8.0", "succeeded"), ("deploy", "hvb:1.9.0-bad", "failed")]

    project.ok("incident", "postmortem", "INC-1")
    draft = (tmp_path / "postmortems" / "INC-1.md").read_text()
    assert f"### rollback {rollback_run} in staging: succeeded\n\n- Run for this incident, by {BOB}:" in draft
    assert "- Image: `hvb:1.9.0-bad` → `hvb:1.8.0`\n- Verified: yes\n- rollback-verify: passed — 4 passed\n" in draft
    assert "| Time to resolve | 25m00s | 8h00m | met |" in draft

    report = project.ok("--json", "report", "--since", "7d").json()
    assert report["incidents"] == {
        "opened": 1,
        "resolved": 1,
        "mttr_s": 1500.0,
        "by_severity": {"P0": 0, "P1": 1, "P2": 0, "P3": 0},
        "p0p1_without_postmortem": 0,
        "missing_postmortems": [],
        "breached": [],
    }
    assert report["total"]["mttr_s"] is not None  # the deploy-based figure stands beside it
    text = project.ok("report", "--since", "7d").out
    assert "incidents: 1 opened (P0 0 · P1 1 · P2 0 · P3 0), 1 resolved; MTTR (opened → resolved) 25m00s" in text
    assert project.ok("audit", "verify").code == 0
