"""``opsctl announce`` (runs/windows.py): bad input refused before anything is sent, the record, the policy.

The notice goes to a real SMTP server on 127.0.0.1 and a Slack webhook
receiver on 127.0.0.1; the CLI runs in-process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opsctl.cli.application import Application
from opsctl.errors import RunFailed
from opsctl.notify import deliver
from opsctl.runs.windows import require_window
from opsctl.workspace import Workspace
from tests.e2e.policy.support import Receiver
from tests.notify.support import Sleeps
from tests.support.clirunner import Result, one_error, opsctl
from tests.support.context import base_config, write_config
from tests.support.smtp_server import PASSWORD, USER, SmtpServer

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SLACK_PATH = "/services/T0001/B0001/s3cr3tS1ackPath"
CONTACTS = {"devops": {"email": "devops@example.com"}, "pm": {"email": "pm@example.com", "name": "Product"}}


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path, tls=True, login=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as made:
        yield made


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(sleep=Sleeps()))
    monkeypatch.setenv("COLUMNS", "200")  # whole lines, unwrapped


def project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp: SmtpServer | None,
    receiver: Receiver | None,
    **top: Any,
) -> Path:
    notify: dict[str, Any] = {}
    if smtp is not None:
        notify["email"] = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username_env": "HVB_SMTP_USER",
            "password_env": "HVB_SMTP_PASSWORD",
            "from": "opsctl@example.com",
            "to": ["devops", "pm"],
            "ca_file": str(smtp.ca_file),
        }
    if receiver is not None:
        notify["slack"] = {"webhook_env": "HVB_SLACK_HOOK"}
        monkeypatch.setenv("HVB_SLACK_HOOK", receiver.url + SLACK_PATH)
    monkeypatch.setenv("HVB_SMTP_USER", USER)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", PASSWORD)
    return write_config(tmp_path, base_config(contacts=CONTACTS, notify=notify, **top))


def announce(config: Path, *args: str, now: datetime = NOW) -> Result:
    application = Application(config_path=str(config), interactive=False, actor="lead@example.com", clock=lambda: now)
    return opsctl("announce", *args, application=application)


def audit_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / ".opsctl" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_announce_mails_posts_and_records_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer, receiver: Receiver
) -> None:
    config = project(tmp_path, monkeypatch, smtp, receiver)

    result = announce(
        config, "production", "--window", "2026-12-01T15:00/16:00", "--tz", "Europe/Berlin",
        "--image", "hvb:1.8.0", "--note", "booking flow v2",
    )  # fmt: skip

    assert result.code == 0, result.err
    window = "2026-12-01 14:00-15:00 UTC (2026-12-01 15:00-16:00 CET)"
    lines = result.out.splitlines()
    assert lines[0] == f"📣 deployment window for production announced: {window} (sent to email, slack)"
    assert lines[1:3] == [
        f"  ✓ Email window sent to devops, pm via 127.0.0.1:{smtp.port}",
        "  ✓ Slack accepted window (HTTP 202)",
    ]
    (mail,) = smtp.messages
    assert mail.recipients == ["devops@example.com", "pm@example.com"]
    assert mail.message["Subject"] == f"[hotel-voice-bot] Deployment window: production {window}"
    assert mail.message["Message-ID"] == ("<opsctl.hotel-voice-bot.window-production-2026-12-01t14-00-00z@example.com>")
    assert "Note:        booking flow v2" in mail.part("plain")
    (post,) = receiver.posts(SLACK_PATH)
    assert post["text"] == "📣 Deployment window: hotel-voice-bot production hvb:1.8.0"
    texts = [b["text"]["text"] for b in post["attachments"][0]["blocks"] if b["type"] == "section" and "text" in b]
    assert texts == [f"Deployment window {window}", "booking flow v2"]
    (record,) = [e for e in audit_lines(tmp_path) if e["step"] == "window"]
    assert {k: record[k] for k in ("runbook", "env", "actor", "status", "image", "note", "delivered")} == {
        "runbook": "announce",
        "env": "production",
        "actor": "lead@example.com",
        "status": "announced",
        "image": "hvb:1.8.0",
        "note": "booking flow v2",
        "delivered": ["email", "slack"],
    }
    assert (record["window_start"], record["window_end"]) == ("2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z")
    assert record["summary"] == "deployment window 2026-12-01 14:00-15:00 UTC for production announced on email, slack"
    notify = [e for e in audit_lines(tmp_path) if e["step"] == "notify"]
    assert [(e["channel"], e["delivery"]) for e in notify] == [("email", "sent"), ("slack", "sent")]
    everything = (tmp_path / ".opsctl" / "audit.jsonl").read_text() + result.out + result.err
    for secret in (PASSWORD, USER, "s3cr3tS1ackPath"):
        assert secret not in everything


def test_announcing_the_same_window_again_replies_in_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    config = project(tmp_path, monkeypatch, smtp, None)
    assert announce(config, "production", "--window", "2026-12-01T14:00/15:00").code == 0

    again = announce(config, "--json", "production", "--window", "2026-12-01T14:00/15:00", "--note", "moved to v2")

    assert again.code == 0, again.err
    data = json.loads(again.out)
    assert (data["updated"], data["delivered"], data["note"]) == (True, ["email"], "moved to v2")
    assert data["window"] == {
        "start": "2026-12-01T14:00:00Z",
        "end": "2026-12-01T15:00:00Z",
        "text": "2026-12-01 14:00-15:00 UTC",
        "local": None,
    }
    first, second = (m.message for m in smtp.messages)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["Subject"] == "Re: " + first["Subject"]
    assert smtp.messages[1].part("plain").splitlines()[0] == (
        "Updated deployment window for production: 2026-12-01 14:00-15:00 UTC."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("production", "--window", "2026-12-01T14:00"),
            "--window '2026-12-01T14:00': must be START/END like 2026-12-01T14:00/15:00 (or START/90m)",
        ),
        (
            ("production", "--window", "2026-11-29T14:00/15:00"),
            "--window '2026-11-29T14:00/15:00' is in the past: it ended 2026-11-29 14:00-15:00 UTC; "
            "announce a window to come",
        ),
        (
            ("production", "--window", "2026-11-30T08:00/10:00"),
            "--window '2026-11-30T08:00/10:00' starts in the past (2026-11-30 08:00-10:00 UTC); announce in "
            "advance, or write now/10:00Z for a window that begins now",
        ),
        (
            ("production", "--window", "2026-12-01T14:00/15:00", "--tz", "Berlin"),
            "--window '2026-12-01T14:00/15:00': unknown time zone 'Berlin' (use an IANA name like Europe/Berlin, "
            "or UTC)",
        ),
        (
            ("prod", "--window", "2026-12-01T14:00/15:00"),
            "unknown environment 'prod' (defined in opsctl.yaml: staging, production)",
        ),
        (
            ("production", "--window", "2026-12-01T14:00/15:00", "--image", "hvb"),
            "--image 'hvb' has no tag or digest; name the exact version, like hvb:1.8.0",
        ),
        (
            ("production", "--window", "2026-12-01T14:00/15:00", "--note", "x" * 501),
            "--note is 501 characters; keep it under 500 (link to a plan for more)",
        ),
    ],
    ids=["no-end", "past", "starts-past", "zone", "env", "image", "note"],
)
def test_bad_input_is_one_line_exit_2_and_nothing_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    config = project(tmp_path, monkeypatch, smtp, None)

    result = announce(config, *args)

    assert result.code == 2
    assert one_error(result) == f"error: {message}"
    assert smtp.messages == []
    assert audit_lines(tmp_path) == []


def test_without_a_channel_to_announce_on_it_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project(tmp_path, monkeypatch, None, None)
    result = announce(config, "production", "--window", "2026-12-01T14:00/15:00")
    assert result.code == 2
    assert one_error(result) == (
        "error: no channel to announce on: add notify: {email: {...}} or {slack: {webhook_env: ...}} to opsctl.yaml"
    )


def test_a_notice_nobody_accepted_is_recorded_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    config = project(tmp_path, monkeypatch, smtp, None)
    smtp.refuse.update({"devops@example.com": "550 no", "pm@example.com": "550 no"})

    result = announce(config, "production", "--window", "2026-12-01T14:00/15:00")

    assert result.code == 1
    record = next(e for e in audit_lines(tmp_path) if e["step"] == "window")
    assert one_error(result) == (
        f"error: the window for production is recorded (run {record['run']}) but no channel accepted the notice; "
        "tell the stakeholders by hand, or fix the channel and announce again"
    )
    assert (record["delivered"], record["summary"]) == (
        [],
        "deployment window 2026-12-01 14:00-15:00 UTC for production announced, but it reached nobody",
    )


def test_the_policy_holds_a_protected_normal_change_and_journals_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    config = project(tmp_path, monkeypatch, smtp, None)
    ws = Workspace.load(str(config), actor="dev@example.com", clock=lambda: datetime(2026, 12, 1, 14, 5, tzinfo=UTC))

    def ctx(env: str) -> Any:
        journal = ws.journal(ws.new_run_id(), "deploy", env, change_type="normal")
        return ws.context(journal, env, params={"image": "hvb:1.8.0"})

    with pytest.raises(RunFailed) as caught:
        require_window(ctx("production"))
    assert str(caught.value) == (
        "no announced deployment window for production covers 2026-12-01 14:05 UTC; a normal change to protected "
        "production needs one: announce it first: opsctl announce production --window START/END"
    )
    require_window(ctx("staging"))  # not protected: the policy says nothing

    assert announce(config, "production", "--window", "2026-12-01T14:00/15:00", "--image", "hvb:1.8.0").code == 0
    passing = ctx("production")
    require_window(passing)
    (event,) = [e for e in audit_lines(tmp_path) if e["step"] == "policy.window"]
    assert event["run"] == passing.run_id
    assert event["summary"].startswith("window 2026-12-01 14:00-15:00 UTC for hvb:1.8.0 announced by lead@example.com")
