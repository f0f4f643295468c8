"""Email over SMTP: deployment-window notices and incident mail to the contacts named by ``notify.email.to``.

- :mod:`~opsctl.notify.email.compose`: the mail (subject, text and HTML parts from templates,
  ``Message-ID``, and ``In-Reply-To``/``References`` that thread one incident's mails);
- :mod:`~opsctl.notify.email.smtp`: one bounded SMTP session (STARTTLS or TLS, login, deadlines);
- :mod:`~opsctl.notify.email.channel`: the channel :func:`opsctl.notify.send` calls: recipients,
  credentials from env vars, retries with backoff, one ``notify`` audit event per mail.

Nothing here is imported until a mail is sent.
"""
