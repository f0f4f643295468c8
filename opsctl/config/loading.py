"""Finding, reading and validating opsctl.yaml; every error names the file, line and key."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from opsctl.config.base import CONFIG_NAME
from opsctl.config.email import check_recipients
from opsctl.config.project import Config
from opsctl.errors import ConfigError
from opsctl.files.yamlsrc import YamlDoc, load_yaml_mapping, validation_error

# A key named like a credential must not carry the credential itself.
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|webhook|api_?key|routing_key|private_key|credential)", re.I)
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def reject_inline_secrets(doc: YamlDoc, data: Any = None, loc: tuple[str | int, ...] = ()) -> None:
    """Raise on ``token: abc`` or ``https://user:pass@...``: secrets are named by env var."""
    data = doc.data if data is None and not loc else data
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, key)
            name = str(key)
            if name.endswith("_env"):
                # `headers_env: {X-Auth-Token: HVB_TOKEN}` names env vars; a token pasted there would be
                # echoed by "X is not set", so it is refused without showing it.
                for value_loc, named in _env_names(value, here):
                    if _looks_like_token(named):
                        raise doc.error(
                            value_loc,
                            "looks like a secret, not the name of an environment variable; put the value in an "
                            "environment variable and write its name here, like HVB_API_TOKEN",
                        )
                continue
            if (
                isinstance(value, str | int)
                and not isinstance(value, bool)
                and str(value)
                and _SECRET_KEY.search(name)
                and not name.endswith("_env")
            ):
                raise doc.error(
                    here,
                    f"looks like an inline secret; put the value in an environment variable "
                    f"and name it with {name}_env",
                )
            reject_inline_secrets(doc, value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            reject_inline_secrets(doc, value, (*loc, i))
    elif isinstance(data, str) and _URL_PASSWORD.search(data):
        raise doc.error(loc, "URL carries a password; pass credentials through an environment variable")


_TOKEN_PREFIX = re.compile(r"^(gh[pousr]_|github_pat_|glpat-|xox[abposr]-|sk_live_|sk_test_|rk_live_|AKIA|ASIA)")


def _env_names(value: Any, loc: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """The env var names a ``*_env`` key gives (one, or a mapping of them), with where each is."""
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, dict):
        return [((*loc, key), named) for key, named in value.items() if isinstance(named, str)]
    return []


def _looks_like_token(text: str) -> bool:
    """A credential's shape rather than a variable's: a known token prefix, or long, mixed and digit-laden.

    Variable names are words joined by ``_`` (``PAGERDUTY_API_TOKEN``); a token is
    a run of letters and digits: 20 or more with digits and lower case, and either
    upper case too or no ``_`` at all.
    """
    if _TOKEN_PREFIX.match(text):
        return True
    digits, lower, upper = (any(test(ch) for ch in text) for test in (str.isdigit, str.islower, str.isupper))
    return len(text) >= 20 and digits and lower and (upper or "_" not in text)


def find_config(start: Path | None = None, explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config`` / OPSCTL_CONFIG, else opsctl.yaml in the current folder or a parent."""
    given = explicit if explicit is not None else os.environ.get("OPSCTL_CONFIG") or None
    if given is not None:
        origin = "--config" if explicit is not None else "OPSCTL_CONFIG"
        if not os.fspath(given).strip():
            # Path("") is ".", which would read as "is a directory"; say what happened instead.
            raise ConfigError(f"{origin} is empty; give the path of an opsctl.yaml")
        path = Path(given).expanduser()
        if not os.path.lexists(path):
            raise ConfigError(f"{path}: config file not found (from {origin})")
        return path  # a broken symlink or a fifo is reported by the reader, naming the file
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {CONFIG_NAME} in {here} or its parents; create one (see README) or pass --config PATH")


def load_config(path: Path) -> Config:
    """Read and validate ``path``; every error names the file, the line and the key path."""
    from opsctl.values.redact import secret_env_names

    doc = load_yaml_mapping(path, what="config file")
    reject_inline_secrets(doc)
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(doc, exc) from None
    check_recipients(doc, config.notify.email, config.contacts)  # contacts come after notify in the model
    config._path = path.resolve()
    config._secret_envs = frozenset(secret_env_names(doc.data))
    return config


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "opsctl.yaml"
    return schema
