"""The Kubernetes Lease lock against the stand-in API server: races, expiry, renewal, ownership, force release."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opsctl.config import Locks
from opsctl.errors import BadInput, Locked
from opsctl.locks.base import LockInfo, LockLost
from opsctl.locks.lease import LeaseLockBackend, lease_name
from opsctl.platforms.kube.api import KubeApi
from opsctl.platforms.kube.client import connect
from tests.support.kube_api import KubeApiServer, kube_api_fixture, kubeconfig_fixture

NAME = "opsctl-hotel-voice-bot-staging"


kube_api = kube_api_fixture


kubeconfig = kubeconfig_fixture


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _backend(kubeconfig: Path, *, ttl: float = 60.0, clock: Clock | None = None, **kw: float) -> LeaseLockBackend:
    config = Locks(backend="kubernetes", namespace="hvb", kubeconfig=str(kubeconfig), context="hvb-staging", ttl=ttl)
    api = KubeApi(connect(config.kubeconfig, config.context))
    return LeaseLockBackend(
        config, "hotel-voice-bot", api=api, clock=clock or Clock(), heartbeat=kw.get("heartbeat", 3600)
    )


def _info(actor: str, run: str | None = None) -> LockInfo:
    run = run or f"r-{actor.split('@', maxsplit=1)[0]}"
    return LockInfo.for_run("staging", run, actor, "deploy", run)


def test_acquire_writes_a_lease_naming_the_run_and_actor(kubeconfig: Path, kube_api: KubeApiServer) -> None:
    backend = _backend(kubeconfig)
    handle = backend.acquire(_info("alice@example.com"))
    lease = kube_api.lease("hvb", NAME)
    assert lease is not None
    assert lease["spec"]["holderIdentity"] == "r-alice alice@example.com"
    assert lease["spec"]["leaseDurationSeconds"] == 60
    assert lease["metadata"]["annotations"]["opsctl.dev/generation"] == "1"
    assert handle.token.generation == 1
    status = backend.status("staging")
    assert status is not None
    assert (status.run, status.actor, status.lock_id) == (
        "r-alice",
        "alice@example.com",
        "r-alice",
    )
    handle.release()
    freed = kube_api.lease("hvb", NAME)
    assert freed is not None
    assert freed["spec"]["holderIdentity"] is None
    assert backend.status("staging") is None
    again = backend.acquire(_info("bob@example.com"))
    assert again.token.generation == 2, "the fencing generation only grows"
    again.release()


def test_a_held_lease_is_exit_4_naming_the_holder(kubeconfig: Path) -> None:
    backend = _backend(kubeconfig)
    handle = backend.acquire(_info("alice@example.com"))
    with pytest.raises(Locked) as caught:
        _backend(kubeconfig).acquire(_info("bob@example.com"))
    message = str(caught.value)
    assert message.startswith("staging is locked by run r-alice (deploy) by alice@example.com on ")
    assert message.endswith("; wait for it to finish, or see `opsctl lock status staging`")
    assert caught.value.exit_code == 4
    handle.release()


def test_ten_threads_race_exactly_one_wins(kubeconfig: Path) -> None:
    barrier = threading.Barrier(10)
    wins: list[str] = []
    losses: list[str] = []

    def contend(n: int) -> None:
        backend = _backend(kubeconfig)
        barrier.wait()
        try:
            backend.acquire(_info(f"user{n}@example.com"))
            wins.append(str(n))
        except (Locked, BadInput) as exc:
            losses.append(str(exc))

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1, (wins, losses)
    assert len(losses) == 9


def test_an_expired_lease_is_taken_over_and_the_old_holder_stops(kubeconfig: Path) -> None:
    clock = Clock()
    old = _backend(kubeconfig, clock=clock).acquire(_info("alice@example.com"))
    clock.now += 61
    new = _backend(kubeconfig, clock=clock).acquire(_info("bob@example.com"))
    assert new.token.generation == 2
    with pytest.raises(LockLost) as caught:
        old.check()
    assert str(caught.value) == "lost the lock on staging: it was broken or taken over"
    assert caught.value.holder is not None
    assert caught.value.holder.actor == "bob@example.com"
    old.release()  # never frees bob's lease
    assert _backend(kubeconfig, clock=clock).status("staging") is not None
    new.check()
    new.release()


def test_renewal_keeps_the_lease_alive(kubeconfig: Path, kube_api: KubeApiServer) -> None:
    clock = Clock()
    handle = _backend(kubeconfig, clock=clock).acquire(_info("alice@example.com"))
    clock.now += 50
    handle.check()  # renews
    lease = kube_api.lease("hvb", NAME)
    assert lease is not None
    assert lease["spec"]["renewTime"].startswith("2027-01-15T08:00:50")
    clock.now += 50  # 100 s after acquiring, 50 s after the renewal: still ours
    with pytest.raises(Locked):
        _backend(kubeconfig, clock=clock).acquire(_info("bob@example.com"))
    handle.release()


def test_the_heartbeat_renews_in_the_background(kubeconfig: Path, kube_api: KubeApiServer) -> None:
    handle = _backend(kubeconfig, heartbeat=0.1).acquire(_info("alice@example.com"))
    first = kube_api.lease("hvb", NAME)
    assert first is not None
    renewals = lambda: len(kube_api.calls("PUT", NAME))  # noqa: E731
    threading.Event().wait(0.5)
    assert renewals() >= 2
    handle.release()


def test_force_release_needs_the_exact_lock_id(kubeconfig: Path) -> None:
    backend = _backend(kubeconfig)
    handle = backend.acquire(_info("alice@example.com"))
    with pytest.raises(BadInput) as caught:
        backend.force_release("staging", None)
    assert str(caught.value) == (
        "breaking staging's shared lock needs --id LOCK_ID, exactly as `opsctl lock status staging` shows it"
    )
    with pytest.raises(BadInput) as caught:
        backend.force_release("staging", "r-other")
    assert str(caught.value) == "--id r-other does not match the lock held (r-alice); nothing was released"
    removed = backend.force_release("staging", "r-alice")
    assert removed is not None
    assert removed.actor == "alice@example.com"
    assert backend.status("staging") is None
    with pytest.raises(LockLost):
        handle.check()
    assert backend.force_release("staging", "r-alice") is None, "free already"


def test_lost_api_server_keeps_the_lock_only_until_the_last_renewal_runs_out(
    kubeconfig: Path, kube_api: KubeApiServer
) -> None:
    clock = Clock()
    handle = _backend(kubeconfig, clock=clock).acquire(_info("alice@example.com"))
    kube_api.stop_listening()
    handle.check()  # unreachable, but nobody can have taken it within the TTL
    clock.now += 61
    with pytest.raises(LockLost):
        handle.check()


def test_namespace_is_required_and_names_are_dns_safe() -> None:
    with pytest.raises(BadInput) as caught:
        LeaseLockBackend(Locks(backend="kubernetes"), "hvb")
    assert str(caught.value) == "locks.backend kubernetes needs locks.namespace: the namespace of the Lease objects"
    assert lease_name("hvb", "staging") == "opsctl-hvb-staging"
    assert lease_name("HVB", "eu_prod") == "opsctl-hvb-eu-prod-" + lease_name("HVB", "eu_prod")[-8:]
    assert lease_name("HVB", "eu_prod") != lease_name("hvb", "eu-prod")
