"""notify.email: stakeholder mail over SMTP (deployment windows, incidents, post-mortem dates).

``to`` names contacts (``contacts: {devops: {email: ...}}``), never raw
addresses, so that a person's address is written once. The names are checked
against ``contacts`` when the file is loaded (:func:`check_recipients`): a
typo fails ``config check``, not the mail during an incident. The password is
named by an env var like every secret; a login over a connection that is not
encrypted is refused unless the server is on this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from opsctl.config.base import Duration, EnvVarName, Model, Name
from opsctl.config.contacts import EMAIL_PATTERN

if TYPE_CHECKING:
    from opsctl.files.yamlsrc import YamlDoc

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class EmailNotify(Model):
    """An SMTP relay, who the mail is from, and the contacts it goes to."""

    host: str = Field(min_length=1, pattern=r"^[A-Za-z0-9.:\[\]_-]+$", description="SMTP server name or address")
    port: int = Field(587, ge=1, le=65535, description="587 (submission, STARTTLS), 465 (ssl) or 25")
    starttls: bool | None = Field(
        None, description="upgrade the connection with STARTTLS before anything is sent (default: true unless ssl)"
    )
    ssl: bool = Field(False, description="implicit TLS from the first byte (port 465) instead of STARTTLS")
    username_env: EnvVarName | None = Field(None, description="env var holding the SMTP user name")
    password_env: EnvVarName | None = Field(None, description="env var holding the SMTP password")
    from_address: str = Field(alias="from", description="the sender, e.g. opsctl@example.com")
    to: list[Name] = Field(min_length=1, description="contact names (keys of contacts:), e.g. [devops, tech_lead]")
    timeout: Duration = Field(10.0, description="limit for the connection and for each SMTP command")
    ca_file: str | None = Field(
        None, description="PEM file of the CA that signed the server's certificate (relative to opsctl.yaml)"
    )

    @property
    def use_starttls(self) -> bool:
        """Whether to upgrade with STARTTLS: as set, else whenever implicit TLS (ssl) is off."""
        return bool(self.starttls) if self.starttls is not None else not self.ssl

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        import re

        if not re.fullmatch(EMAIL_PATTERN, value):
            raise ValueError(f"must be an email address like opsctl@example.com, not '{value}'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EmailNotify:
        if self.ssl and self.starttls:
            raise ValueError("give ssl: true (implicit TLS, port 465) or starttls: true, not both")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give both username_env and password_env (or neither, for a relay without login)")
        encrypted = self.ssl or self.use_starttls
        if self.password_env is not None and not encrypted and self.host.strip("[]").lower() not in LOOPBACK_HOSTS:
            raise ValueError(
                f"the password would cross the network to {self.host} unencrypted: set starttls: true (or ssl: true)"
            )
        return self


def check_recipients(doc: YamlDoc, email: EmailNotify | None, contacts: Mapping[str, Any]) -> None:
    """Every name in ``notify.email.to`` is a contact; ConfigError naming the file, line and key otherwise."""
    if email is None:
        return
    known = dict(contacts)
    for index, name in enumerate(email.to):
        if name not in known:
            listed = ", ".join(sorted(known)) or "none defined: add contacts: {NAME: {email: ...}}"
            raise doc.error(("notify", "email", "to", index), f"'{name}' is not a contact (contacts: {listed})")
