"""Actions, notifications and health read the run's typed request and state (not string keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.engine.request import RunRequest
from opsctl.errors import BadInput
from opsctl.health.probes import expected_version
from opsctl.notify import message_context
from opsctl.runs import run_named_checklist
from tests.support.context import make_ctx, make_workspace
from tests.support.util import checklist, write_checklist

DIGEST = "sha256:" + "4f" * 32


def test_the_expected_version_is_the_tag_of_the_release_even_when_pinned_by_digest(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.state.release = {"id": "hvb-staging:8", "image": f"ghcr.io/team/hvb:1.8.0@{DIGEST}"}
    assert expected_version(ctx, None) == "1.8.0"

    ctx.state.release = {"id": "hvb-staging:9", "image": f"hvb@{DIGEST}"}
    assert expected_version(ctx, None) == DIGEST

    # What a platform reported may be no reference at all: the release's own tag is the answer then.
    ctx.state.release = {"id": "m1", "image": "?", "tag": "1.8.0"}
    assert expected_version(ctx, None) == "1.8.0"


def test_messages_name_the_requested_image_and_the_recorded_releases(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, request=RunRequest.build(image="hvb:1.8.0", incident="INC-7", reason="crash"))
    ctx.state.previous = {"id": "hvb-staging:7", "image": "hvb:1.7.0"}

    started = message_context(ctx, "deploy.started")
    assert (started["image_before"], started["image_after"]) == ("hvb:1.7.0", "hvb:1.8.0")
    assert (started["incident"], started["reason"]) == ("INC-7", "crash")

    rollback = message_context(ctx, "rollback.started")
    assert (rollback["image_before"], rollback["image_after"]) == ("hvb:1.8.0", "hvb:1.7.0")


def test_a_manual_item_counts_the_confirmations_of_the_request(tmp_path: Path) -> None:
    gate = checklist({"id": "sign-off", "title": "Signed off", "uses": "manual"})
    write_checklist(tmp_path, "gate", gate)
    ws = make_workspace(tmp_path)

    confirmed = run_named_checklist(ws, "gate", None, confirmed=frozenset({"sign-off"}))
    unconfirmed = run_named_checklist(ws, "gate", None)

    assert confirmed.items[0].summary == "confirmed with --confirm sign-off by tester@example.com"
    assert unconfirmed.items[0].summary == (
        "needs a person to confirm: run in a terminal, or pass --confirm sign-off once it is done"
    )


def test_a_checklist_run_checks_the_image_it_is_given(tmp_path: Path) -> None:
    write_checklist(tmp_path, "gate", checklist({"id": "tag", "title": "Tag", "uses": "git.tag"}))
    ws = make_workspace(tmp_path)

    with pytest.raises(BadInput) as raised:
        run_named_checklist(ws, "gate", "staging", params={"image": "hvb"})  # --set image=hvb

    assert str(raised.value) == "'hvb' has no tag or digest; name the exact version, like hvb:1.8.0"


def test_an_image_given_with_with_is_checked_like_image(tmp_path: Path) -> None:
    item = {"id": "tag", "title": "Tag", "uses": "git.tag", "with": {"image": "hvb:1.8.0é"}}
    write_checklist(tmp_path, "gate", checklist(item))
    ws = make_workspace(tmp_path)

    with pytest.raises(BadInput) as raised:
        run_named_checklist(ws, "gate", "staging")

    assert str(raised.value) == (
        "'hvb:1.8.0é' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"
    )


def test_a_context_takes_a_request_or_the_params_to_build_one_not_both(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    journal = ws.journal(ws.new_run_id(), "test", "staging")

    made = ws.context(journal, "staging", params={"image": "hvb:1.8.0"}, confirmed=frozenset({"a"}))
    assert made.request == RunRequest.build(image="hvb:1.8.0", confirmations=["a"])
    assert made.params == {"image": "hvb:1.8.0"}
    with pytest.raises(TypeError, match="pass either request or params/confirmed, not both"):
        ws.context(journal, "staging", request=made.request, params={"image": "hvb:1.8.0"})
