"""`opsctl review`: Markdown by default, HTML with --out, recorded as held when published, sent to Slack."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from opsctl.workspace import Workspace
from tests.reports.cli import events, run
from tests.reports.conftest import HOSTILE
from tests.reports.history import NOW, Generated
from tests.support.context import base_config, write_config

POSTMORTEM = """# Post-mortem: INC-6

## Action items

| Action | Owner | Due | Ticket |
|---|---|---|---|
| _Prevent it:_ validate the config before the rollout | alice | 2026-11-01 | OPS-1 |
| _Detect it sooner:_ | | | |
"""


def write_postmortem(config: Path, incident: str) -> None:
    folder = config.parent / "postmortems"
    folder.mkdir(exist_ok=True)
    (folder / f"{incident}.md").write_text(POSTMORTEM)
    ws = Workspace.load(str(config), actor="oncall@example.com", clock=lambda: NOW)
    journal = ws.journal("r-postmortem", "incident", "production", incident=incident)
    journal.event("incident", "postmortem", path=f"postmortems/{incident}.md", sha256="0" * 64, summary="written")


def test_a_weekly_preview_prints_markdown_and_records_nothing(project: Path, history: Generated) -> None:
    done = run(project, "review", "weekly")
    assert done.code == 0, done.err
    assert done.out.startswith("# Weekly operational review: hotel-voice-bot, 2026-W47\n")
    assert "2026-11-16 00:00 UTC to 2026-11-23 00:00 UTC" in done.out
    assert "| env | deploys | per day | success | CFR | MTTR | MTBF | previous period |" in done.out
    assert done.err == "preview only: not recorded as held (pass --out FILE or --send)\n"
    assert events(project, "review") == []
    assert re.search(r"(?<!\\)[<>]", done.out) is None  # every < and > from the log is escaped: \<script\>
    assert '\\<script\\>alert("pwned")\\</script\\>' in done.out


def test_a_monthly_retrospective_lists_every_incident_with_its_postmortem(project: Path, history: Generated) -> None:
    write_postmortem(project, "INC-6")
    done = run(project, "review", "monthly", "--period", "2026-10")
    assert done.code == 0, done.err
    october = [i for i, _ in history.incidents if i in ("INC-6", "INC-7", "INC-8", "INC-9", "INC-10")]
    for incident in october:
        assert f"### {incident} (" in done.out
    assert "Post-mortem: written (postmortems/INC-6.md)." in done.out
    assert "| validate the config before the rollout | alice | 2026-11-01 | OPS-1 |" in done.out
    assert "Post-mortem: overdue (due 2026-11-06)." in done.out  # INC-10, P1 resolved 10-30, none written
    assert "Post-mortem: not required." in done.out  # P2 / P3
    assert "- INC-10 needs its post-mortem (overdue (due 2026-11-06))" in done.out


def test_out_html_writes_a_page_and_records_the_review_as_held(
    project: Path, history: Generated, tmp_path: Path
) -> None:
    out = tmp_path / "reviews" / "2026-10.html"
    done = run(project, "review", "monthly", "--period", "2026-10", "--out", str(out))
    assert done.code == 0, done.err
    [held] = events(project, "review")
    assert done.out == f"wrote {out}\nrecorded as held: run {held['run']}\n"
    assert (held["status"], held["kind"], held["period"], held["out"], held["sent"]) == (
        "held",
        "monthly",
        "2026-10",
        str(out),
        [],
    )
    assert (held["start"], held["end"]) == ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert HOSTILE not in page
    assert "<h3>INC-6 (P1): guests cannot book&lt;script&gt;" in page


def test_json_is_one_document(project: Path, history: Generated) -> None:
    done = run(project, "--json", "review", "quarterly", "--period", "2026-Q4")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert (data["kind"], data["period"]["label"], data["in_progress"], data["recorded"]) == (
        "quarterly",
        "2026-Q4",
        True,
        None,
    )
    assert [t["name"] for t in data["trends"]] == [
        "deploys",
        "deploys per day",
        "deployment success rate",
        "change failure rate",
        "MTTR",
        "MTBF",
        "lead time (median, production)",
        "incidents opened",
        "incidents acknowledged on time",
        "P0/P1 post-mortems written",
        "gates waived",
        "reviews held",
    ]
    deploys = data["trends"][0]
    assert deploys["current"] == data["figures"]["total"]["deploys"]
    assert deploys["previous"] == data["previous"]["figures"]["total"]["deploys"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "yearly"), "unknown review 'yearly' (use weekly, monthly or quarterly)"),
        (("review", "weekly", "--out", "r.pdf"), "--out r.pdf: name a .md (Markdown) or .html file"),
        (
            ("review", "weekly", "--period", "2026-11"),
            "--period '2026-11' is not a weekly period (write it like 2026-W47)",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(project: Path, args: tuple[str, ...], message: str) -> None:
    done = run(project, *args)
    assert (done.code, done.err) == (2, f"error: {message}\n")


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "json": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack_hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/services/T000/B000/reviewhooksecret", received
    server.shutdown()
    server.server_close()


def test_send_posts_to_slack_and_records_where_it_went(
    tmp_path: Path, history: Generated, slack_hook: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = slack_hook
    config = write_config(tmp_path, {**base_config(), "notify": {"slack": {"webhook_env": "SLACK_WEBHOOK_URL"}}})
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
    done = run(config, "review", "weekly", "--send")
    assert done.code == 0, done.err
    [message] = received
    assert message["path"] == "/services/T000/B000/reviewhooksecret"
    assert message["json"]["text"].startswith("📊 Operational review:")
    sections = json.dumps(message["json"]["attachments"])
    assert "Weekly operational review: hotel-voice-bot, 2026-W47" in sections
    assert "deploys, success" in sections
    [held] = events(config, "review")
    assert held["sent"] == ["slack"]
    assert held["summary"] == "weekly review 2026-W47 held, sent to slack"
    assert "reviewhooksecret" not in (config.parent / ".opsctl" / "audit.jsonl").read_text()
    assert "reviewhooksecret" not in done.out + done.err
    assert done.err.endswith(f"recorded as held: run {held['run']}\n")


def test_send_without_a_channel_says_so_and_still_records(project: Path, history: Generated) -> None:
    done = run(project, "review", "weekly", "--send")
    assert done.code == 0
    assert "--send: no Slack or email configured under notify: in opsctl.yaml; nothing sent\n" in done.err
    assert len(events(project, "review")) == 1
