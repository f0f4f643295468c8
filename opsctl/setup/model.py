"""What discovery learned about one environment: the config keys to write and the facts behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Discovered:
    """One environment's platform as found (reads only), ready to be written to opsctl.yaml.

    ``platform`` and ``health`` hold the config keys (``health`` None: nothing
    found to probe); ``name_hint`` is the name the environment's resources
    carry (a cluster, an app), which its environment name is guessed from;
    ``notes`` are comment lines written above the environment, saying where
    each value came from and what is left to decide.
    """

    kind: str  # ecs | fly | kubernetes
    target: str  # as given on the command line: hvb-staging/hotel-voice-bot
    service: str  # the service's own name: a default for `service:`
    name_hint: str
    platform: dict[str, Any]
    health: dict[str, Any] | None = None
    image: str | None = None  # what runs now, when known
    notes: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = field(default=())  # commented-out config lines worth having

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "platform": self.platform,
            "health": self.health,
            "image": self.image,
            "notes": list(self.notes),
        }
