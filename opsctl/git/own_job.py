"""The GitHub Actions job opsctl runs in, so that the CI gate does not wait on that job's own check run.

A deploy job's check run is ``in_progress`` for as long as the deploy runs:
counted by ``github.checks`` it is "pending" and the gate could never pass
from inside CI. GitHub names the job's check run after the job's ``name:``
(else its key, ``GITHUB_JOB``; a matrix job adds ``" (a, b)"``) and links it
at ``.../actions/runs/<GITHUB_RUN_ID>/job/<id>``; a check run is this job's
only when both the link and the name say so, so a same-named job of another
workflow run still counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")  # a job name like "Deploy ${{ matrix.env }}": anything there


@dataclass(frozen=True)
class OwnJob:
    """This GitHub Actions job: its workflow run id, its key, and the names its check run may carry."""

    run_id: str
    job: str
    names: tuple[re.Pattern[str], ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], project_dir: Path | None = None) -> OwnJob | None:
        """The job described by ``GITHUB_RUN_ID`` / ``GITHUB_JOB``; None outside GitHub Actions.

        The job's ``name:`` is read from the workflow file (``GITHUB_WORKFLOW_REF``)
        in the checkout (``GITHUB_WORKSPACE``, else ``project_dir``) when it is there.
        """
        run_id = environ.get("GITHUB_RUN_ID", "").strip()
        job = environ.get("GITHUB_JOB", "").strip()
        if not run_id.isdigit() or not job:
            return None
        names = [re.escape(job), re.escape(job) + r" \(.*\)"]
        display = _display_name(environ, project_dir, job)
        if display:
            names.append(".*".join(re.escape(part) for part in _EXPRESSION.split(display)))
        return cls(run_id, job, tuple(re.compile(name, re.DOTALL) for name in names))

    def owns(self, name: str, details_url: str | None) -> bool:
        """Whether the check run ``name`` linking to ``details_url`` is this job's own."""
        if not details_url or f"/actions/runs/{self.run_id}/" not in details_url:
            return False
        return any(pattern.fullmatch(name) for pattern in self.names)


def _display_name(environ: Mapping[str, str], project_dir: Path | None, job: str) -> str | None:
    """``jobs.<job>.name`` of the running workflow, when its file is in the checkout; else None."""
    ref = environ.get("GITHUB_WORKFLOW_REF", "")  # owner/repo/.github/workflows/deploy.yml@refs/heads/main
    repo = environ.get("GITHUB_REPOSITORY", "")
    path = ref.split("@", 1)[0].removeprefix(repo + "/") if repo else ""
    if not path.startswith(".github/workflows/") or ".." in path.split("/"):
        return None
    base = environ.get("GITHUB_WORKSPACE") or (str(project_dir) if project_dir is not None else "")
    if not base:
        return None
    try:
        import yaml

        data: Any = yaml.safe_load((Path(base) / path).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # ValueError: not UTF-8
        return None  # no such file here (another checkout, a called workflow): the job's key still matches
    jobs = data.get("jobs") if isinstance(data, dict) else None
    spec = jobs.get(job) if isinstance(jobs, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None
