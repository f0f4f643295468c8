"""The checklist executor, driven through real checklist files and real `command` processes."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from opsctl.engine.checklist import ChecklistResult, run_checklist
from opsctl.engine.context import RunContext
from opsctl.engine.loader import load_checklist
from opsctl.engine.outcome import Outcome, Status
from opsctl.engine.request import RunRequest, Waiver
from opsctl.errors import BadInput, ConfigError
from tests.support.context import make_ctx
from tests.support.util import checklist, command_item, max_overlap, py, read_interval, sleeper, write_checklist

FAIL = py("import sys; print('boom'); sys.exit(3)")
PASS = py("pass")


class Recorder:
    """An Observer that keeps every event (the view's side of the executor)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, data in self.events if k == kind]


class ScriptedPrompter:
    """A person at the terminal, answering from a script."""

    def __init__(self, *answers: tuple[str, str]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str, str | None]] = []

    def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
        self.asked.append((item_id, title, instructions))
        return self.answers.pop(0)


def run(tmp_path: Path, body: dict[str, Any] | str, **kwargs: Any) -> tuple[ChecklistResult, RunContext]:
    write_checklist(tmp_path, "gate", body)
    ctx = make_ctx(tmp_path, **kwargs)
    return run_checklist(ctx, load_checklist("gate", tmp_path)), ctx


def by_id(result: ChecklistResult) -> dict[str, Any]:
    return {i.id: i for i in result.items}


def audit_events(ctx: RunContext) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ctx.journal.log.path.read_text().splitlines()]


# --- order and concurrency ---------------------------------------------------------------------------


def test_results_keep_file_order_whatever_finishes_first(tmp_path: Path) -> None:
    body = checklist(
        command_item("slow", sleeper(tmp_path / "slow", 0.6)),
        command_item("fast", sleeper(tmp_path / "fast", 0.0)),
        command_item("medium", sleeper(tmp_path / "medium", 0.3)),
    )
    result, _ = run(tmp_path, body)

    assert [i.id for i in result.items] == ["slow", "fast", "medium"]
    ends = {name: read_interval(tmp_path / name)[1] for name in ("slow", "fast", "medium")}
    assert ends["fast"] < ends["medium"] < ends["slow"]  # they really finished in another order
    assert result.status is Status.PASSED


def test_concurrency_is_bounded_by_the_checklist(tmp_path: Path) -> None:
    items = [command_item(f"i{n}", sleeper(tmp_path / f"i{n}", 0.5)) for n in range(5)]
    result, _ = run(tmp_path, checklist(*items, concurrency=2))

    assert result.ok
    intervals = [read_interval(tmp_path / f"i{n}") for n in range(5)]
    assert max_overlap(intervals) == 2


def test_independent_items_run_concurrently_by_default(tmp_path: Path) -> None:
    items = [command_item(f"i{n}", sleeper(tmp_path / f"i{n}", 0.5)) for n in range(6)]
    started = time.monotonic()
    result, _ = run(tmp_path, checklist(*items))
    elapsed = time.monotonic() - started

    assert result.ok
    overlap = max_overlap([read_interval(tmp_path / f"i{n}") for n in range(6)])
    assert 2 <= overlap <= 4  # the default limit is 4
    assert elapsed < 6 * 0.5  # clearly not one after another


def test_needs_waits_for_the_item_it_needs(tmp_path: Path) -> None:
    body = checklist(
        command_item("build", sleeper(tmp_path / "build", 0.3)),
        command_item("other", sleeper(tmp_path / "other", 0.0)),
        command_item("ship", sleeper(tmp_path / "ship", 0.0), needs=["build"]),
    )
    result, _ = run(tmp_path, body)

    assert [i.status for i in result.items] == [Status.PASSED] * 3
    assert read_interval(tmp_path / "ship")[0] >= read_interval(tmp_path / "build")[1]


# --- when, retry, timeout -------------------------------------------------------------------------------


def test_when_false_does_not_apply_and_when_true_runs(tmp_path: Path) -> None:
    body = checklist(
        command_item("prod-only", PASS, when="env.name == 'production'"),
        command_item("staging-only", PASS, when="{{ env.name == 'staging' and params.region == 'eu' }}"),
    )
    result, _ = run(tmp_path, body, params={"region": "eu"})
    items = by_id(result)

    # Not "skipped": nobody chose to leave it out; it has nothing to check here.
    assert items["prod-only"].status is Status.NOT_APPLICABLE
    assert items["prod-only"].summary == "does not apply (when: env.name == 'production')"
    assert items["staging-only"].status is Status.PASSED
    assert result.status is Status.PASSED


def test_retry_counts_attempts_and_waits_between_them(tmp_path: Path) -> None:
    body = checklist(command_item("flaky", FAIL, retry={"count": 2, "interval": "200ms"}))
    recorder = Recorder()
    started = time.monotonic()
    result, _ = run(tmp_path, body, observer=recorder)
    elapsed = time.monotonic() - started

    item = result.items[0]
    assert item.status is Status.FAILED
    assert item.attempts == 3
    assert elapsed >= 0.4  # two intervals of 200ms
    assert [e["attempt"] for e in recorder.kinds("item.retry")] == [1, 2]


def test_retry_stops_at_the_first_success(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    flaky = py(
        """
        import pathlib, sys
        p = pathlib.Path(sys.argv[1])
        n = int(p.read_text()) + 1 if p.exists() else 1
        p.write_text(str(n))
        sys.exit(0 if n >= 2 else 1)
        """,
        str(counter),
    )
    result, _ = run(tmp_path, checklist(command_item("flaky", flaky, retry={"count": 5, "interval": "50ms"})))

    assert result.items[0].status is Status.PASSED
    assert result.items[0].attempts == 2
    assert counter.read_text() == "2"


def test_item_timeout_fails_the_item(tmp_path: Path) -> None:
    body = checklist(command_item("hang", py("import time; time.sleep(5)"), timeout="500ms"))
    started = time.monotonic()
    result, _ = run(tmp_path, body)

    assert time.monotonic() - started < 5
    item = result.items[0]
    assert item.status is Status.FAILED
    # The command honours the item's deadline and says which program it stopped.
    assert item.summary.startswith("timed out after 500ms: ")
    assert "time.sleep(5)" in item.summary


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_item_timeout_stops_the_process_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hang = py("import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(30)", str(pid_file))
    result, _ = run(tmp_path, checklist(command_item("hang", hang, timeout="1s")))
    assert result.items[0].summary.startswith("timed out after 1.0s: ")
    pid = int(pid_file.read_text())
    try:
        deadline = time.monotonic() + 3
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the timed-out item's process is still running"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


# --- verdicts ------------------------------------------------------------------------------------------------


def test_non_blocking_failure_warns(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(command_item("lint", FAIL, blocking=False), command_item("ok", PASS)))

    assert result.items[0].status is Status.FAILED
    assert not result.items[0].blocks
    assert result.status is Status.WARNED
    assert result.ok
    assert result.counts() == {
        "passed": 1,
        "failed": 1,
        "warned": 0,
        "skipped": 0,
        "waived": 0,
        "not_applicable": 0,
    }


def test_blocking_failure_fails(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(command_item("tests", FAIL), command_item("ok", PASS)))

    assert result.status is Status.FAILED
    assert not result.ok
    assert result.items[0].summary.startswith("exit 3 (expected 0): ")
    assert result.items[0].summary.endswith(" — boom")


def test_needs_on_a_failed_item_is_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "shipped"
    body = checklist(
        command_item("build", FAIL, blocking=False),
        command_item(
            "ship", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker)), needs=["build"]
        ),
    )
    result, _ = run(tmp_path, body)
    ship = by_id(result)["ship"]

    assert ship.status is Status.SKIPPED
    assert ship.summary == "not run: it needs 'build', which failed"
    assert not marker.exists()


def test_an_unexpected_exception_fails_only_its_item(tmp_path: Path) -> None:
    # Popen refuses an argv with a NUL byte with ValueError, which the command action does not expect.
    result, _ = run(tmp_path, checklist(command_item("bad", ["echo", "a\x00b"]), command_item("ok", PASS)))
    bad, ok = result.items

    assert bad.status is Status.FAILED
    assert bad.summary == "ValueError: embedded null byte"
    assert bad.detail == {"error": "ValueError"}
    assert ok.status is Status.PASSED


def test_bad_input_stops_everything_before_the_first_item_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    touch = json.dumps(py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker)))
    body = (
        "title: T\nitems:\n"
        f"  - id: first\n    title: First\n    uses: command\n    with:\n      argv: {touch}\n"
        "  - id: second\n    title: Second\n    uses: command\n    with:\n      argv: ['echo', '{{ relase.image }}']\n"
    )
    write_checklist(tmp_path, "gate", body)
    ctx = make_ctx(tmp_path)
    with pytest.raises(ConfigError) as caught:
        run_checklist(ctx, load_checklist("gate", tmp_path))

    assert str(caught.value) == "checklists/gate.yaml:11: items -> 1 -> with: template error: 'relase' is undefined"
    assert not marker.exists()


def test_rendered_with_values_are_checked_against_the_action(tmp_path: Path) -> None:
    body = (
        "title: T\nitems:\n  - id: a\n    title: A\n    uses: command\n    with:\n      argv: ['true']\n"
        "      timeout: '{{ params.t }}'\n"
    )
    write_checklist(tmp_path, "gate", body)
    ctx = make_ctx(tmp_path, params={"t": "forever"})
    with pytest.raises(ConfigError) as caught:
        run_checklist(ctx, load_checklist("gate", tmp_path))
    assert str(caught.value) == (
        "checklists/gate.yaml:8: items -> 0 -> with -> timeout: must be a duration like 30s or 5m (for command)"
    )


# --- dry run --------------------------------------------------------------------------------------------------


def test_dry_run_skips_items_that_change_things(tmp_path: Path) -> None:
    marker = tmp_path / "changed"
    body = checklist(
        command_item("read", PASS),
        command_item("write", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker)), mutates=True),
    )
    result, _ = run(tmp_path, body, dry_run=True)
    items = by_id(result)

    assert items["read"].status is Status.PASSED
    assert items["write"].status is Status.SKIPPED
    assert items["write"].summary == "dry run: not run because it changes things"
    assert not marker.exists()


def test_without_dry_run_mutating_items_run(tmp_path: Path) -> None:
    marker = tmp_path / "changed"
    body = checklist(
        command_item("write", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker)), mutates=True)
    )
    result, _ = run(tmp_path, body)
    assert result.items[0].status is Status.PASSED
    assert marker.exists()


# --- manual items -------------------------------------------------------------------------------------------

MANUAL = {"id": "code-review", "title": "Code reviewed", "uses": "manual", "with": {"instructions": "see the PR"}}


def test_manual_without_a_terminal_fails_naming_confirm(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(MANUAL))
    item = result.items[0]
    assert item.status is Status.FAILED
    assert item.summary == (
        "needs a person to confirm: run in a terminal, or pass --confirm code-review once it is done"
    )
    assert not result.ok


def test_confirm_passes_the_manual_item(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(MANUAL), confirmed=frozenset({"code-review"}))
    item = result.items[0]
    assert item.status is Status.PASSED
    assert item.summary == "confirmed with --confirm code-review by tester@example.com"
    assert item.detail == {"confirmed_by": "tester@example.com"}


@pytest.mark.parametrize(
    ("answer", "status", "summary"),
    [
        (("yes", ""), Status.PASSED, "confirmed by tester@example.com"),
        (("no", "perf tests missing"), Status.FAILED, "not confirmed by tester@example.com: perf tests missing"),
        (("no", ""), Status.FAILED, "not confirmed by tester@example.com"),
        (
            ("skip", "reviewed in INC-42"),
            Status.FAILED,
            "skipped by tester@example.com: reviewed in INC-42; a blocking item needs a waiver to go ahead: "
            "--waive code-review --reason TEXT --approved-by NAME",
        ),
    ],
)
def test_a_person_answers(tmp_path: Path, answer: tuple[str, str], status: Status, summary: str) -> None:
    prompter = ScriptedPrompter(answer)
    result, ctx = run(tmp_path, checklist(MANUAL), prompter=prompter)

    assert prompter.asked == [("code-review", "Code reviewed", "see the PR")]
    assert (result.items[0].status, result.items[0].summary) == (status, summary)
    logged = [e for e in audit_events(ctx) if e["step"] == "gate/code-review" and e["status"] != "started"]
    assert logged[0]["summary"] == summary


# --- gates: a skipped blocking item fails, a waiver lets it through, "not applicable" is its own count -----------

WAIVER = Waiver("code-review", "reviewer on leave, pairing instead", ("lead@example.com",))
WAIVED_SUMMARY = "waived by tester@example.com, approved by lead@example.com: reviewer on leave, pairing instead"


def test_a_skipped_blocking_item_fails_the_gate_naming_the_waiver(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(MANUAL), prompter=ScriptedPrompter(("skip", "no time")))

    (item,) = result.items
    assert (item.status, item.blocks) == (Status.FAILED, True)
    assert item.summary == (
        "skipped by tester@example.com: no time; a blocking item needs a waiver to go ahead: "
        "--waive code-review --reason TEXT --approved-by NAME"
    )
    assert item.detail == {"skipped_by": "tester@example.com", "reason": "no time"}
    assert result.status is Status.FAILED
    assert result.describe_counts() == "1 failed"


def test_a_skipped_non_blocking_item_is_counted_apart(tmp_path: Path) -> None:
    body = checklist({**MANUAL, "blocking": False}, command_item("ok", PASS))
    result, _ = run(tmp_path, body, prompter=ScriptedPrompter(("skip", "perf env down")))

    skipped = by_id(result)["code-review"]
    assert (skipped.status, skipped.summary) == (Status.SKIPPED, "skipped by tester@example.com: perf env down")
    assert result.status is Status.PASSED
    assert result.describe_counts() == "1 passed, 1 skipped (non-blocking)"


def test_a_progress_checklist_may_let_a_person_skip_a_blocking_item(tmp_path: Path) -> None:
    write_checklist(tmp_path, "gate", checklist(MANUAL))
    ctx = make_ctx(tmp_path, env=None, prompter=ScriptedPrompter(("skip", "no dashboard access yet")))
    result = run_checklist(ctx, load_checklist("gate", tmp_path), skips_need_waivers=False)

    assert (result.items[0].status, result.items[0].summary) == (
        Status.SKIPPED,
        "skipped by tester@example.com: no dashboard access yet",
    )
    assert result.ok


def test_a_waiver_lets_the_item_through_without_asking_and_warns(tmp_path: Path) -> None:
    prompter = ScriptedPrompter()
    request = RunRequest(waivers=(WAIVER,))
    result, ctx = run(tmp_path, checklist(MANUAL, command_item("ok", PASS)), request=request, prompter=prompter)

    waived = by_id(result)["code-review"]
    assert prompter.asked == []
    assert (waived.status, waived.summary, waived.blocks) == (Status.WAIVED, WAIVED_SUMMARY, False)
    assert waived.detail == {
        "waived_by": "tester@example.com",
        "approved_by": ["lead@example.com"],
        "reason": "reviewer on leave, pairing instead",
    }
    assert (result.status, result.ok) == (Status.WARNED, True)
    assert result.describe_counts() == "1 passed, 1 waived"
    (logged,) = [e for e in audit_events(ctx) if e["step"] == "gate/code-review" and e["status"] != "started"]
    assert (logged["status"], logged["summary"], logged["detail"]["approved_by"]) == (
        "waived",
        WAIVED_SUMMARY,
        ["lead@example.com"],
    )
    assert audit_events(ctx)[-1]["counts"] == {
        "passed": 1,
        "failed": 0,
        "warned": 0,
        "skipped": 0,
        "waived": 1,
        "not_applicable": 0,
    }


def test_the_summary_counts_each_kind_of_not_done_apart(tmp_path: Path) -> None:
    body = checklist(
        command_item("ok", PASS),
        command_item("lint", FAIL, blocking=False),
        {**MANUAL, "id": "perf", "title": "Perf", "blocking": False},
        MANUAL,
        command_item("prod-only", PASS, when="env.name == 'production'"),
        command_item("github-only", PASS, when="github is not none"),
    )
    prompter = ScriptedPrompter(("skip", "no load env"))
    result, _ = run(tmp_path, body, request=RunRequest(waivers=(WAIVER,)), prompter=prompter)

    assert [i.status for i in result.items] == [
        Status.PASSED,
        Status.FAILED,
        Status.SKIPPED,
        Status.WAIVED,
        Status.NOT_APPLICABLE,
        Status.NOT_APPLICABLE,
    ]
    assert result.counts() == {
        "passed": 1,
        "failed": 1,
        "warned": 0,
        "skipped": 1,
        "waived": 1,
        "not_applicable": 2,
    }
    assert result.describe_counts() == "1 passed, 1 failed, 1 skipped (non-blocking), 1 waived, 2 not applicable"
    assert result.status is Status.WARNED
    assert by_id(result)["github-only"].summary == "does not apply (when: github is not none)"


@pytest.mark.parametrize(
    "item",
    [
        command_item("prod-only", PASS, when="env.protected"),
        command_item("say", ["echo", "{{ env.health.base_url }}"]),
        {"id": "live", "title": "Bot answers", "uses": "health.live"},
    ],
    ids=["when-reads-env", "with-reads-env", "action-needs-env"],
)
def test_a_checklist_that_needs_an_environment_says_so_before_anything_runs(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    marker = tmp_path / "ran"
    body = checklist(
        command_item("first", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker))), item
    )
    with pytest.raises(BadInput) as caught:
        run(tmp_path, body, env=None)

    assert str(caught.value) == "checklist 'gate' needs an environment: pass --env ENV"
    assert not marker.exists()


def test_a_checklist_that_reads_no_environment_runs_without_one(tmp_path: Path) -> None:
    body = checklist(command_item("say", ["echo", "{{ params.image }} by {{ run.actor }}"]))
    result, _ = run(tmp_path, body, env=None, params={"image": "hvb:1.8.0"})

    assert result.items[0].detail["output_tail"] == ["hvb:1.8.0 by tester@example.com"]


def test_manual_items_are_asked_first_but_reported_in_file_order(tmp_path: Path) -> None:
    marker = tmp_path / "auto"
    order: list[str] = []

    class Prompter(ScriptedPrompter):
        def confirm(self, item_id: str, title: str, instructions: str | None) -> tuple[str, str]:
            order.append(f"asked {item_id} (auto ran: {marker.exists()})")
            return super().confirm(item_id, title, instructions)

    body = checklist(
        command_item("auto", py("import pathlib, sys; pathlib.Path(sys.argv[1]).touch()", str(marker))),
        {"id": "review", "title": "Review", "uses": "manual"},
    )
    result, _ = run(tmp_path, body, prompter=Prompter(("yes", "")))

    assert order == ["asked review (auto ran: False)"]
    assert [i.id for i in result.items] == ["auto", "review"]


# --- journal and view -----------------------------------------------------------------------------------------


def test_every_item_is_journaled_and_observed(tmp_path: Path) -> None:
    recorder = Recorder()
    body = checklist(command_item("ok", PASS), command_item("skip", PASS, when="false"))
    result, ctx = run(tmp_path, body, observer=recorder)

    steps = [(e["step"], e["status"]) for e in audit_events(ctx)]
    assert steps[0] == ("gate", "started")
    assert ("gate/ok", "started") in steps
    assert ("gate/ok", "passed") in steps
    assert ("gate/skip", "not_applicable") in steps
    assert ("gate/skip", "started") not in steps  # a skipped item never starts
    assert steps[-1] == ("gate", "passed")
    assert all(e["run"] == ctx.run_id and e["actor"] == "tester@example.com" for e in audit_events(ctx))

    kinds = [k for k, _ in recorder.events]
    assert (kinds[0], kinds[-1]) == ("checklist.started", "checklist.finished")
    assert recorder.kinds("checklist.started")[0]["items"] == [
        {"id": "ok", "title": "Ok"},
        {"id": "skip", "title": "Skip"},
    ]
    assert recorder.kinds("checklist.finished")[0] == result.as_dict()


def test_result_as_dict_is_json(tmp_path: Path) -> None:
    result, _ = run(tmp_path, checklist(command_item("ok", PASS)))
    data = json.loads(json.dumps(result.as_dict()))
    assert data["checklist"] == "gate"
    assert data["status"] == "passed"
    assert data["items"][0]["detail"]["argv"] == PASS
    assert data["items"][0]["detail"]["exit_code"] == 0
    assert sys.executable in data["items"][0]["summary"]


def test_an_action_that_ignores_its_deadline_is_abandoned_after_the_grace(tmp_path: Path) -> None:
    """The executor's own timeout: the action never looks at its deadline, the run goes on."""
    from pydantic import BaseModel

    from opsctl.engine.actions import ActionSpec
    from opsctl.engine.checklist import DEADLINE_GRACE, call_action
    from tests.support.context import make_ctx

    release = threading.Event()

    def stubborn(ctx: object, params: object) -> Outcome:
        release.wait(30)
        return Outcome.passed("too late")

    class NoParams(BaseModel):
        pass

    spec = ActionSpec("test.stubborn", stubborn, NoParams, mutating=False, doc="")
    started = time.monotonic()
    try:
        outcome = call_action(make_ctx(tmp_path), spec, NoParams(), 0.3, "stubborn")
    finally:
        release.set()
    elapsed = time.monotonic() - started
    assert outcome.status is Status.FAILED
    assert outcome.summary == "timed out after 300ms"
    assert outcome.detail == {"timeout_s": 0.3}
    assert 0.3 <= elapsed < 0.3 + DEADLINE_GRACE + 1.0
