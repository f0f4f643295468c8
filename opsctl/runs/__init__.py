"""A run: lock, journal, policy, steps, automatic rollback, resume.

- ``run.py``: ``execute`` starts a run of a runbook and drives its steps;
- ``resume.py``: continues an interrupted run (and finds the latest one);
- ``stale.py``: runs whose process is gone (interrupted) or whose environment moved on (superseded);
- ``rollback.py``: the automatic rollback inside a failed run;
- ``confirm.py`` and ``policy.py``: what must hold before each change;
- ``locking.py``: the environment's lock for the length of a run;
- ``announce.py``: notifications at start and end;
- ``checklist.py``: ``opsctl checklist run`` as a run of its own;
- ``result.py``: ``RunOptions`` in, ``RunResult`` out.
"""

from opsctl.runs.checklist import run_named_checklist
from opsctl.runs.result import Declined, RunOptions, RunResult
from opsctl.runs.resume import latest_interrupted, resume
from opsctl.runs.run import execute

__all__ = ["Declined", "RunOptions", "RunResult", "execute", "latest_interrupted", "resume", "run_named_checklist"]
