"""The building blocks every opsctl.yaml model shares: strict models, durations, names."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from opsctl.values.durations import DURATION_PATTERN, MAX_TIMEOUT, parse_duration, parse_timeout

CONFIG_NAME = "opsctl.yaml"


def _delay(value: Any) -> float:
    return parse_duration(value, maximum=MAX_TIMEOUT)


# The parsers' ValueError text ("must be longer than 0") becomes the `file:line: key: ...` message.
_DURATION_SCHEMA = WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m"]})
Duration = Annotated[float, BeforeValidator(parse_timeout), _DURATION_SCHEMA]
"""A timeout, interval, TTL or window in a file: longer than 0, at most 30 days."""
Delay = Annotated[float, BeforeValidator(_delay), _DURATION_SCHEMA]
"""A pause where 0 means "none" (``initial_delay: 0s``); at most 30 days."""
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
EnvVarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="name of an environment variable")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
