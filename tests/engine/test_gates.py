"""What a runbook or checklist asks of the person running it: its manual item ids, and an environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.engine.gates import (
    check_gate_ids,
    check_runbook_gate_ids,
    manual_item_ids,
    needs_environment,
    runbook_checklists,
)
from opsctl.engine.loader import load_checklist, load_runbook
from opsctl.engine.request import RunRequest, make_waivers
from opsctl.errors import BadInput
from tests.support.util import checklist, command_item, write_checklist, write_text

GATES = checklist(
    {"id": "security-scan", "title": "Scanned", "uses": "manual"},
    command_item("tests", ["true"]),
    {"id": "migrations-tested", "title": "Migrations tested", "uses": "manual", "when": "env.protected"},
)
VERIFY = checklist({"id": "smoke", "title": "Smoke tested by a person", "uses": "manual"})
SHIP = """\
title: Ship
rollback_runbook: undo
steps:
  - {id: gates, title: Gates, checklist: gates}
  - {id: again, title: Gates again, checklist: gates}
  - {id: say, title: Say, uses: command, with: {argv: ["true"]}, on_failure: rollback}
"""
UNDO = """\
title: Undo
steps:
  - {id: verify, title: Verify, checklist: verify}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_checklist(tmp_path, "gates", GATES)
    write_checklist(tmp_path, "verify", VERIFY)
    write_text(tmp_path / "runbooks" / "ship.yaml", SHIP)
    write_text(tmp_path / "runbooks" / "undo.yaml", UNDO)
    return tmp_path


def test_a_runbooks_manual_items_include_its_rollbacks_each_once(project: Path) -> None:
    loaded = runbook_checklists(load_runbook("ship", project), project)

    assert [c.name for c in loaded] == ["gates", "verify"]
    assert manual_item_ids(loaded) == ["security-scan", "migrations-tested", "smoke"]


def test_known_ids_pass(project: Path) -> None:
    request = RunRequest.build(
        confirmations=["security-scan", "smoke"],
        waivers=make_waivers(["migrations-tested"], reason="r", approved_by="lead@example.com"),
    )
    check_runbook_gate_ids(request, load_runbook("ship", project), project)


@pytest.mark.parametrize(
    ("confirm", "waive", "message"),
    [
        (
            ["secrity-scan"],
            [],
            "unknown manual item 'secrity-scan' for --confirm; the ship runbook's manual items are: "
            "security-scan, migrations-tested, smoke",
        ),
        (
            ["security-scan"],
            ["tests"],  # an automatic item is no manual gate: a waiver cannot replace a check a machine makes
            "unknown manual item 'tests' for --waive; the ship runbook's manual items are: "
            "security-scan, migrations-tested, smoke",
        ),
    ],
    ids=["confirm-typo", "waive-automatic-item"],
)
def test_an_unknown_id_names_the_runbooks_manual_items(
    project: Path, confirm: list[str], waive: list[str], message: str
) -> None:
    request = RunRequest.build(
        confirmations=confirm, waivers=make_waivers(waive, reason="r", approved_by="lead@example.com")
    )
    with pytest.raises(BadInput) as caught:
        check_runbook_gate_ids(request, load_runbook("ship", project), project)

    assert str(caught.value) == message


def test_a_checklist_without_manual_items_says_so(tmp_path: Path) -> None:
    write_checklist(tmp_path, "auto", checklist(command_item("tests", ["true"])))
    with pytest.raises(BadInput) as caught:
        check_gate_ids(
            RunRequest.build(confirmations=["tests"]),
            manual_item_ids([load_checklist("auto", tmp_path)]),
            "the auto checklist",
        )

    assert str(caught.value) == "unknown manual item 'tests' for --confirm; the auto checklist has no manual items"


@pytest.mark.parametrize(
    ("item", "needs"),
    [
        (command_item("a", ["true"], when="params.image"), False),
        (command_item("a", ["echo", "{{ run.actor }}"]), False),
        (command_item("a", ["true"], when="env.protected"), True),
        (command_item("a", ["true"], when="{{ env.name == 'production' }}"), True),
        (command_item("a", ["echo", "{% if env.protected %}careful{% endif %}"]), True),
        ({"id": "a", "title": "A", "uses": "metrics.error_rate"}, True),
        ({"id": "a", "title": "A", "uses": "rollback.ready"}, True),
        ({"id": "a", "title": "A", "uses": "git.clean"}, False),
    ],
    ids=["params", "run", "when-env", "when-braces", "with-block", "metrics", "rollback-ready", "git"],
)
def test_what_needs_an_environment(tmp_path: Path, item: dict[str, object], needs: bool) -> None:
    write_checklist(tmp_path, "gate", checklist(item))

    assert needs_environment(load_checklist("gate", tmp_path)) is needs
