"""Release history read newest first from the audit index, for commands that show only the newest part.

``status`` wants the last verified release, ``releases`` the newest twenty:
both stop as soon as they have it, so their cost follows what they show,
not two years of history. Each answer is the one the whole list gives
(:func:`~opsctl.audit.query.releases.last_verified` over every run), which
is what they fall back to when the index cannot answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsctl.audit.index.scan import TS_PATTERN
from opsctl.audit.query.read import LogSource, log_path
from opsctl.audit.query.releases import BAD_VERDICTS, ReleaseRecord, last_verified, release_history
from opsctl.audit.query.runs import load_runs
from opsctl.audit.query.summary import DEPLOYING

if TYPE_CHECKING:
    from opsctl.audit.index import Index

BATCH = 50  # runs read per step, newest first


def newest_verified(source: LogSource, env: str) -> ReleaseRecord | None:
    """``last_verified(load_runs(source, env), env)``, reading only as far back as the answer."""
    from opsctl.audit.index import ask

    found = ask(log_path(source), lambda index: _newest_verified(index, env))
    if found is not None:
        return found[0]
    return last_verified(load_runs(source, env, runbooks=DEPLOYING), env)


def _newest_verified(index: Index, env: str) -> ReleaseRecord | None:
    # Newest first, as last_verified reads: the first verified release that no bad record of the same image
    # followed (a later `when`). Newer records were all seen on the way; an older run that ended later
    # (runs that overlapped) is looked up by its end time.
    bad_after: dict[str, str] = {}  # image -> the latest `when` of a bad record seen so far
    seen = 0
    while True:
        runs = index.runs(env, last=seen + BATCH, runbooks=DEPLOYING)
        batch = runs[: len(runs) - seen]
        for record in release_history(batch, env):
            if (
                record.verdict == "verified"
                and not bad_after.get(record.image, "") > record.when
                and not _failed_later(index, env, record)
            ):
                return record
            if record.verdict in BAD_VERDICTS and record.when > bad_after.get(record.image, ""):
                bad_after[record.image] = record.when
        if len(runs) < seen + BATCH:
            return None
        seen += BATCH


def _failed_later(index: Index, env: str, record: ReleaseRecord) -> bool:
    order = index.run_order(record.run)
    if order is None:
        return False
    # A time opsctl did not write does not sort as text: then every older run is looked at.
    older = index.runs_before(env, order, record.when if TS_PATTERN.fullmatch(record.when) else "")
    return any(r.image == record.image and r.bad and r.when > record.when for r in release_history(older, env))
