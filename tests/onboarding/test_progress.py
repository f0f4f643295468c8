"""Onboarding progress: kept per person in the state folder, surviving restarts, journaled like any run."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsctl.engine.loader import builtin_dir
from opsctl.errors import BadInput, Interrupted
from opsctl.onboarding import ItemProgress, Progress, onboarding_status, parse_week, run_onboarding
from opsctl.onboarding.progress import progress_path
from tests.onboarding.support import ALICE, BOB, project, workspace

SEED = {  # the seed's "Onboarding for New Engineers", week by week
    "1": [
        "Read all operational runbooks",
        "Understand system architecture",
        "Set up local development environment",
        "Review monitoring dashboards",
    ],
    "2": [
        "Shadow a deployment to staging",
        "Participate in incident response simulation",
        "Review recent incident post-mortems",
        "Complete security training",
    ],
    "3": [
        "Perform a supervised deployment",
        "Join on-call rotation (with mentorship)",
        "Review and suggest improvements to documentation",
        "Participate in operational review meeting",
    ],
    "ongoing": [
        "Regular knowledge sharing sessions",
        "Cross-training on different system components",
        "Participation in operational improvement initiatives",
        "Contribution to runbook updates",
    ],
}


def item(progress: Progress, week: str, item_id: str) -> ItemProgress:
    return next(i for i in progress.week(week).items if i.id == item_id)


def states(progress: Progress, week: str) -> dict[str, str]:
    return {i.id: i.state for i in progress.week(week).items}


def override(tmp_path: Path, name: str, edit: Any) -> None:
    """A project copy of the built-in checklist ``name``, changed by ``edit(data)``."""
    data = yaml.safe_load((builtin_dir("checklists") / f"{name}.yaml").read_text())
    edit(data)
    (tmp_path / "checklists").mkdir(exist_ok=True)
    (tmp_path / "checklists" / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_seed_item_is_an_onboarding_item(tmp_path: Path) -> None:
    progress = onboarding_status(workspace(tmp_path))
    for week, titles in SEED.items():
        found = [i.title for i in progress.week(week).items]
        for title in titles:
            assert any(t == title or t.startswith(f"{title}:") for t in found), (week, title, found)
        assert len(found) == len(titles) + (2 if week == "1" else 0)  # the setup item is three machine checks


def test_progress_survives_a_restart(tmp_path: Path) -> None:
    first = run_onboarding(workspace(tmp_path), confirmed=frozenset({"read-runbooks", "architecture"}))
    assert first.week == "1"
    assert first.result is not None
    ran = {i.id: i.status.value for i in first.result.items}
    assert (ran["read-runbooks"], ran["architecture"], ran["dashboards"]) == ("passed", "passed", "failed")

    again = workspace(tmp_path)  # a new process: a new Workspace over the same state folder
    remembered = item(onboarding_status(again), "1", "read-runbooks")
    assert (remembered.state, remembered.by, remembered.run) == ("done", ALICE, first.run)
    assert remembered.at is not None
    second = run_onboarding(again)
    assert second.result is not None
    asked = [i.id for i in second.result.items]
    assert "read-runbooks" not in asked  # confirmed once: never asked again
    assert "architecture" not in asked
    assert {"dashboards", "dev-tools", "aws-credentials", "opsctl-config"} <= set(asked)  # open, or checked again
    assert states(second.progress, "1")["read-runbooks"] == "done"
    path = tmp_path / ".opsctl" / "onboarding" / "alice@example.com.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["who"] == ALICE
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temp file


def test_progress_is_kept_per_person(tmp_path: Path) -> None:
    run_onboarding(workspace(tmp_path), confirmed=frozenset({"read-runbooks"}))
    run_onboarding(workspace(tmp_path), who=BOB, confirmed=frozenset({"architecture"}))  # alice runs it for bob
    folder = tmp_path / ".opsctl" / "onboarding"
    assert sorted(p.name for p in folder.iterdir()) == ["alice@example.com.json", "bob@example.com.json"]
    alice = states(onboarding_status(workspace(tmp_path)), "1")
    bob_progress = onboarding_status(workspace(tmp_path), BOB)
    bob = states(bob_progress, "1")
    assert (alice["read-runbooks"], alice["architecture"]) == ("done", "open")
    assert (bob["read-runbooks"], bob["architecture"]) == ("open", "done")
    assert item(bob_progress, "1", "architecture").by == ALICE  # who confirmed it is kept
    assert onboarding_status(workspace(tmp_path, actor=BOB)).who == BOB  # the default person is the actor


def test_a_person_name_never_leaves_the_onboarding_folder(tmp_path: Path) -> None:
    assert progress_path(tmp_path, "../../etc/passwd").parent == tmp_path / "onboarding"
    with pytest.raises(BadInput) as caught:
        progress_path(tmp_path, " .. ")
    assert str(caught.value) == "--who ' .. ': give a person, e.g. --who alice@example.com"


def test_machine_items_are_checked_again_but_stay_done_once_passed(tmp_path: Path) -> None:
    first = run_onboarding(workspace(tmp_path))
    tools = item(first.progress, "1", "dev-tools")
    assert tools.state == "done"
    assert tools.summary.startswith("Python 3.")

    def needs_missing_tool(data: dict[str, Any]) -> None:
        entry = next(i for i in data["items"] if i["id"] == "dev-tools")
        entry["with"] = {"commands": ["git", "no-such-tool-for-opsctl"]}

    override(tmp_path, "onboarding-week-1", needs_missing_tool)
    second = run_onboarding(workspace(tmp_path))
    assert second.result is not None
    checked = next(i for i in second.result.items if i.id == "dev-tools")
    assert checked.status.value == "failed"
    assert checked.summary.startswith("no-such-tool-for-opsctl is not installed (not on PATH) (found: Python 3.")
    after = item(second.progress, "1", "dev-tools")
    assert (after.state, after.at, after.run) == ("done", tools.at, first.run)  # remembered, with when
    assert (after.last_status, after.last_summary) == ("failed", checked.summary)


class Answers:
    """A person at the terminal: answers per item id (default yes)."""

    def __init__(self, **answers: tuple[str, str]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str | None]] = []

    def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
        self.asked.append((item_id, instructions))
        return self.answers.get(item_id.replace("-", "_"), ("yes", ""))

    def type_to_confirm(self, env: str, plan: str) -> bool:
        return False


def test_manual_items_ask_with_their_help_and_a_skip_needs_a_reason(tmp_path: Path) -> None:
    person = Answers(dashboards=("skip", "no dashboard access yet"), architecture=("no", ""))
    done = run_onboarding(workspace(tmp_path), prompter=person)
    asked = dict(person.asked)
    assert list(asked) == ["read-runbooks", "architecture", "dashboards"]
    help_text = asked["read-runbooks"] or ""
    for shown in ("runbooks/deployment.md", "runbooks/rollback.md", "runbooks/hot-patch.md", "opsctl checklist list"):
        assert shown in help_text
    week = states(done.progress, "1")
    assert (week["read-runbooks"], week["architecture"], week["dashboards"]) == ("done", "open", "skipped")
    skipped = item(done.progress, "1", "dashboards")
    assert skipped.summary == f"skipped by {ALICE}: no dashboard access yet"
    assert done.progress.week("1").next_item is not None
    assert done.progress.week("1").next_item.id == "architecture"  # a skipped item is no longer "next"

    later = run_onboarding(workspace(tmp_path), confirmed=frozenset({"dashboards"}), prompter=Answers())
    assert states(later.progress, "1")["dashboards"] == "done"


class StopAfterFirstItem:
    """A view during which the person presses Ctrl-C right after the first item."""

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "item.finished":
            raise KeyboardInterrupt


def test_ctrl_c_keeps_what_was_already_confirmed(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(Interrupted) as caught:
        run_onboarding(ws, confirmed=frozenset({"read-runbooks", "architecture"}), observer=StopAfterFirstItem())
    assert "what was already confirmed is kept in" in str(caught.value)
    week = states(onboarding_status(workspace(tmp_path)), "1")
    assert (week["read-runbooks"], week["architecture"]) == ("done", "open")
    assert [e["status"] for e in ws.audit.events() if e["step"] == "run"] == ["started", "interrupted"]


def test_every_run_is_journaled_in_the_audit_log(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    done = run_onboarding(ws, who=BOB, confirmed=frozenset({"read-runbooks"}))
    events = [e for e in ws.audit.events() if e["run"] == done.run]
    assert {e["runbook"] for e in events} == {"checklist:onboarding-week-1"}
    assert {e["actor"] for e in events} == {ALICE}
    first = events[0]
    assert (first["step"], first["status"], first["params"]) == ("run", "started", {"who": BOB, "week": "1"})
    confirmed = [e for e in events if e["step"] == "onboarding-week-1/read-runbooks" and e["status"] == "passed"]
    assert confirmed
    assert (events[-1]["step"], events[-1]["status"]) == ("run", "failed")
    assert ws.audit.verify().ok


def test_the_week_is_the_first_open_one_or_the_one_the_confirmed_items_are_in(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    assert run_onboarding(ws).week == "1"
    assert run_onboarding(ws, confirmed=frozenset({"security-training"})).week == "2"
    assert run_onboarding(ws, week="ongoing").week == "ongoing"
    problems = {
        ("nope",): "--confirm nope: no onboarding item has that id (see `opsctl onboard status`)",
        ("dev-tools",): "--confirm dev-tools: opsctl checks that item itself; it cannot be confirmed by hand",
        ("on-call", "postmortems"): "--confirm: the items are in weeks 2, 3; confirm one week at a time",
    }
    for ids, message in problems.items():
        with pytest.raises(BadInput) as caught:
            run_onboarding(ws, confirmed=frozenset(ids))
        assert str(caught.value) == message
    with pytest.raises(BadInput) as caught:
        run_onboarding(ws, week="1", confirmed=frozenset({"on-call"}))
    assert str(caught.value) == "--confirm on-call: that item is in week 3, not week 1"


def test_week_names(tmp_path: Path) -> None:
    assert [parse_week(w) for w in ("1", " 2", "week-3", "Week 3", "Ongoing")] == ["1", "2", "3", "3", "ongoing"]
    with pytest.raises(BadInput) as caught:
        parse_week("4")
    assert str(caught.value) == "--week 4: choose 1, 2, 3 or ongoing"


def test_a_complete_onboarding_runs_nothing(tmp_path: Path) -> None:
    project(tmp_path)
    for name in ("onboarding-week-1", "onboarding-week-2", "onboarding-week-3", "onboarding-ongoing"):
        override(tmp_path, name, lambda data: data.update(items=[i for i in data["items"] if i["uses"] == "manual"]))
    ws = workspace(tmp_path)
    for week in ("1", "2", "3", "ongoing"):
        ids = [i.id for i in onboarding_status(ws).week(week).items]
        assert run_onboarding(ws, week=week, confirmed=frozenset(ids)).ok
    assert run_onboarding(ws, week="2").result is None  # nothing open in the week: nothing to ask
    finished = run_onboarding(ws)
    assert (finished.week, finished.result, finished.ok) == (None, None, True)
    assert finished.progress.complete
    assert finished.progress.as_dict()["next"] is None


def test_a_damaged_progress_file_is_named(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    path = tmp_path / ".opsctl" / "onboarding" / "alice@example.com.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(BadInput) as caught:
        onboarding_status(ws)
    assert str(caught.value).startswith(f"{path}: not valid onboarding progress (")
    assert str(caught.value).endswith("); fix it or move it away")


# --- the progress files on a machine in a bad state: one line, exit 2 (never "a bug in opsctl") -------------------


def _progress(tmp_path: Path) -> Any:
    """Alice's progress file under ``tmp_path`` (the current folder: paths show relative to it)."""
    from datetime import UTC, datetime

    from opsctl.onboarding.progress import ProgressFile

    (tmp_path / ".opsctl").mkdir(exist_ok=True)
    path = tmp_path / ".opsctl" / "onboarding" / "alice@example.com.json"
    return ProgressFile(path, ALICE, lambda: datetime(2026, 11, 27, tzinfo=UTC))


PASSED = {"status": "passed", "summary": "ok"}


def test_a_file_where_the_progress_folder_goes(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    progress.path.parent.write_text("not a folder")
    with pytest.raises(BadInput) as caught:
        progress.record("week-1/x", PASSED, run="r1", by=ALICE)
    assert str(caught.value) == "onboarding progress folder .opsctl/onboarding: not a directory; move it away"


def test_a_dangling_symlink_where_the_progress_folder_goes(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    progress.path.parent.symlink_to(tmp_path / "gone")
    with pytest.raises(BadInput) as caught:
        progress.record("week-1/x", PASSED, run="r1", by=ALICE)
    assert str(caught.value) == (
        "onboarding progress folder .opsctl/onboarding: is a broken symbolic link (its target "
        f"{tmp_path / 'gone'} does not exist)"
    )


def test_a_folder_or_a_dangling_symlink_at_the_progress_file(tmp_path: Path) -> None:
    progress = _progress(tmp_path)
    progress.path.mkdir(parents=True)
    with pytest.raises(BadInput) as caught:
        progress.load()
    assert (
        str(caught.value)
        == "onboarding progress .opsctl/onboarding/alice@example.com.json: is a directory, expected a file"
    )
    progress.path.rmdir()
    progress.path.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(BadInput) as caught:
        progress.load()
    assert str(caught.value) == (
        "onboarding progress .opsctl/onboarding/alice@example.com.json: is a broken symbolic link (its target "
        f"{tmp_path / 'nowhere.json'} does not exist)"
    )


def test_a_full_disk_while_saving_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    progress = _progress(tmp_path)
    real_open = os.open

    def full(path: Any, flags: int, *args: Any) -> int:
        if str(path).endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(BadInput) as caught:
        progress.record("week-1/x", PASSED, run="r1", by=ALICE)
    tmp = f".opsctl/onboarding/.alice@example.com.json.{os.getpid()}.tmp"
    assert str(caught.value) == f"onboarding progress {tmp}: no space left on the device"
