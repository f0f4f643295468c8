"""The email channel of :func:`opsctl.notify.send`: recipients, credentials, retries and the audit event.

Best-effort like every notice: a mail that cannot be handed to the relay
becomes a ``warned`` :class:`~opsctl.notify.deliver.DeliveryResult`, never an
error. Transient problems (network, 4xx) are tried again with the retry
policy's backoff within its wait budget; SMTP has no ``Retry-After``.

Each delivery is one ``notify`` audit event whose destination is redacted:
the relay (``host:port``) and the recipients as contact names, never their
addresses, with the mail's ``Message-ID``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opsctl.net.deadline import Deadline
from opsctl.notify.channels import NotReady, secret_from_env
from opsctl.notify.deliver import DeliveryResult, DeliveryStatus, RetryPolicy
from opsctl.notify.email.compose import KINDS, Recipient, compose
from opsctl.notify.email.smtp import SmtpProblem, Transport, send

if TYPE_CHECKING:
    from opsctl.config import Config, EmailNotify
    from opsctl.engine.context import RunContext

LABEL = "Email"
#: A session may take this many command timeouts in all (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA).
SESSION_TIMEOUTS = 3


def recipients(config: Config, settings: EmailNotify) -> list[Recipient]:
    """The contacts named by ``to``, each address once (names were checked when the file was loaded)."""
    found: dict[str, Recipient] = {}
    for name in settings.to:
        contact = config.contacts[name]
        found.setdefault(contact.email.lower(), Recipient(name, contact.name or name, contact.email))
    return list(found.values())


def transport(ctx: RunContext, settings: EmailNotify) -> Transport:
    """The relay and its credentials (read now, registered with the redactor); NotReady naming what is missing."""
    username = password = None
    if settings.username_env is not None and settings.password_env is not None:
        username = secret_from_env(ctx, settings.username_env, "the SMTP user name")
        password = secret_from_env(ctx, settings.password_env, "the SMTP password")
    ca_file = None
    if settings.ca_file is not None:
        path = ctx.project_dir / os.path.expanduser(settings.ca_file)
        if not path.is_file():
            raise NotReady(f"notify.email.ca_file {settings.ca_file}: no such file")
        ca_file = str(path)
    return Transport(
        settings.host,
        settings.port,
        settings.use_starttls,
        settings.ssl,
        settings.timeout,
        ca_file,
        username,
        password,
    )


def send_email(ctx: RunContext, event: str, context: Mapping[str, Any], policy: RetryPolicy) -> list[DeliveryResult]:
    """Mail ``event`` to the configured contacts; one result, journaled when sent or undeliverable."""
    settings = ctx.config.notify.email
    if settings is None:
        return []
    if event not in KINDS:
        return [DeliveryResult("email", event, "skipped", f"{LABEL} takes no {event} message", kind="email")]
    people = recipients(ctx.config, settings)
    names = [p.contact for p in people]
    try:
        relay = transport(ctx, settings)
        message = compose(
            context, project_dir=ctx.project_dir, sender=settings.from_address, recipients=people, now=ctx.clock()
        )
    except NotReady as exc:
        return [
            _journal(
                ctx,
                event,
                status="warned",
                summary=f"{LABEL}: {exc}",
                attempts=0,
                settings=settings,
                names=names,
                message_id=None,
            )
        ]
    message_id = str(message["Message-ID"])
    if ctx.dry_run:
        summary = f"dry run: {LABEL} {event} to {', '.join(names)} not sent"
        return [DeliveryResult("email", event, "skipped", summary, kind="email")]
    status, summary, attempts = _deliver(
        relay, message, sender=settings.from_address, people=people, event=event, policy=policy
    )
    return [
        _journal(
            ctx,
            event,
            status=status,
            summary=ctx.redactor.text(summary),
            attempts=attempts,
            settings=settings,
            names=names,
            message_id=message_id,
        )
    ]


def _deliver(
    relay: Transport,
    message: Any,
    *,
    sender: str,
    people: list[Recipient],
    event: str,
    policy: RetryPolicy,
) -> tuple[DeliveryStatus, str, int]:
    """Try within ``policy``: (status, one line, attempts). The line names contacts, never addresses."""
    by_address = {p.address.lower(): p.contact for p in people}
    names = ", ".join(p.contact for p in people)
    waited, attempt, problem = 0.0, 0, "not attempted"
    while attempt < max(1, policy.attempts):
        attempt += 1
        deadline = Deadline.after(relay.timeout * SESSION_TIMEOUTS)
        try:
            refused = send(relay, message, sender, [p.address for p in people], deadline)
        except SmtpProblem as exc:
            problem = _by_name(exc.message, by_address)
            if not exc.retryable:
                return "warned", f"{LABEL} {event} not sent to {names}: {problem}", attempt
        else:
            if refused:
                lost = ", ".join(by_address.get(a.lower(), "?") for a in refused)
                replies = "; ".join(sorted(set(refused.values())))
                kept = ", ".join(p.contact for p in people if p.address not in refused)
                return (
                    "warned",
                    _by_name(
                        f"{LABEL} {event} sent to {kept} via {relay.where}; refused for {lost} ({replies})", by_address
                    ),
                    attempt,
                )
            return "sent", f"{LABEL} {event} sent to {names} via {relay.where}", attempt
        if attempt >= policy.attempts:
            break
        delay = policy.delay(attempt, None)
        if waited + delay > policy.budget:
            break
        policy.sleep(delay)
        waited += delay
    return "warned", f"could not deliver {event} by email to {names} after {attempt} attempt(s): {problem}", attempt


def _by_name(text: str, by_address: Mapping[str, str]) -> str:
    """A server's reply with each recipient's address replaced by their contact name."""
    for address, name in by_address.items():
        text = _replace_ci(text, address, name)
    return text


def _replace_ci(text: str, old: str, new: str) -> str:
    import re

    return re.sub(re.escape(old), new, text, flags=re.IGNORECASE)


def _journal(
    ctx: RunContext,
    event: str,
    *,
    status: DeliveryStatus,
    summary: str,
    attempts: int,
    settings: EmailNotify,
    names: list[str],
    message_id: str | None,
) -> DeliveryResult:
    result = DeliveryResult("email", event, status, summary, attempts, None, "email")
    ctx.journal.event(
        "notify",
        "passed" if status == "sent" else "warned",
        delivery=status,
        channel="email",
        event=event,
        kind="email",
        summary=summary,
        attempts=attempts,
        destination=f"{settings.host}:{settings.port}",
        to=names,
        message_id=message_id,
    )
    return result
