"""Runs as evidence for reads that grant permission: with a key, only what keyed events say counts.

"hvb:9.9.9 was verified on staging" lets it into production (promotion,
``audit.verified_in``) and makes it a rollback target. Anyone who can write
the log can append such a claim with recomputed hashes; they cannot make its
HMAC without ``audit.hmac_key_env``'s key (:mod:`opsctl.audit.keyed`). So a
run counts as verified only if its run-level events *with a valid HMAC*, on
their own, say the same: succeeded, verified, the same image and release.

Without a key configured nothing changes: the log's own word is taken, and
the chain is tamper-evident against accidental and naive edits only.

With ``audit.s3`` signing its checkpoints, a run counts only if the signed
central record covers it too (``central``, :mod:`opsctl.audit.mirror.record`):
a forged line never reached the bucket, and the bucket alone cannot vouch for
it without the signing key. Both checks hold when both are configured. The
central one costs S3 requests, so callers ask about the runs that would grant
the permission, newest first, and stop at the first that counts
(:meth:`Evidence.newest_counted`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from opsctl.audit.keyed import CONFIG_KEY
from opsctl.audit.line import decode_line, line_keyed
from opsctl.audit.log import AuditLog
from opsctl.audit.logfile import log_error, open_log
from opsctl.audit.query import RUN_MARK, RunSummary, load_runs, summarize

# A rollback needs the release running now, the one before it, and one more in case the platform can no
# longer deploy that one: checking older verified runs against S3 would cost requests for nothing.
TRUSTED_RELEASES = 3


class CentralRecord(Protocol):
    """A record kept elsewhere that must cover a run's verification too (the signed S3 mirror)."""

    def problem(self, run: RunSummary) -> str | None:
        """None when the record covers ``run``'s verification, else why not (one line)."""
        ...


@dataclass(frozen=True)
class Evidence:
    """The runs of one environment as the log states them, and which of their verifications may count."""

    runs: list[RunSummary]
    unkeyed: frozenset[str] = frozenset()  # ids of runs claiming `verified` without keyed events to say so
    central: CentralRecord | None = None  # with audit.s3 signing: the record a verification must be in

    def why_not(self, run: RunSummary) -> str | None:
        """None when the run's verification may grant permission, else why not (reads S3 with a central record)."""
        if run.run in self.unkeyed:
            return refusal(run)
        return None if self.central is None else self.central.problem(run)

    def counts(self, run: RunSummary) -> bool:
        """The run's verification may grant permission."""
        return self.why_not(run) is None

    def newest_counted(self, candidates: list[RunSummary]) -> RunSummary | None:
        """The newest of ``candidates`` (oldest first, as the log tells them) whose verification counts."""
        return next((run for run in reversed(candidates) if self.counts(run)), None)

    def refusal(self, run: RunSummary) -> str:
        """Why ``run``'s verification does not count (one line naming the run and what to do)."""
        return self.why_not(run) or f"the verification record of run {run.run} in {run.env} does not count"

    def trusted(self) -> list[RunSummary]:
        """The runs, with a verification that does not count no verification at all (for picking rollback targets).

        With a central record, verified runs are checked newest first until
        :data:`TRUSTED_RELEASES` releases count; older ones are not read from
        S3 and count as unverified (a rollback to one names it with ``--to``).
        """
        untrusted = set(self.unkeyed)
        if self.central is not None:
            releases: set[str] = set()
            for run in reversed(self.runs):
                if not run.verified or run.run in untrusted:
                    continue
                if len(releases) >= TRUSTED_RELEASES or not self.counts(run):
                    untrusted.add(run.run)
                else:
                    releases.add(str((run.release_after or {}).get("id") or run.image))
        return [dataclasses.replace(r, verified=False) if r.run in untrusted else r for r in self.runs]


def refusal(run: RunSummary) -> str:
    """Why a run's verification does not count (one line, naming the run and the setting)."""
    return (
        f"the verification record of run {run.run} in {run.env} has no valid HMAC ({CONFIG_KEY}); refusing to count it"
    )


def run_evidence(log: AuditLog, env: str | None = None, *, central: CentralRecord | None = None) -> Evidence:
    """The runs of ``env`` (all when None), oldest first, with the unkeyed verifications named.

    With a key, the run-level lines are read raw once to check their HMACs
    (ConfigError when the key's variable is not set). ``central`` (see
    :func:`opsctl.audit.mirror.record.signed_record`) is asked lazily, run by run.
    """
    if log.key is None:
        return Evidence(load_runs(log.path, env), central=central)
    secret = log.key.secret()
    stated, keyed = [], []
    for line in _run_lines(log.path):
        event = decode_line(line)
        if event is None:
            continue
        stated.append(event)
        if line_keyed(line, secret):
            keyed.append(event)
    runs = [r for r in summarize(stated) if env is None or r.env == env]
    said = {r.run: r for r in summarize(keyed)}
    unkeyed = frozenset(r.run for r in runs if r.verified and not same_verification(r, said.get(r.run)))
    return Evidence(runs, unkeyed, central)


def same_verification(stated: RunSummary, witness: RunSummary | None) -> bool:
    """``witness`` (the keyed events alone, or the central copy's) tells the same verified outcome as ``stated``."""
    return (
        witness is not None
        and witness.verified
        and (witness.status, witness.runbook, witness.env, witness.image, witness.release_after)
        == (stated.status, stated.runbook, stated.env, stated.image, stated.release_after)
    )


def _run_lines(path: Path) -> Iterator[bytes]:
    """The complete run-level lines of the log (without newline), oldest first."""
    if not os.path.lexists(path):
        return
    try:
        with os.fdopen(open_log(path, os.O_RDONLY), "rb") as handle:
            for raw in handle:
                if RUN_MARK in raw and raw.endswith(b"\n"):  # a torn last line is no event yet
                    yield raw[:-1]
    except OSError as exc:
        raise log_error(path, exc) from None
