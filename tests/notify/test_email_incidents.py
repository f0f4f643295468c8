"""An incident's life by email: ``opsctl incident`` open, ack, note, resolve reach the contacts as one thread.

The CLI runs in-process against a real SMTP server on 127.0.0.1 (STARTTLS,
login); the resolve mail names the post-mortem date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsctl.cli.application import Application
from opsctl.notify import deliver
from tests.notify.support import Sleeps
from tests.support.clirunner import Result, opsctl
from tests.support.context import base_config, write_config
from tests.support.smtp_server import PASSWORD, USER, SmtpServer

OPENED = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday: five business days on is Friday 2026-12-04
CONTACTS = {"devops": {"email": "devops@example.com"}, "eng_manager": {"email": "em@example.com"}}


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path, tls=True, login=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(deliver, "DEFAULT_POLICY", deliver.RetryPolicy(sleep=Sleeps()))
    monkeypatch.setenv("HVB_SMTP_USER", USER)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", PASSWORD)
    email = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "username_env": "HVB_SMTP_USER",
        "password_env": "HVB_SMTP_PASSWORD",
        "from": "incidents@example.com",
        "to": ["devops", "eng_manager"],
        "ca_file": str(smtp.ca_file),
    }
    return write_config(tmp_path, base_config(contacts=CONTACTS, notify={"email": email}))


def run(config: Path, *args: str) -> Result:
    application = Application(
        config_path=str(config), interactive=False, actor="oncall@example.com", clock=lambda: OPENED
    )
    return opsctl(*args, application=application)


def test_open_ack_note_resolve_mail_the_stakeholders_in_one_thread(
    tmp_path: Path, config: Path, smtp: SmtpServer
) -> None:
    steps = [
        run(config, "incident", "open", "--severity", "P1", "--title", "Booking calls fail", "--env", "production"),
        run(config, "incident", "ack", "INC-1"),
        run(config, "incident", "note", "INC-1", "rolled back to hvb:1.7.0; error rate falling"),
        run(config, "incident", "resolve", "INC-1", "--cause", "bad deploy"),
    ]

    assert [s.code for s in steps] == [0, 0, 0, 0], [s.err for s in steps]
    assert [m.recipients for m in smtp.messages] == [["devops@example.com", "em@example.com"]] * 4
    opened, acked, noted, resolved = (m.message for m in smtp.messages)
    root = "<opsctl.hotel-voice-bot.inc-1@example.com>"
    assert opened["Message-ID"] == root
    assert opened["Subject"] == "[hotel-voice-bot] INC-1 (P1): Booking calls fail"
    for reply in (acked, noted, resolved):
        assert (reply["In-Reply-To"], reply["References"], reply["Subject"]) == (root, root, "Re: " + opened["Subject"])
    texts = [m.part("plain") for m in smtp.messages]
    assert texts[0].splitlines()[0] == "INC-1 opened by oncall@example.com: Booking calls fail"
    assert "Respond:    15 minutes (by 2026-11-27 10:15 UTC)" in texts[0]
    assert "Update:     rolled back to hvb:1.7.0; error rate falling" in texts[2]
    assert texts[3].splitlines()[0] == (
        "INC-1 resolved by oncall@example.com. Post-mortem scheduled: due by 2026-12-04."
    )
    assert "Post-mortem scheduled: due by 2026-12-04" in texts[3]
    assert "due by <strong>2026-12-04</strong>" in smtp.messages[3].part("html")
    audit = (tmp_path / ".opsctl" / "audit.jsonl").read_text()
    assert audit.count('"channel":"email"') == 4
    for secret in (USER, PASSWORD):
        assert secret not in audit
        assert all(secret not in s.out + s.err for s in steps)
