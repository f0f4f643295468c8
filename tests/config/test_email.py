"""notify.email in opsctl.yaml: what loads, defaults, and each mistake as one line naming file, line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsctl.cli.app import app
from opsctl.cli.application import Application
from opsctl.config import EmailNotify, load_config
from opsctl.errors import ConfigError
from tests.support.context import base_config, write_config

CONTACTS = {"devops": {"email": "devops@example.com"}, "tech_lead": {"email": "tech-lead@example.com"}}
EMAIL = {
    "host": "smtp.example.com",
    "port": 587,
    "starttls": True,
    "username_env": "SMTP_USER",
    "password_env": "SMTP_PASSWORD",
    "from": "opsctl@example.com",
    "to": ["devops", "tech_lead"],
}


def load(tmp_path: Path, email: dict[str, Any], contacts: dict[str, Any] | None = None) -> Any:
    return load_config(write_config(tmp_path, base_config(contacts=contacts or CONTACTS, notify={"email": email})))


def error(tmp_path: Path, email: dict[str, Any], contacts: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, email, contacts)
    return str(caught.value).removeprefix(f"{tmp_path}/")


def test_the_issue_example_loads(tmp_path: Path) -> None:
    email = load(tmp_path, EMAIL).notify.email
    assert isinstance(email, EmailNotify)
    assert (email.host, email.port, email.use_starttls, email.ssl) == ("smtp.example.com", 587, True, False)
    assert (email.from_address, email.to, email.timeout) == ("opsctl@example.com", ["devops", "tech_lead"], 10.0)
    assert (email.username_env, email.password_env, email.ca_file) == ("SMTP_USER", "SMTP_PASSWORD", None)


def test_defaults_and_implicit_tls(tmp_path: Path) -> None:
    plain = load(tmp_path, {"host": "relay.internal", "from": "o@example.com", "to": ["devops"]}).notify.email
    assert (plain.port, plain.use_starttls, plain.ssl, plain.username_env) == (587, True, False, None)
    tls = load(tmp_path, {**EMAIL, "port": 465, "ssl": True, "starttls": None}).notify.email
    assert (tls.use_starttls, tls.ssl) == (False, True)
    implicit = {k: v for k, v in EMAIL.items() if k != "starttls"}
    assert load(tmp_path, {**implicit, "ssl": True}).notify.email.use_starttls is False
    local = load(tmp_path, {**EMAIL, "host": "127.0.0.1", "starttls": False}).notify.email  # loopback: allowed
    assert local.use_starttls is False


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (
            {**EMAIL, "to": ["devops", "cto"]},
            "opsctl.yaml:35: notify -> email -> to -> 1: 'cto' is not a contact (contacts: devops, tech_lead)",
        ),
        (
            {**EMAIL, "starttls": False},
            "opsctl.yaml:26: notify -> email: the password would cross the network to smtp.example.com "
            "unencrypted: set starttls: true (or ssl: true)",
        ),
        (
            {**EMAIL, "ssl": True},
            "opsctl.yaml:26: notify -> email: give ssl: true (implicit TLS, port 465) or starttls: true, not both",
        ),
        (
            {k: v for k, v in EMAIL.items() if k != "password_env"},
            "opsctl.yaml:26: notify -> email: give both username_env and password_env (or neither, for a relay "
            "without login)",
        ),
        (
            {**EMAIL, "to": []},
            "opsctl.yaml:33: notify -> email -> to: list should have at least 1 item after validation, not 0",
        ),
        (
            {**EMAIL, "from": "opsctl"},
            "opsctl.yaml:32: notify -> email -> from: must be an email address like opsctl@example.com, not 'opsctl'",
        ),
        ({**EMAIL, "port": 0}, "opsctl.yaml:28: notify -> email -> port: input should be greater than or equal to 1"),
        (
            {**EMAIL, "password": "hunter22"},
            "opsctl.yaml:36: notify -> email -> password: looks like an inline "
            "secret; put the value in an environment variable and name it with password_env",
        ),
    ],
)
def test_mistakes_are_one_line_naming_file_line_and_key(tmp_path: Path, email: dict[str, Any], message: str) -> None:
    assert error(tmp_path, email) == message


def test_to_without_any_contacts_says_how_to_add_them(tmp_path: Path) -> None:
    path = write_config(tmp_path, base_config(notify={"email": {**EMAIL, "to": ["devops"]}}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).removeprefix(f"{tmp_path}/") == (
        "opsctl.yaml:29: notify -> email -> to -> 0: 'devops' is not a contact "
        "(contacts: none defined: add contacts: {NAME: {email: ...}})"
    )


def test_config_check_exits_2_with_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, base_config(contacts=CONTACTS, notify={"email": {**EMAIL, "to": ["pm"]}}))
    result = CliRunner().invoke(app, ["config", "check"], obj=Application(config_path=str(path), interactive=False))
    assert result.exit_code == 2
    assert result.stderr.strip().removeprefix("error: ").removeprefix(f"{tmp_path}/") == (
        "opsctl.yaml:34: notify -> email -> to -> 0: 'pm' is not a contact (contacts: devops, tech_lead)"
    )
