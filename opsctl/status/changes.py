"""``opsctl changes ENV``: the commits between the release an environment runs and HEAD (or an image)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsctl.git.changes import Commit
    from opsctl.platforms.base import Release
    from opsctl.workspace import Workspace


@dataclass(frozen=True)
class PendingChanges:
    """What a deploy of ``target`` to ``env`` would bring, as deploy notes."""

    env: str
    current: Release  # what the environment runs now
    target: str  # "HEAD", or the image given
    commits: tuple[Commit, ...]  # newest first

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` view."""
        return {
            "env": self.env,
            "from": self.current.as_dict(),
            "to": self.target,
            "commits": [
                {"sha": c.sha, "subject": c.subject, "author": c.author, "date": c.date.isoformat()}
                for c in self.commits
            ],
        }


def pending_changes(ws: Workspace, env: str, image: str | None = None, *, limit: int = 50) -> PendingChanges:
    """Commits in ``image``'s commit (default HEAD) that the running release lacks, at most ``limit``.

    Reads the platform through ``ws.platform(env)`` and the project's git repository; changes nothing.
    """
    from opsctl.git.changes import commits_between
    from opsctl.values.imageref import validate_image

    ws.config.environment(env)
    target = validate_image(image) if image else "HEAD"
    current = ws.platform(env).current_release()
    commits = commits_between(ws.config.project_dir, current.image, target, limit=limit)
    return PendingChanges(env, current, target, tuple(commits))
