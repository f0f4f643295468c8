"""What ``opsctl init`` is asked to look at, and the environment names it suggests.

``--ecs CLUSTER/SERVICE``, ``--fly APP`` and ``--kubernetes
CONTEXT/NAMESPACE/DEPLOYMENT`` each name one environment's platform. Clusters
and contexts may be ARNs (``arn:aws:eks:...:cluster/hvb``), which hold a ``/``
themselves, so the names are split from the right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsctl.errors import BadInput

# Words in resource names that say which environment they belong to, in the order they are tried.
_ENV_WORDS = (
    ("production", ("production", "prod", "prd", "live")),
    ("staging", ("staging", "stage", "stg", "preprod")),
    ("development", ("development", "dev")),
    ("test", ("test", "qa", "uat")),
)
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
FALLBACK_NAMES = ("staging", "production")


@dataclass(frozen=True)
class Target:
    """One platform to discover: ``kind`` and its names, as given (``text``)."""

    kind: str  # ecs | fly | kubernetes
    text: str
    parts: tuple[str, ...]


def ecs_target(text: str) -> Target:
    cluster, _, service = text.strip().rpartition("/")
    if not cluster or not service:
        raise BadInput(f"--ecs {text}: give CLUSTER/SERVICE, e.g. --ecs hvb-staging/hotel-voice-bot")
    return Target("ecs", text, (cluster, service))


def fly_target(text: str) -> Target:
    app = text.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", app):
        raise BadInput(f"--fly {text}: give the Fly app's name (lower-case letters, digits and -), e.g. --fly hvb")
    return Target("fly", text, (app,))


def kube_target(text: str) -> Target:
    parts = text.strip().rsplit("/", 2)
    if len(parts) != 3 or not all(parts):
        raise BadInput(
            f"--kubernetes {text}: give CONTEXT/NAMESPACE/DEPLOYMENT, e.g. --kubernetes hvb-staging/hvb/hotel-voice-bot"
        )
    return Target("kubernetes", text, (parts[0], parts[1], parts[2]))


def parse_targets(ecs: list[str], fly: list[str], kubernetes: list[str]) -> list[Target]:
    """Every target, in the order ECS, Fly, Kubernetes (the order ``--env`` names pair with); at least one."""
    targets = [*map(ecs_target, ecs), *map(fly_target, fly), *map(kube_target, kubernetes)]
    if not targets:
        raise BadInput(
            "say what to look at: --ecs CLUSTER/SERVICE, --fly APP or --kubernetes CONTEXT/NAMESPACE/DEPLOYMENT"
        )
    return targets


def guess_env(hint: str) -> str | None:
    """``hvb-staging`` -> staging, ``bot-prod`` -> production: the environment a resource's name says, if any."""
    words = set(re.split(r"[^a-z0-9]+", hint.lower()))
    for name, spellings in _ENV_WORDS:
        if words & set(spellings):
            return name
    return None


def env_names(given: list[str], hints: list[str]) -> list[str]:
    """One environment name per target: ``--env`` names in order, else guessed from the resources' names.

    A target whose names say nothing gets the first of staging, production not
    taken yet (never a second copy of a name).
    """
    for name in given:
        if not _ENV_NAME.fullmatch(name) or len(name) > 64:
            raise BadInput(f"--env {name}: an environment name is letters, digits, '_', '.' and '-' (at most 64)")
    if given:
        if len(given) != len(hints):
            raise BadInput(
                f"{len(given)} --env name(s) for {len(hints)} target(s): give one --env per --ecs/--fly/--kubernetes "
                "(paired in that order), or none to have them guessed"
            )
        if len(set(given)) != len(given):
            raise BadInput(f"--env names must differ: {', '.join(given)}")
        return list(given)
    names: list[str] = []
    for hint in hints:
        guess = guess_env(hint)
        if guess is None or guess in names:
            guess = next((n for n in FALLBACK_NAMES if n not in names), None)
        names.append(guess or f"env{len(names) + 1}")
    return names
