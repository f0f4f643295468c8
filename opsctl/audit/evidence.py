"""Runs as evidence for reads that grant permission: with a key, only what keyed events say counts.

"hvb:9.9.9 was verified on staging" lets it into production (promotion,
``audit.verified_in``) and makes it a rollback target. Anyone who can write
the log can append such a claim with recomputed hashes; they cannot make its
HMAC without ``audit.hmac_key_env``'s key (:mod:`opsctl.audit.keyed`). So a
run counts as verified only if its run-level events *with a valid HMAC*, on
their own, say the same: succeeded, verified, the same image and release.

Without a key configured nothing changes: the log's own word is taken, and
the chain is tamper-evident against accidental and naive edits only.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from opsctl.audit.keyed import CONFIG_KEY
from opsctl.audit.log import AuditLog, decode_line, line_keyed
from opsctl.audit.logfile import log_error, open_log
from opsctl.audit.query import RUN_MARK, RunSummary, load_runs, summarize


@dataclass(frozen=True)
class Evidence:
    """The runs of one environment as the log states them, and those whose verification is not keyed."""

    runs: list[RunSummary]
    unkeyed: frozenset[str] = frozenset()  # ids of runs claiming `verified` without keyed events to say so

    def counts(self, run: RunSummary) -> bool:
        """The run's verification may grant permission."""
        return run.run not in self.unkeyed

    def trusted(self) -> list[RunSummary]:
        """The runs, with an unkeyed verification no verification at all (for picking rollback targets)."""
        return [dataclasses.replace(r, verified=False) if r.run in self.unkeyed else r for r in self.runs]


def refusal(run: RunSummary) -> str:
    """Why a run's verification does not count (one line, naming the run and the setting)."""
    return (
        f"the verification record of run {run.run} in {run.env} has no valid HMAC ({CONFIG_KEY}); refusing to count it"
    )


def run_evidence(log: AuditLog, env: str | None = None) -> Evidence:
    """The runs of ``env`` (all when None), oldest first, with the unkeyed verifications named.

    With a key, the run-level lines are read raw once to check their HMACs
    (ConfigError when the key's variable is not set).
    """
    if log.key is None:
        return Evidence(load_runs(log.path, env))
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
    unkeyed = frozenset(r.run for r in runs if r.verified and not _same_verification(r, said.get(r.run)))
    return Evidence(runs, unkeyed)


def _same_verification(stated: RunSummary, keyed: RunSummary | None) -> bool:
    """The keyed events alone tell the same verified outcome as all of them."""
    return (
        keyed is not None
        and keyed.verified
        and (keyed.status, keyed.runbook, keyed.env, keyed.image, keyed.release_after)
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
