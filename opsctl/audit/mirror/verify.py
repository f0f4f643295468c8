"""``opsctl audit verify --remote``: what a local hash chain alone cannot see.

A local chain proves its lines were not edited, deleted or reordered, but not
that it is *complete*: cutting lines off its end leaves a valid chain, and so
does rewriting the end and re-hashing. The central copy catches both:

1. every central line still matches its own hash, and lines of one log that
   follow each other still chain (the central copy was not edited);
2. each log's checkpoints chain (none removed or replaced), carry a valid
   signature when a key is configured, and agree with the central lines;
3. this host's log holds every line the centre has seen, with the same hash
   (no cut tail, no divergent rewrite), and its last known checkpoint is
   still in the bucket (the centre was not cut either).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsctl.audit.line import GENESIS, chain_line
from opsctl.audit.mirror.checkpoint import Checkpoint, object_hash, signed_message
from opsctl.audit.mirror.layout import snapshot
from opsctl.audit.mirror.remote import RemoteObject, RemoteStore

if TYPE_CHECKING:
    from opsctl.audit.mirror import MirrorSite
    from opsctl.audit.mirror.signing import Verifier
    from opsctl.audit.mirror.uploader import Mirror

MAX_PROBLEMS = 20


@dataclass
class RemoteVerifyResult:
    problems: list[str] = field(default_factory=list)
    logs: int = 0
    objects: int = 0
    events: int = 0
    checkpoints: int = 0
    signed: int = 0
    signatures_checked: bool = False
    local_log: str | None = None
    matched: int = 0
    not_mirrored: int = 0
    seconds: float = 0.0
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    @property
    def message(self) -> str:
        sigs = f"{self.signed} signed" + ("" if self.signatures_checked or not self.signed else ", not checked: no key")
        mine = (
            f"; this log ({self.local_log}): {self.matched} events match, {self.not_mirrored} not mirrored yet"
            if self.local_log
            else ""
        )
        return (
            f"central audit trail consistent: {self.objects} run objects from {self.logs} logs, "
            f"{self.events} events, {self.checkpoints} checkpoints ({sigs}){mine}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "more_problems": self.more_problems,
            "logs": self.logs,
            "objects": self.objects,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "signed": self.signed,
            "signatures_checked": self.signatures_checked,
            "local_log": self.local_log,
            "matched": self.matched,
            "not_mirrored": self.not_mirrored,
            "seconds": round(self.seconds, 3),
        }


# log id -> seq -> (hash, prev, key)
Central = dict[str, dict[int, tuple[str, str, str]]]


def verify_remote(site: MirrorSite) -> RemoteVerifyResult:
    """Check the central copy of ``site``'s mirror, and this host's log against it (BadInput without audit.s3)."""
    from opsctl.audit.mirror.signing import make_verifier
    from opsctl.audit.mirror.uploader import Mirror

    started = time.monotonic()
    mirror = Mirror(site)
    verifier = make_verifier(mirror.config)
    store = RemoteStore.for_site(site)
    result = RemoteVerifyResult(signatures_checked=verifier is not None)
    objects, checkpoints = store.everything()
    central = _check_objects(objects, result)
    pins = _check_checkpoints(checkpoints, central, verifier, result)
    result.logs = len(set(central) | set(pins))
    _check_local(mirror, central, pins, result)
    result.seconds = time.monotonic() - started
    return result


def _check_objects(objects: list[RemoteObject], result: RemoteVerifyResult) -> Central:
    central: Central = defaultdict(dict)
    result.objects = len(objects)
    for obj in objects:
        for number, line in enumerate(obj.body.splitlines(), start=1):
            fields = chain_line(line)
            if fields is None or not fields.intact:
                result.add(f"{obj.key} line {number}: content does not match its hash (the central copy was edited)")
                continue
            result.events += 1
            known = central[obj.log].get(fields.seq)
            if known is not None and known[0] != fields.hash:
                result.add(f"log {obj.log} seq {fields.seq}: two different events ({known[2]} and {obj.key})")
            central[obj.log][fields.seq] = (fields.hash, fields.prev, obj.key)
    for log, lines in central.items():
        for seq in sorted(lines):
            before = lines.get(seq - 1)
            if before is not None and lines[seq][1] != before[0]:
                result.add(f"log {log}: central seq {seq} does not follow seq {seq - 1} ({lines[seq][2]})")
    return central


def _check_checkpoints(
    objects: list[RemoteObject], central: Central, verifier: Verifier | None, result: RemoteVerifyResult
) -> dict[str, list[Checkpoint]]:
    """Each log's checkpoints, oldest first, after checking their chain, signatures and pins."""
    result.checkpoints = len(objects)
    by_log: dict[str, list[tuple[RemoteObject, Checkpoint]]] = defaultdict(list)
    for obj in objects:
        try:
            checkpoint = Checkpoint.parse(obj.body)
        except ValueError as exc:
            result.add(f"{obj.key}: not a valid checkpoint ({exc})")
            continue
        if checkpoint.log != obj.log or f"{checkpoint.last_seq:012d}" != obj.name:
            result.add(f"{obj.key}: names log {checkpoint.log} seq {checkpoint.last_seq}; it was moved or edited")
            continue
        by_log[obj.log].append((obj, checkpoint))
    pins: dict[str, list[Checkpoint]] = {}
    for log, entries in by_log.items():
        previous, seen_signed = GENESIS, False
        for obj, checkpoint in entries:
            if checkpoint.prev_checkpoint != previous:
                result.add(f"{obj.key}: does not follow the checkpoint before it (one was removed or replaced)")
            previous = object_hash(obj.body)
            if checkpoint.sig is not None:
                result.signed += 1
                seen_signed = True
                if verifier is not None:
                    problem = verifier.problem(checkpoint.sig, signed_message(checkpoint))
                    if problem:
                        result.add(f"{obj.key}: {problem}")
            elif verifier is not None and seen_signed:
                result.add(f"{obj.key}: unsigned although earlier checkpoints of this log are signed")
            line = central.get(log, {}).get(checkpoint.last_seq)
            if line is not None and line[0] != checkpoint.head:
                result.add(
                    f"{obj.key}: pins seq {checkpoint.last_seq} to {checkpoint.head[:12]}, "
                    f"but the central line ({line[2]}) is {line[0][:12]}"
                )
        if verifier is not None and not seen_signed:
            result.add(f"log {log}: no checkpoint is signed although audit.s3 configures a signing key")
        pins[log] = [checkpoint for _, checkpoint in entries]
    return pins


def _check_local(
    mirror: Mirror, central: Central, pins: dict[str, list[Checkpoint]], result: RemoteVerifyResult
) -> None:
    snap = snapshot(mirror.audit.path, hashes=True)
    state = mirror.read_state()
    if snap.log is None:
        return
    result.local_log = log = snap.log
    if state.get("log") and state["log"] != log:
        result.add(f"the local audit log was replaced: the mirror last saw log {state['log']}, now it is {log}")
    known = state.get("checkpoint") if state.get("log") == log else None
    if known and not any(c.last_seq == known.get("seq") for c in pins.get(log, [])):
        result.add(
            f"{known.get('key')}: this host wrote it, but it is gone from the bucket (central checkpoints were removed)"
        )
    remote = {seq: line[0] for seq, line in central.get(log, {}).items()}
    for checkpoint in pins.get(log, []):
        remote.setdefault(checkpoint.last_seq, checkpoint.head)
    cut = [seq for seq in remote if seq > snap.last_seq]
    if cut:
        result.add(
            f"the local log ends at seq {snap.last_seq}, but the central copy has events up to seq {max(cut)}: "
            f"{len(cut)} line(s) were cut off its tail"
        )
    differ = sorted(seq for seq, digest in remote.items() if seq <= snap.last_seq and snap.hashes.get(seq) != digest)
    if differ:
        first = differ[0]
        result.add(
            f"the local log disagrees with the central copy at {len(differ)} line(s), first at seq {first} "
            f"(local {str(snap.hashes.get(first, 'missing'))[:12]}, central {remote[first][:12]})"
        )
    result.matched = sum(1 for seq, digest in remote.items() if snap.hashes.get(seq) == digest)
    pinned = max((c.last_seq for c in pins.get(log, [])), default=0)
    result.not_mirrored = sum(1 for seq in snap.hashes if seq > pinned and seq not in remote)
