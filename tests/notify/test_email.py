"""Email over a real SMTP server on 127.0.0.1 (aiosmtpd): STARTTLS, login, headers, threading, parts, recipients.

Every mail goes through :func:`opsctl.notify.send` as any notification does;
the server keeps what it accepted, and the audit log and results are checked
for the SMTP user and password, which must never appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.context import RunContext
from opsctl.notify import send
from opsctl.notify.deliver import DeliveryResult, RetryPolicy
from tests.notify.support import Sleeps, fast_policy
from tests.support.context import FIXED_NOW, base_config, make_ctx
from tests.support.smtp_server import PASSWORD, USER, SmtpServer

CONTACTS = {
    "devops": {"email": "devops@example.com"},
    "tech_lead": {"email": "tech-lead@example.com", "name": "Tech Lead"},
    "pm": {"email": "pm@example.com"},
}
ROOT = "<opsctl.hotel-voice-bot.inc-7@example.com>"
INCIDENT = {
    "incident": "INC-7",
    "severity": "P1",
    "severity_name": "High",
    "title": "Booking calls fail <for & some> hotels",
    "status": "open",
    "urgency": "high",
    "respond_within": "15m",
    "respond_by": "2026-11-27T10:15:00.000Z",
    "opened_by": "oncall@example.com",
    "env": "production",
}


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path, tls=True, login=(USER, PASSWORD)) as server:
        yield server


def email_ctx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer | None, **overrides: Any
) -> RunContext:
    """A production context mailing devops and tech_lead; the SMTP secrets are exported after it is made."""
    email = {
        "host": "127.0.0.1",
        "port": server.port if server else 9,
        "username_env": "HVB_SMTP_USER",
        "password_env": "HVB_SMTP_PASSWORD",
        "from": "opsctl@example.com",
        "to": ["devops", "tech_lead"],
        "timeout": "2s",
        **({"ca_file": str(server.ca_file)} if server and server.ca_file else {}),
        **overrides,
    }
    monkeypatch.delenv("HVB_SMTP_USER", raising=False)
    monkeypatch.delenv("HVB_SMTP_PASSWORD", raising=False)
    ctx = make_ctx(tmp_path, base_config(contacts=CONTACTS, notify={"email": email}), env="production")
    ctx.clock = lambda: FIXED_NOW
    monkeypatch.setenv("HVB_SMTP_USER", USER)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", PASSWORD)
    return ctx


def audit(ctx: RunContext) -> list[str]:
    path = ctx.state_dir / "audit.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def assert_no_secret(ctx: RunContext, results: list[DeliveryResult]) -> None:
    texts = [*audit(ctx), *(str(r.as_dict()) for r in results)]
    assert [t for t in texts if PASSWORD in t or USER in t] == []


def test_an_incident_mail_goes_over_starttls_with_login_to_the_contacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)

    results = send(ctx, "incident.opened", INCIDENT)

    assert [(r.channel, r.status, r.summary) for r in results] == [
        ("email", "sent", f"Email incident.opened sent to devops, tech_lead via 127.0.0.1:{smtp.port}")
    ]
    assert smtp.logins == ["PLAIN"]  # after STARTTLS: the server refuses AUTH and MAIL before it
    (mail,) = smtp.messages
    assert (mail.sender, mail.recipients) == ("opsctl@example.com", ["devops@example.com", "tech-lead@example.com"])
    headers = mail.message
    assert headers["From"] == '"opsctl (hotel-voice-bot)" <opsctl@example.com>'
    assert headers["To"] == "devops <devops@example.com>, Tech Lead <tech-lead@example.com>"
    assert headers["Subject"] == "[hotel-voice-bot] INC-7 (P1): Booking calls fail <for & some> hotels"
    assert headers["Date"] == "Fri, 27 Nov 2026 10:00:00 +0000"
    assert headers["Message-ID"] == ROOT  # the incident's first mail is the root of its thread
    assert (headers["In-Reply-To"], headers["References"]) == (None, None)
    assert (headers["Auto-Submitted"], headers["X-Opsctl-Event"], headers["X-Opsctl-Incident"]) == (
        "auto-generated",
        "incident.opened",
        "INC-7",
    )
    assert headers.get_content_type() == "multipart/alternative"
    text, html = mail.part("plain"), mail.part("html")
    assert text.splitlines()[:6] == [
        "INC-7 opened by oncall@example.com: Booking calls fail <for & some> hotels",
        "",
        "Incident:   INC-7 (P1, High) Booking calls fail <for & some> hotels",
        "Service:    hotel-voice-bot / production",
        "Status:     open",
        "Respond:    15m (by 2026-11-27 10:15 UTC)",
    ]
    assert "Timeline: opsctl incident show INC-7" in text
    assert "<td>INC-7 (P1, High) Booking calls fail &lt;for &amp; some&gt; hotels</td>" in html  # escaped
    assert "<for & some>" not in html
    (event,) = [e for e in audit(ctx) if '"step":"notify"' in e]
    assert f'"destination":"127.0.0.1:{smtp.port}"' in event
    assert '"to":["devops","tech_lead"]' in event  # contact names: the addresses stay out of the log
    assert '@example.com"]' not in event
    assert "devops@example.com" not in event
    assert f'"message_id":"{ROOT}"' in event
    assert '"status":"passed","delivery":"sent","channel":"email","event":"incident.opened"' in event
    assert_no_secret(ctx, results)


def test_one_incidents_mails_thread_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    resolved = {**INCIDENT, "status": "resolved", "cause": "bad deploy", "postmortem_by": "2026-12-04"}

    send(ctx, "incident.opened", INCIDENT)
    send(ctx, "incident.acknowledged", INCIDENT)
    send(ctx, "incident.noted", INCIDENT, text="rolled back to hvb:1.7.0")
    send(ctx, "incident.resolved", resolved, text=None)

    opened, acked, noted, done = (m.message for m in smtp.messages)
    ids = [m["Message-ID"] for m in (opened, acked, noted, done)]
    assert ids[0] == ROOT
    assert len(set(ids)) == 4
    assert all(re.fullmatch(r"<[^<>@\s]+@example\.com>", i) for i in ids)
    for reply in (acked, noted, done):
        assert (reply["In-Reply-To"], reply["References"]) == (ROOT, ROOT)
        assert reply["Subject"] == "Re: [hotel-voice-bot] INC-7 (P1): Booking calls fail <for & some> hotels"
    assert [m["X-Opsctl-Event"] for m in (opened, acked, noted, done)] == [
        "incident.opened",
        "incident.acknowledged",
        "incident.noted",
        "incident.resolved",
    ]
    texts = [m.part("plain") for m in smtp.messages]
    assert texts[1].splitlines()[0] == "INC-7 acknowledged by tester@example.com: someone is on it."
    assert "Update:     rolled back to hvb:1.7.0" in texts[2]
    assert texts[3].splitlines()[0] == (
        "INC-7 resolved by tester@example.com. Post-mortem scheduled: due by 2026-12-04."
    )
    assert "Cause:      bad deploy" in texts[3]
    assert "scheduled: due by <strong>2026-12-04</strong>" in smtp.messages[3].part("html")


def test_a_window_notice_threads_on_its_announcement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    window = {
        "window_start": "2026-12-01T14:00:00Z",
        "window_end": "2026-12-01T15:00:00Z",
        "window_text": "2026-12-01 14:00-15:00 UTC",
        "image_after": "hvb:1.8.0",
    }

    send(ctx, "window", {**window, "phase": "announced", "note": "booking flow v2"})
    send(ctx, "window", {**window, "phase": "starting", "summary": "hvb:1.7.0 -> hvb:1.8.0"})
    send(ctx, "deploy.started", {})  # deploys themselves are not mailed

    announced, starting = (m.message for m in smtp.messages)
    root = "<opsctl.hotel-voice-bot.window-production-2026-12-01t14-00-00z@example.com>"
    assert announced["Message-ID"] == root
    assert announced["Subject"] == "[hotel-voice-bot] Deployment window: production 2026-12-01 14:00-15:00 UTC"
    assert (starting["In-Reply-To"], starting["References"]) == (root, root)
    assert starting["Subject"] == "Re: " + announced["Subject"]
    text = smtp.messages[0].part("plain")
    assert text.splitlines()[:7] == [
        "Deployment window for production: 2026-12-01 14:00-15:00 UTC.",
        "",
        "Service:     hotel-voice-bot",
        "Environment: production (protected)",
        "Window:      2026-12-01 14:00-15:00 UTC",
        "Image:       hvb:1.8.0",
        "Note:        booking flow v2",
    ]
    assert smtp.messages[1].part("plain").splitlines()[0] == (
        "The deployment to production is starting now (window 2026-12-01 14:00-15:00 UTC)."
    )


def test_implicit_tls_on_port_465_style(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from aiosmtpd.controller import Controller

    from tests.support.smtp_server import _Handler, free_port, self_signed

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tmp_path)
    port = free_port()
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        email = {"port": port, "ssl": True, "ca_file": str(cert), "username_env": None, "password_env": None}
        ctx = email_ctx(tmp_path, monkeypatch, None, **email)
        (result,) = send(ctx, "incident.opened", INCIDENT)
    finally:
        controller.stop()
    assert (result.status, result.summary) == (
        "sent",
        f"Email incident.opened sent to devops, tech_lead via 127.0.0.1:{port}",
    )
    assert [m.recipients for m in server.messages] == [["devops@example.com", "tech-lead@example.com"]]


# -- best effort: retries, refusals, and problems become warnings -----------------------------------------------


def test_a_4xx_reply_is_tried_again_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    smtp.fail_data.append("451 4.3.0 Mail server temporarily rejected message")
    sleeps = Sleeps()

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(sleeps))

    assert (result.status, result.attempts) == ("sent", 2)
    assert sleeps == [0.5]
    assert len(smtp.messages) == 1


def test_a_5xx_reply_is_not_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    smtp.fail_data.append("554 5.7.1 Message rejected as spam")
    sleeps = Sleeps()

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(sleeps))

    assert (result.status, result.attempts, sleeps) == ("warned", 1, [])
    assert result.summary == (
        f"Email incident.opened not sent to devops, tech_lead: 127.0.0.1:{smtp.port} refused the message "
        "(554 5.7.1 Message rejected as spam)"
    )
    (event,) = [e for e in audit(ctx) if '"step":"notify"' in e]
    assert '"status":"warned","delivery":"warned","channel":"email"' in event


def test_a_refused_recipient_is_named_by_contact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    smtp.refuse["tech-lead@example.com"] = "550 5.1.1 <tech-lead@example.com>: mailbox unavailable"

    (result,) = send(ctx, "incident.opened", INCIDENT)

    assert (result.status, result.attempts) == ("warned", 1)  # not again: devops has it already
    assert result.summary == (
        f"Email incident.opened sent to devops via 127.0.0.1:{smtp.port}; refused for tech_lead "
        "(550 5.1.1 <tech_lead>: mailbox unavailable)"
    )
    assert smtp.addresses == [["devops@example.com"]]


def test_every_recipient_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp, to=["devops"])
    smtp.refuse["devops@example.com"] = "550 5.1.1 mailbox unavailable"

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(Sleeps()))

    assert (result.status, result.attempts) == ("warned", 1)
    assert result.summary == (
        f"Email incident.opened not sent to devops: 127.0.0.1:{smtp.port} refused every recipient "
        "(550 5.1.1 mailbox unavailable)"
    )


def test_an_unreachable_server_is_tried_three_times_then_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.smtp_server import free_port

    port = free_port()  # nothing listens there
    ctx = email_ctx(tmp_path, monkeypatch, None, port=port, username_env=None, password_env=None)
    sleeps = Sleeps()

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(sleeps))

    assert (result.status, result.attempts, sleeps) == ("warned", 3, [0.5, 1.0])
    assert result.summary == (
        "could not deliver incident.opened by email to devops, tech_lead after 3 attempt(s): "
        f"127.0.0.1:{port}: connection refused"
    )


def test_a_server_without_starttls_gets_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer(tmp_path) as plain:
        ctx = email_ctx(tmp_path, monkeypatch, plain)
        (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(Sleeps()))
    assert (result.status, result.attempts) == ("warned", 1)
    assert result.summary == (
        f"Email incident.opened not sent to devops, tech_lead: 127.0.0.1:{plain.port} does not offer STARTTLS; "
        "nothing was sent in the clear (set starttls: false only for a relay on this machine)"
    )
    assert plain.messages == []


def test_an_untrusted_certificate_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp, ca_file=None)

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(Sleeps()))

    assert (result.status, result.attempts) == ("warned", 1)
    assert result.summary == (
        f"Email incident.opened not sent to devops, tech_lead: the certificate of 127.0.0.1:{smtp.port} is not "
        "trusted (self-signed certificate); set notify.email.ca_file to the CA that signed it"
    )
    assert smtp.messages == []
    assert_no_secret(ctx, [result])


def test_a_wrong_password_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    monkeypatch.setenv("HVB_SMTP_PASSWORD", "not-the-Sm7pPa55w0rd")

    (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(Sleeps()))

    assert (result.status, result.attempts) == ("warned", 1)
    assert result.summary == (
        f"Email incident.opened not sent to devops, tech_lead: 127.0.0.1:{smtp.port} refused the login "
        "(535 5.7.8 Authentication credentials invalid)"
    )
    assert "not-the-Sm7pPa55w0rd" not in "\n".join(audit(ctx))


def test_a_silent_server_is_given_up_within_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts connections (the kernel does) and never says a word
        port = listener.getsockname()[1]
        ctx = email_ctx(tmp_path, monkeypatch, None, port=port, timeout="1s", username_env=None, password_env=None)
        started = time.monotonic()
        (result,) = send(ctx, "incident.opened", INCIDENT, policy=fast_policy(Sleeps()))
        took = time.monotonic() - started

    assert (result.status, result.attempts) == ("warned", 3)
    assert result.summary == (
        "could not deliver incident.opened by email to devops, tech_lead after 3 attempt(s): "
        f"127.0.0.1:{port} did not answer within 1s"
    )
    assert took < 6


def test_a_dripping_server_is_cut_at_the_sessions_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One byte every 0.4s never trips a 1s read timeout; the session's deadline (3 x timeout) ends it."""
    import socket
    import threading
    import time

    stop = threading.Event()

    def drip(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            for byte in b"220-" + b"x" * 100:
                if stop.wait(0.4):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        threading.Thread(target=drip, args=(listener,), daemon=True).start()
        port = listener.getsockname()[1]
        ctx = email_ctx(tmp_path, monkeypatch, None, port=port, timeout="1s", username_env=None, password_env=None)
        started = time.monotonic()
        (result,) = send(ctx, "incident.opened", INCIDENT, policy=RetryPolicy(attempts=1, sleep=Sleeps()))
        took = time.monotonic() - started
        stop.set()

    assert result.summary == (
        "could not deliver incident.opened by email to devops, tech_lead after 1 attempt(s): "
        f"127.0.0.1:{port} did not finish within 3s"
    )
    assert 2.5 < took < 4.5


# -- nothing to send, or nothing sent ----------------------------------------------------------------------------


def test_an_unset_password_variable_is_a_warning_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    monkeypatch.delenv("HVB_SMTP_PASSWORD")

    (result,) = send(ctx, "incident.opened", INCIDENT)

    assert (result.status, result.attempts, result.summary) == (
        "warned",
        0,
        "Email: HVB_SMTP_PASSWORD is not set: export the SMTP password",
    )
    assert smtp.messages == []


def test_a_missing_ca_file_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp, ca_file="certs/none.pem")
    (result,) = send(ctx, "incident.opened", INCIDENT)
    assert (result.status, result.summary) == ("warned", "Email: notify.email.ca_file certs/none.pem: no such file")


def test_deploy_events_are_not_mailed_and_dry_runs_send_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    assert [(r.status, r.summary) for r in send(ctx, "deploy.succeeded", {})] == [
        ("skipped", "Email takes no deploy.succeeded message")
    ]
    ctx.dry_run = True
    assert [(r.status, r.summary) for r in send(ctx, "incident.opened", INCIDENT)] == [
        ("skipped", "dry run: Email incident.opened to devops, tech_lead not sent")
    ]
    assert smtp.messages == []
    assert [e for e in audit(ctx) if '"step":"notify"' in e] == []


def test_a_project_template_replaces_the_built_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    (tmp_path / "notify").mkdir()
    (tmp_path / "notify" / "email-incident.txt.j2").write_text("{{ incident }} is {{ d.status }} ({{ lead }})\n")

    send(ctx, "incident.opened", INCIDENT)

    (mail,) = smtp.messages
    assert mail.part("plain") == (
        "INC-7 is open (INC-7 opened by oncall@example.com: Booking calls fail <for & some> hotels)\n"
    )
    assert "<table" in mail.part("html")  # the HTML part is still the built-in


def test_a_broken_template_is_a_warning_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer
) -> None:
    ctx = email_ctx(tmp_path, monkeypatch, smtp)
    (tmp_path / "notify").mkdir()
    (tmp_path / "notify" / "email-incident.html.j2").write_text("{{ nothing_like_this }}")

    (result,) = send(ctx, "incident.opened", INCIDENT)

    assert (result.status, result.summary) == (
        "warned",
        "Email: template email-incident.html.j2 cannot be rendered: UndefinedError: 'nothing_like_this' is undefined",
    )
    assert smtp.messages == []
