"""A :class:`~opsctl.net.jsonapi.JsonApi` for the ``github:`` section: the token, the headers, GitHub's errors.

The issues of an incident (:mod:`opsctl.git.issues`) and the deployments of a
change (:mod:`opsctl.git.deployments`) both call GitHub's REST API this way;
only what they need the token for, and their retry policy, differ.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opsctl.errors import BadInput
from opsctl.git.github import API_VERSION
from opsctl.net.jsonapi import JsonApi

if TYPE_CHECKING:
    from opsctl.config import Config
    from opsctl.values.redact import Redactor


def github_api(config: Config, redactor: Redactor, *, unset: str, purpose: str, **kwargs: Any) -> tuple[JsonApi, str]:
    """A client for ``github.api_url`` with the token, and the repository (``owner/name``).

    BadInput when ``github:`` is missing (the message is ``unset``) or its
    token variable is empty (the message says the token must be able to
    ``purpose``, e.g. "write issues"). The token is registered with
    ``redactor`` before any request carries it; ``kwargs`` go to JsonApi
    (``policy``, ``client``).
    """
    settings = config.github
    if settings is None:
        raise BadInput(unset)
    token = os.environ.get(settings.token_env, "").strip()
    if not token:
        raise BadInput(f"{settings.token_env} is not set: export a GitHub token that can {purpose}")
    redactor.add(token)
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": API_VERSION,
    }
    api = JsonApi("GitHub", settings.api_url, headers, scrub=redactor.text, explain=explain, **kwargs)
    return api, settings.repo


def explain(body: Any) -> str | None:
    """GitHub's own error message, with the reasons of a 422 (``{"message", "errors": [...]}``)."""
    if not isinstance(body, dict) or not body.get("message"):
        return None
    errors = [str(e.get("message") or e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)]
    return str(body["message"]) + (f" ({'; '.join(errors)})" if errors else "")
