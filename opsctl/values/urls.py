"""URLs in config files: absolute http(s) with a host, checked when the file is loaded.

``base_url: 127.0.0.1:46619`` used to pass ``config check`` and fail later,
once per probe, with httpx's ``UnsupportedProtocol``; one line at load time
naming the key is the useful place for that error.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

URL_HINT = "must be an absolute http(s) URL like https://hvb.example.com"


def check_http_url(value: str) -> str:
    """``value`` if it is an absolute ``http``/``https`` URL with a host; ValueError(:data:`URL_HINT`) else."""
    from urllib.parse import urlsplit

    if not value or value != value.strip() or any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError(URL_HINT)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ValueError(URL_HINT) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(URL_HINT)
    return value


HttpUrl = Annotated[
    str,
    AfterValidator(check_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s]+"}),
]
"""A ``str`` field holding an absolute http(s) URL (kept as written: paths are appended to it)."""
