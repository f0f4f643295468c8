"""LockInfo's times, as every lock store records them."""

from __future__ import annotations

from datetime import UTC, datetime

from opsctl.locks.base import LockInfo, iso

NOON = datetime(2026, 11, 30, 12, 0, 0, 750000, tzinfo=UTC).timestamp()


def test_iso_is_utc_whole_seconds_with_a_z() -> None:
    assert iso(NOON) == "2026-11-30T12:00:00Z"


def test_held_sets_the_expiry_and_keeps_the_holder() -> None:
    info = LockInfo("staging", "r1", "dev@example.com", "deploy", "lock-1", "box", 42, "2026-11-30T11:59:00Z")
    held = info.held(NOON + 7200)
    assert held.expires_at == "2026-11-30T14:00:00Z"
    assert held == LockInfo(**{**info.as_dict(), "expires_at": "2026-11-30T14:00:00Z"})


def test_held_since_moves_the_start_to_when_the_store_took_it() -> None:
    info = LockInfo("staging", "r1", "dev@example.com", "deploy", "lock-1", since="2026-11-30T11:59:00Z")
    held = info.held(NOON + 60, since=NOON)
    assert (held.since, held.expires_at) == ("2026-11-30T12:00:00Z", "2026-11-30T12:01:00Z")


def test_for_run_stamps_now() -> None:
    info = LockInfo.for_run("staging", "r1", "dev@example.com", "deploy", "lock-1")
    stamped = datetime.strptime(info.since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 5
    assert info.expires_at is None
