"""Request header values taken from environment variables, checked before anything is sent.

A secret pasted with a trailing newline once reached stdout, ``--json`` and
the audit log through h11's "Illegal header value b'...'" error, which quotes
the value (escaped, so the redactor did not recognise it either). So:

- one trailing line break (``\\n`` or ``\\r\\n``) is removed: it is what
  ``echo``, editors and secret files add, and no header value can contain it,
  so the user plainly did not mean it;
- anything else a header cannot carry (another control character, a space
  at either end, a non-ASCII character) makes a :class:`~opsctl.errors.BadInput`
  that names the variable and the header, never the value: guessing what a
  stray character meant could send a wrong credential;
- the cleaned value is registered with the redactor before it is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opsctl.errors import BadInput

if TYPE_CHECKING:
    from opsctl.values.redact import Redactor

# Control characters (C0 and DEL); tab is allowed inside a value (RFC 9110 field-content).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_value(var: str, header: str, value: str, purpose: str) -> str:
    """``value`` without one trailing line break; BadInput (naming ``var``) when a header cannot carry it."""
    cleaned = value.removesuffix("\n").removesuffix("\r")
    problem = None
    if _CONTROL.search(cleaned):
        problem = "a control character (a line break?)"
    elif cleaned != cleaned.strip(" \t"):
        problem = "a space at the start or end"
    elif not cleaned.isascii():
        problem = "a non-ASCII character"
    if problem is not None:
        raise BadInput(
            f"environment variable {var} holds {problem}; it cannot be sent as the {header} header of {purpose}"
        )
    return cleaned


def env_headers(
    mapping: Mapping[str, str],
    purpose: str,
    redactor: Redactor | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    required: bool = True,
) -> dict[str, str]:
    """``{header: ENV_VAR}`` -> ``{header: value}``; the values become secrets of ``redactor``.

    ``purpose`` names what the headers are for in messages ("health probes").
    An unset variable is BadInput when ``required``, else an empty header.
    """
    source = os.environ if environ is None else environ
    headers = {}
    for header, var in mapping.items():
        raw = source.get(var)
        if not raw:
            if required:
                raise BadInput(f"environment variable {var} is not set (it gives the {header} header of {purpose})")
            raw = ""
        value = header_value(var, header, raw, purpose)
        if redactor is not None:
            redactor.add(value)
        headers[header] = value
    return headers
