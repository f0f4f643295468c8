"""Every read of the audit log (the log is also the run journal), in one place.

- :mod:`~opsctl.audit.query.read`: the one reader (``read_events``, ``run_events``);
- :mod:`~opsctl.audit.query.select`: ``EventFilter`` and ``find_events`` (``audit show``);
- :mod:`~opsctl.audit.query.since`: ``parse_since`` (``--since`` of ``audit show``, ``report``, ``runs``);
- :mod:`~opsctl.audit.query.summary`: ``RunSummary``, ``summarize`` (what a run is, from its run-level events);
- :mod:`~opsctl.audit.query.runs`: ``load_runs`` (``runs``, ``status``, ``report``, resume);
- :mod:`~opsctl.audit.query.releases`: ``release_history`` and ``last_verified`` (``releases``, rollback);
- :mod:`~opsctl.audit.query.supersede`: ``superseding_run`` (a later run changed the environment: no resume);
- :mod:`~opsctl.audit.query.history`: ``newest_verified`` (``status``), reading only as far back as its answer;
- :mod:`~opsctl.audit.query.window`: ``window_events`` (``report --since``), only the runs active in the window;
- :mod:`~opsctl.audit.query.remote`: everyone's history, merged from the S3 mirror's store.

Functions take a log's path or an :class:`~opsctl.audit.log.AuditLog`; none
needs a workspace. Reads go through the audit index (:mod:`opsctl.audit.index`)
when it can answer, and read the log itself otherwise, with the same result.
Lists for people to read (``release_history``, ``newest_first``) are newest
first; lists for computing are oldest first.
"""

from __future__ import annotations

from opsctl.audit.query.history import newest_verified
from opsctl.audit.query.read import LogSource, collector_paused, field_mark, read_events, run_events
from opsctl.audit.query.releases import (
    ReleaseRecord,
    last_judged,
    last_verified,
    release_history,
    verified_releases,
)
from opsctl.audit.query.remote import load_remote_runs, merged_events, run_id_floor
from opsctl.audit.query.runs import (
    DEPLOYING,
    RUN_MARK,
    RUN_STATUSES,
    TERMINAL,
    Requested,
    RunSummary,
    load_runs,
    newest_first,
    release_image,
    summarize,
)
from opsctl.audit.query.select import EventFilter, find_events
from opsctl.audit.query.since import parse_since
from opsctl.audit.query.supersede import changed_platform, describe_run, superseding_run
from opsctl.audit.query.window import window_events

__all__ = [
    "DEPLOYING",
    "RUN_MARK",
    "RUN_STATUSES",
    "TERMINAL",
    "EventFilter",
    "LogSource",
    "ReleaseRecord",
    "Requested",
    "RunSummary",
    "changed_platform",
    "collector_paused",
    "describe_run",
    "field_mark",
    "find_events",
    "last_judged",
    "last_verified",
    "load_remote_runs",
    "load_runs",
    "merged_events",
    "newest_first",
    "newest_verified",
    "parse_since",
    "read_events",
    "release_history",
    "release_image",
    "run_events",
    "run_id_floor",
    "summarize",
    "superseding_run",
    "verified_releases",
    "window_events",
]
