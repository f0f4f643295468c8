"""Container image references: ``hvb:1.8.0``, ``registry.example.com:5000/team/hvb@sha256:...``."""

from __future__ import annotations

import re

from opsctl.errors import BadInput

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def validate_image(image: str) -> str:
    """Return ``image`` unchanged, or raise BadInput saying what a valid reference looks like."""
    text = image.strip()
    if not text or not _REFERENCE.match(text) or len(text) > 255:
        raise BadInput(f"'{image}' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0")
    match = _REFERENCE.match(text)
    if match and not match["tag"] and not match["digest"]:
        raise BadInput(f"'{image}' has no tag or digest; name the exact version, like {text}:1.8.0")
    return text
