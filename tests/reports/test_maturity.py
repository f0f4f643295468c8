"""`opsctl maturity`: levels from criteria, evidence from the log and config, --json and --html, demo project."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsctl.audit.log import Journal
from opsctl.reports.maturity import Assessment, Criterion
from tests.kpis.logbook import Logbook
from tests.reports.cli import run
from tests.reports.history import Generated

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def crit(key: str, level: int, status: str, *, observable: bool = True) -> Criterion:
    return Criterion(key, level, key, status, "e", "n", observable)  # type: ignore[arg-type]


def test_a_level_needs_every_criterion_of_it_and_below_met() -> None:
    base = [crit("a", 1, "met"), crit("b", 1, "met"), crit("c", 2, "met"), crit("d", 2, "no evidence")]
    assert Assessment("s", NOW, 90, tuple(base)).level == 1
    assert Assessment("s", NOW, 90, (crit("a", 1, "not met"), crit("c", 2, "met"))).level == 0
    top = [crit("a", 1, "met"), crit("c", 2, "met"), crit("e", 3, "met"), crit("t", 3, "no evidence", observable=False)]
    done = Assessment("s", NOW, 90, tuple(top))
    assert (done.level, done.level_name, done.next_level()) == (3, "Level 3: Advanced Operations", None)
    below = Assessment("s", NOW, 90, (crit("a", 1, "not met"),))
    assert below.level_name == "below Level 1"
    assert below.as_dict()["next_level"] == {"level": 1, "name": "Basic Operations", "missing": ["a"]}


def test_json_names_the_level_and_the_evidence(project: Path, history: Generated) -> None:
    done = run(project, "--json", "maturity")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert (data["level"], data["level_name"]) == (1, "Level 1: Basic Operations")
    by_key = {c["key"]: c for c in data["criteria"]}
    assert list(by_key) == [
        "deploys-recorded",
        "health-checks",
        "automated-deploys",
        "runbooks-docs",
        "slo-measured",
        "incident-process",
        "reviews-held",
        "auto-rollback",
        "self-healing",
        "predictive-alerting",
        "automated-response",
        "improvement",
        "tracing",
    ]
    assert by_key["deploys-recorded"] == by_key["deploys-recorded"] | {
        "status": "met",
        "evidence": "300 runs of deploy in the last 90d, every step in the audit log",
    }
    assert by_key["automated-deploys"]["status"] == "not met"
    assert (
        by_key["automated-deploys"]["evidence"]
        == "0 of 150 changes in production (production) ran from CI (0%) in the last 90d"
    )
    assert by_key["auto-rollback"]["status"] == "met"
    assert by_key["reviews-held"] == by_key["reviews-held"] | {
        "status": "no evidence",
        "evidence": "no review recorded",
    }
    assert by_key["tracing"] == by_key["tracing"] | {"status": "no evidence", "observable": False}
    assert by_key["incident-process"]["status"] == "not met"
    assert data["next_level"]["level"] == 2
    assert "automated-deploys" in data["next_level"]["missing"]


def ci_run(book: Logbook, run_id: str, start: str) -> None:
    """A production deploy whose ``started`` event names its pipeline, as runs/run.py writes it in CI."""
    book.run(run_id, "deploy", "production", start, None, "running", attempted=False)
    journal = Journal(book.log, run_id, "deploy", "production", book.actor, {"change_type": "normal"})
    # the same run id: its started event gets a twin carrying the pipeline (maturity reads any started event)
    journal.event(
        "run",
        "started",
        params={"image": "hvb:2.0.0"},
        digest="0" * 64,
        dry_run=False,
        ci={"provider": "github", "url": "https://github.example/o/r/actions/runs/1"},
    )
    book.clock.now = book.clock.now + timedelta(minutes=20)
    journal.event("run", "succeeded", release_after={"id": "x", "image": "hvb:2.0.0"}, verified=True)


def test_deploys_from_ci_and_reviews_held_count(project: Path) -> None:
    book = Logbook(project.parent / ".opsctl" / "audit.jsonl")
    for n in range(4):
        ci_run(book, f"ci{n}", f"11-2{n} 08:00")
    book.run("laptop", "deploy", "production", "11-24 08:00", "11-24 08:20", "succeeded")
    for week in ("2026-W46", "2026-W47"):
        assert run(project, "review", "weekly", "--period", week, "--out", str(project.parent / f"{week}.md")).code == 0
    done = run(project, "--json", "maturity", "--since", "30d")
    by_key = {c["key"]: c for c in json.loads(done.out)["criteria"]}
    assert by_key["automated-deploys"]["status"] == "met"
    assert by_key["automated-deploys"]["evidence"] == (
        "4 of 5 changes in production (production) ran from CI (80%) in the last 30d"
    )
    assert by_key["reviews-held"]["status"] == "not met"  # both recorded now: one week of the last four
    assert by_key["reviews-held"]["evidence"] == "reviews recorded in 1 of the last 4 weeks (2 in all)"
    assert by_key["reviews-held"]["next_step"] == "hold `opsctl review weekly` every week"


def test_html_page_is_written(project: Path, history: Generated, tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    done = run(project, "maturity", "--html", str(out))
    assert done.code == 0, done.err
    assert done.out.startswith("hotel-voice-bot: Level 1: Basic Operations\n")
    assert done.out.endswith(f"HTML assessment: {out}\n")
    page = out.read_text()
    assert "<p>Level reached: Level 1: Basic Operations.</p>" in page
    assert page.count('<td class="text met">met') >= 3
    assert "<script" not in page


def test_bad_since_is_one_line_exit_2(project: Path) -> None:
    done = run(project, "maturity", "--since", "soon")
    assert done.code == 2
    assert done.err.startswith("error: ")
    assert len(done.err.splitlines()) == 1
