"""The signed S3 record as the permission-granting gates read it: is this run in it, unchanged?

A run's verification grants permission (promotion, ``audit.verified_in``, a
rollback target); anyone who can write the local log can append one with
recomputed hashes. When ``audit.s3`` signs its checkpoints, a run counts only
if the central record covers it:

1. its run object (``runs/<run>.<log id>.jsonl`` of this host's log) is in
   the bucket, every line intact and equal (same seq, same hash) to the line
   of the local chain, and its run-level events alone tell the same verified
   outcome as the local log;
2. a checkpoint of this log at or after the run's last line carries a valid
   signature, pins the local line at its seq (same hash), and the local chain
   is unbroken from the run's first line up to there. The chain then binds the
   run's lines to the signed head: rewriting them means re-hashing every line
   after them, which the signed head no longer matches.

A run still in the mirror's local queue is not in the record *yet*; the
message says how to push it. Only the run asked about is read (one GET for
its object, one listing from its seq and the checkpoints up to the first
signed one), so the gates stay bounded on long histories. S3 that cannot be
reached is :class:`~opsctl.errors.Unavailable` (exit 5): nothing has changed
yet, try again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from opsctl.audit.evidence import same_verification
from opsctl.audit.line import GENESIS, chain_line, decode_line
from opsctl.audit.log import AuditLog
from opsctl.audit.mirror import MirrorSite
from opsctl.audit.mirror.checkpoint import Checkpoint, signed_message
from opsctl.audit.mirror.layout import (
    CHECKPOINTS,
    checkpoint_key,
    flat_run_key,
    log_id,
    normal_prefix,
    parse_checkpoint_key,
    run_key,
    whole_lines,
)
from opsctl.audit.mirror.s3 import Bucket
from opsctl.audit.query import RUN_MARK, RunSummary, summarize
from opsctl.config import S3Audit
from opsctl.errors import BadInput, Unavailable

if TYPE_CHECKING:
    from opsctl.audit.mirror.signing import Verifier

# S3 errors that mean "not reachable now" (exit 5), as opposed to a setting the user must fix.
_BUSY_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable"})


def signed(s3: S3Audit | None) -> bool:
    """``audit.s3`` signs its checkpoints (or names the public key that checks them)."""
    return s3 is not None and bool(s3.signing_key_env or s3.kms_key_id or s3.public_key)


def signed_record(s3: S3Audit | None, state_dir: Path, log: AuditLog) -> SignedRecord | None:
    """The signed record that ``audit.s3`` keeps of ``log``, or None when the mirror is absent or unsigned.

    An unsigned mirror proves nothing against someone who can also write to the bucket, so it grants nothing
    more than the local log does.
    """
    if s3 is None or not signed(s3):
        return None
    return SignedRecord(MirrorSite(s3, state_dir, log, "-", _utcnow))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class LocalChain:
    """The local log's chain: its id, the hash at each seq, and where the chain breaks (normally nowhere)."""

    log: str | None = None
    hashes: dict[int, str] = field(default_factory=dict)
    breaks: list[int] = field(default_factory=list)  # seqs whose line is edited or does not follow the one before

    def unbroken(self, first: int, last: int) -> bool:
        """Every line from ``first`` to ``last`` is intact and chains to the one before it."""
        return all(seq in self.hashes for seq in (first, last)) and not any(first <= s <= last for s in self.breaks)


def read_chain(path: Path) -> LocalChain:
    """Read ``path`` once under a shared lock (writers hold it exclusively, so no half line is seen)."""
    chain = LocalChain()
    last_seq, last_hash = 0, GENESIS
    for _, fields in whole_lines(path):
        if chain.log is None:
            chain.log = log_id(fields.hash)
        if not fields.intact or fields.prev != last_hash or fields.seq != last_seq + 1:
            chain.breaks.append(fields.seq)
        chain.hashes[fields.seq] = fields.hash
        last_seq, last_hash = fields.seq, fields.hash
    return chain


class SignedRecord:
    """Answers, per run, whether the signed S3 record covers its verification (see the module docstring)."""

    def __init__(
        self,
        site: MirrorSite,
        *,
        bucket: Bucket | None = None,
        verifier: Callable[[], Verifier | None] | None = None,
    ) -> None:
        self.site = site
        self.config = site.require_s3()
        self.bucket = bucket or Bucket(self.config)
        self._make_verifier = verifier
        self._verifier: Verifier | None = None
        self._chain: LocalChain | None = None
        self._answers: dict[str, str | None] = {}

    def problem(self, run: RunSummary) -> str | None:
        """None when the record covers ``run``'s verification, else why not (one line).

        Raises Unavailable (exit 5) when S3 cannot be reached, BadInput when
        the key that checks the signatures is missing.
        """
        if run.run not in self._answers:
            self._answers[run.run] = self._problem(run)
        return self._answers[run.run]

    def _problem(self, run: RunSummary) -> str | None:
        from opsctl.audit.mirror.uploader import Mirror

        if run.run in Mirror(self.site).queued():  # local only: no S3 call for a run still waiting to go up
            return (
                f"run {run.run} in {run.env} is not yet in the signed S3 audit record; "
                "run `opsctl audit push` and try again"
            )
        missing = (
            f"the verification record of run {run.run} in {run.env} is not in the signed S3 audit record; "
            "refusing to count it"
        )
        chain = self._local()
        if chain.log is None:
            return missing
        seqs = self._central_lines(run, chain)
        if seqs is None or not self._signed_cover(chain, min(seqs), max(seqs)):
            return missing
        return None

    def _local(self) -> LocalChain:
        if self._chain is None:
            self._chain = read_chain(self.site.audit.path)
        return self._chain

    def _central_lines(self, run: RunSummary, chain: LocalChain) -> list[int] | None:
        """The seqs of ``run``'s central lines when they are intact, in the local chain and tell its verdict."""
        assert chain.log is not None  # noqa: S101 - the caller checked
        body = self._get(run_key(self.config.prefix, run.run, chain.log), run) or self._get(
            flat_run_key(self.config.prefix, run.run, chain.log),
            run,  # mirrored before the day partitions
        )
        if not body:
            return None
        seqs, events = [], []
        for line in body.splitlines():
            fields = chain_line(line)
            if fields is None or not fields.intact or chain.hashes.get(fields.seq) != fields.hash:
                return None
            seqs.append(fields.seq)
            event = decode_line(line) if RUN_MARK in line else None
            if event is not None:
                events.append(event)
        central = next((r for r in summarize(events) if r.run == run.run), None)
        return seqs if same_verification(run, central) else None

    def _signed_cover(self, chain: LocalChain, first: int, last: int) -> bool:
        """The first signed checkpoint of this log at or after seq ``last`` verifies and pins the local chain."""
        assert chain.log is not None  # noqa: S101 - the caller checked
        folder = f"{normal_prefix(self.config.prefix)}{CHECKPOINTS}{chain.log}/"
        start = checkpoint_key(self.config.prefix, chain.log, last - 1)
        for key in self._listing(folder, start):
            parsed = parse_checkpoint_key(self.config.prefix, key)
            if parsed is None:
                continue
            try:
                checkpoint = Checkpoint.parse(self._get(key, None) or b"")
            except ValueError:
                continue  # not a checkpoint: it pins nothing
            if checkpoint.sig is None:
                continue  # written before signing began; a later signed one covers the run too
            if (checkpoint.log, checkpoint.last_seq) != parsed:
                return False
            verifier = self._verifier_or_fail()
            if verifier.problem(checkpoint.sig, signed_message(checkpoint)) is not None:
                return False
            return chain.hashes.get(checkpoint.last_seq) == checkpoint.head and chain.unbroken(
                first, checkpoint.last_seq
            )
        return False

    def _verifier_or_fail(self) -> Verifier:
        if self._verifier is None:
            from opsctl.audit.mirror.signing import make_verifier

            made = self._make_verifier() if self._make_verifier else make_verifier(self.config)
            if made is None:
                raise BadInput(
                    f"audit.s3.signing_key_env names {self.config.signing_key_env}, which is not set: the signed "
                    "S3 audit record cannot be checked; set it, or set audit.s3.public_key"
                )
            self._verifier = made
        return self._verifier

    def _get(self, key: str, run: RunSummary | None) -> bytes | None:
        """The object at ``key``, or None when there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        from opsctl.aws.errors import error_code

        try:
            return self.bucket.get(key)
        except (BotoCoreError, ClientError) as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._failure(exc, f"reading s3://{self.bucket.name}/{key}", run) from None

    def _listing(self, folder: str, start: str) -> Iterator[str]:
        """The keys under ``folder`` after ``start``, a page at a time (the first one usually suffices)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for key, _ in self.bucket.list(folder, start):
                yield key
        except (BotoCoreError, ClientError) as exc:
            raise self._failure(exc, f"listing s3://{self.bucket.name}/{folder}", None) from None

    def _failure(self, exc: BaseException, what: str, run: RunSummary | None) -> Exception:
        reason = unavailable(exc)
        if reason is None:
            return self.bucket.problem(exc, what)  # credentials, a missing bucket, a refusal: the user fixes it
        counting = f" to count run {run.run} of {run.env}" if run is not None else ""
        return Unavailable(
            f"cannot read the signed S3 audit record s3://{self.bucket.name}/{normal_prefix(self.config.prefix)}"
            f"{counting}: {reason}; nothing was changed, try again"
        )


def unavailable(exc: BaseException) -> str | None:
    """Why S3 cannot be used right now (unreachable, timing out, busy), or None for any other failure."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    from opsctl.aws.errors import error_code, http_status

    # ConnectTimeoutError is also an EndpointConnectionError: ask about time first.
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return "S3 did not answer in time"
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return "S3 is unreachable"
    if isinstance(exc, ClientError) and (http_status(exc) >= 500 or error_code(exc) in _BUSY_CODES):
        return f"S3 answered {error_code(exc) or http_status(exc)}"
    return None
