"""verify_before_run: a run refuses a broken chain, and checks only what was appended since the last run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opsctl.audit.log import AuditLog, ChainPosition, VerifyResult
from opsctl.audit.precheck import CACHE_NAME, verify_before_run
from opsctl.errors import BadInput
from tests.support.audit import event, lines_of, make_log, write_lines


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[ChainPosition | None]:
    """Record where each verification starts."""
    starts: list[ChainPosition | None] = []
    real = AuditLog.verify

    def verify(self: AuditLog, since: ChainPosition | None = None) -> VerifyResult:
        starts.append(since)
        return real(self, since)

    monkeypatch.setattr(AuditLog, "verify", verify)
    return starts


def test_the_first_check_reads_everything_and_caches_where_it_got(path: Path) -> None:
    log = make_log(path, 3)
    result = verify_before_run(log)
    assert (result.ok, result.events) == (True, 3)
    cached = json.loads((path.parent / CACHE_NAME).read_text())
    size = path.stat().st_size
    last = lines_of(path)[-1]
    assert cached == {
        "v": 1,
        "offset": size,
        "lines": 3,
        "events": 3,
        "head": json.loads(last)["hash"],
        "last_seq": 3,
        "tail": len(last),
    }


def test_later_checks_verify_only_what_was_appended(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 3)
    verify_before_run(log)
    first_size = path.stat().st_size
    log.append(event(4))
    log.append(event(5))
    starts = _spy(monkeypatch)
    result = verify_before_run(log)
    assert (result.ok, result.events, result.last_seq) == (True, 5, 5)
    assert starts[0] is not None
    assert starts[0].offset == first_size
    assert result.reached.offset == path.stat().st_size
    assert verify_before_run(log).events == 5  # and again, with nothing new


def test_a_bad_line_after_the_cached_position_stops_the_run(path: Path) -> None:
    log = make_log(path, 3)
    verify_before_run(log)
    log.append(event(4))
    lines = lines_of(path)
    lines[3] = lines[3].replace(b"step-4", b"step-X")
    write_lines(path, lines)
    with pytest.raises(BadInput) as refused:
        verify_before_run(log)
    assert str(refused.value) == (
        f"the audit log {path} does not verify: line 4: content does not match its hash (the line was edited); "
        "nothing was started. `opsctl audit verify` shows it; to go on, move the damaged log aside "
        f"(mv {path} {path}.damaged) or restore it from a backup or the S3 audit mirror"
    )


def test_a_rewritten_log_is_verified_from_the_start_again(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 4)
    verify_before_run(log)
    lines = lines_of(path)
    write_lines(path, [lines[0], lines[2], lines[3]])  # line 2 deleted: the cached last line moved
    starts = _spy(monkeypatch)
    with pytest.raises(BadInput) as refused:
        verify_before_run(log)
    assert starts == [None]
    assert "line 2: does not follow the line before it (seq 3 after 1): events were deleted or moved" in str(
        refused.value
    )


def test_a_cut_log_is_verified_from_the_start_again(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 4)
    verify_before_run(log)
    write_lines(path, lines_of(path)[:2])
    starts = _spy(monkeypatch)
    assert verify_before_run(log).events == 2
    assert starts == [None]


def test_a_torn_tail_does_not_stop_the_run_and_its_recovery_verifies(path: Path) -> None:
    log = make_log(path, 3)
    verify_before_run(log)
    with path.open("ab") as handle:
        handle.write(b'{"seq":4,"ts":"2026')  # a crash during the last write
    result = verify_before_run(log)
    assert result.truncated_tail
    log.append(event(5))  # the run's first event records the recovery
    assert verify_before_run(log).ok
    assert log.verify().ok


@pytest.mark.parametrize("content", ["{not json", '{"v": 1, "offset": -4}', '{"v": 99}', "[]"])
def test_a_damaged_cache_is_ignored(path: Path, content: str, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 2)
    (path.parent / CACHE_NAME).write_text(content)
    starts = _spy(monkeypatch)
    assert verify_before_run(log).events == 2
    assert starts == [None]


def test_a_log_not_written_yet_needs_no_check_and_no_cache(path: Path) -> None:
    path.parent.mkdir()
    assert verify_before_run(AuditLog(path)).events == 0
    assert not (path.parent / CACHE_NAME).exists()


def test_a_cache_that_cannot_be_written_is_no_error(path: Path) -> None:
    log = make_log(path, 2)
    (path.parent / CACHE_NAME).mkdir()  # a folder where the cache goes
    assert verify_before_run(log).events == 2


def test_the_cached_position_must_match_the_line_it_names(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log(path, 3)
    verify_before_run(log)
    cache = path.parent / CACHE_NAME
    data: dict[str, Any] = json.loads(cache.read_text())
    cache.write_text(json.dumps({**data, "head": "f" * 64}))
    starts = _spy(monkeypatch)
    assert verify_before_run(log).events == 3
    assert starts == [None]
