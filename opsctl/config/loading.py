"""Finding, reading and validating opsctl.yaml; every error names the file, line and key."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from opsctl.config.base import CONFIG_NAME
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
                continue  # `headers_env: {X-Auth-Token: HVB_TOKEN}` names env vars: nothing inline
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
    config._path = path.resolve()
    config._secret_envs = frozenset(secret_env_names(doc.data))
    return config


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "opsctl.yaml"
    return schema
