"""Checklist files: found (project first), validated before anything runs, errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsctl.engine import loader
from opsctl.engine.loader import load_checklist, load_runbook, sources
from opsctl.errors import BadInput, ConfigError
from tests.support.util import REAL_BUILTIN_DIR, write_checklist, write_text

ONE_ITEM = """
title: Gate
items:
  - id: a
    title: A
    uses: command
    with: {argv: ["true"]}
"""


def load_error(body: str, name: str = "gate") -> str:
    write_checklist(Path.cwd(), name, body)
    with pytest.raises(ConfigError) as caught:
        load_checklist(name, Path.cwd())
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_valid_checklist_loads_with_defaults() -> None:
    write_checklist(Path.cwd(), "gate", ONE_ITEM)
    loaded = load_checklist("gate", Path.cwd())
    assert loaded.model.title == "Gate"
    assert loaded.model.concurrency == 4
    item = loaded.model.items[0]
    assert (item.id, item.uses, item.with_, item.blocking, item.retry.count, item.timeout, item.needs) == (
        "a",
        "command",
        {"argv": ["true"]},
        True,
        0,
        None,
        [],
    )
    assert loaded.source.origin == "project"


def test_retry_shorthand_and_full_form() -> None:
    write_checklist(
        Path.cwd(),
        "gate",
        """
        title: Gate
        items:
          - {id: a, title: A, uses: command, with: {argv: ["true"]}, retry: 3}
          - {id: b, title: B, uses: command, with: {argv: ["true"]}, retry: {count: 2, interval: 250ms}}
    """,
    )
    a, b = load_checklist("gate", Path.cwd()).model.items
    assert (a.retry.count, a.retry.interval) == (3, 5.0)
    assert (b.retry.count, b.retry.interval) == (2, 0.25)


def test_unknown_action_lists_the_known_ones() -> None:
    from opsctl.engine.actions import all_actions

    message = load_error("title: T\nitems:\n  - id: a\n    title: A\n    uses: nope.x\n")
    known = ", ".join(all_actions())
    assert message == f"checklists/gate.yaml:5: items -> 0 -> uses: unknown action 'nope.x' (known: {known})"
    for core_action in ("command", "git.branch", "git.clean", "git.pushed", "http.get", "manual"):
        assert core_action in known.split(", ")


def test_missing_required_with_key() -> None:
    message = load_error("title: T\nitems:\n  - id: a\n    title: A\n    uses: command\n")
    assert message == "checklists/gate.yaml:3: items -> 0 -> with: missing required key 'argv' for command"


def test_missing_required_with_key_for_http_get() -> None:
    message = load_error("title: T\nitems:\n  - id: a\n    title: A\n    uses: http.get\n    with: {status: 200}\n")
    assert message == "checklists/gate.yaml:6: items -> 0 -> with: missing required key 'url' for http.get"


def test_unknown_with_key_lists_the_known_ones() -> None:
    message = load_error(
        "title: T\nitems:\n  - id: a\n    title: A\n    uses: command\n    with:\n"
        "      argv: ['true']\n      bogus: 1\n"
    )
    assert message == (
        "checklists/gate.yaml:8: items -> 0 -> with -> bogus: unknown key for command "
        "(known: argv, timeout, cwd, env, tail, exit_code)"
    )


def test_http_get_accepts_the_json_alias() -> None:
    write_checklist(
        Path.cwd(),
        "gate",
        "title: T\nitems:\n  - id: a\n    title: A\n    uses: http.get\n"
        "    with: {url: 'http://x', json: {status: ok}}\n",
    )
    assert load_checklist("gate", Path.cwd()).model.items[0].with_["json"] == {"status": "ok"}


def test_duplicate_item_ids() -> None:
    message = load_error(ONE_ITEM + "  - id: a\n    title: Again\n    uses: command\n    with: {argv: ['true']}\n")
    assert message == "checklists/gate.yaml:7: items -> 1 -> id: duplicate id 'a' (also item 1)"


def test_needs_of_an_unknown_id() -> None:
    message = load_error(ONE_ITEM + "    needs: [zz]\n")
    assert message == "checklists/gate.yaml:7: items -> 0 -> needs: no item with id 'zz' in this checklist"


def test_needs_of_a_later_id() -> None:
    message = load_error(
        ONE_ITEM + "    needs: [b]\n  - id: b\n    title: B\n    uses: command\n    with: {argv: ['true']}\n"
    )
    assert message == "checklists/gate.yaml:7: items -> 0 -> needs: 'b' must come before 'a'"


def test_needs_of_itself() -> None:
    message = load_error(ONE_ITEM + "    needs: [a]\n")
    assert message == "checklists/gate.yaml:7: items -> 0 -> needs: 'a' must come before 'a'"


def test_bad_item_fields() -> None:
    assert load_error(ONE_ITEM + "    timeout: forever\n") == (
        "checklists/gate.yaml:7: items -> 0 -> timeout: must be a duration like 30s or 5m"
    )
    assert load_error(ONE_ITEM + "    retry: {count: -1}\n") == (
        "checklists/gate.yaml:7: items -> 0 -> retry -> count: input should be greater than or equal to 0"
    )
    assert load_error(ONE_ITEM + "    blockng: false\n") == (
        "checklists/gate.yaml:7: items -> 0 -> blockng: unknown key; check the spelling (see `opsctl config schema`)"
    )
    assert load_error("title: T\nitems: []\n") == (
        "checklists/gate.yaml:2: items: list should have at least 1 item after validation, not 0"
    )
    assert load_error("title: T\nitems:\n  - id: Bad Id\n    title: A\n    uses: manual\n") == (
        "checklists/gate.yaml:3: items -> 0 -> id: string should match pattern '^[a-z0-9][a-z0-9_.-]*$'"
    )


def test_template_syntax_errors_are_found_at_load_time() -> None:
    message = load_error(
        "title: T\nitems:\n  - id: a\n    title: A\n    uses: command\n    with:\n      argv: ['echo', '{{ oops']\n"
    )
    assert message == (
        "checklists/gate.yaml:7: items -> 0 -> with -> argv: "
        "template syntax error: unexpected end of template, expected 'end of print statement'."
    )


def test_when_syntax_errors_are_found_at_load_time() -> None:
    message = load_error(ONE_ITEM + "    when: 'env.name =='\n")
    assert message.startswith("checklists/gate.yaml:7: items -> 0 -> when: template syntax error: ")


def test_the_checklist_files_own_yaml_errors() -> None:
    assert load_error("title: T\nitems:\n  - id: a\n  - id: b\n    id: c\n") == (
        "checklists/gate.yaml:5: items -> 1 -> id: duplicate key (first at line 4)"
    )
    assert load_error("- a\n") == "checklists/gate.yaml:1: the top level is a list; expected a mapping of keys"


# --- finding: project first, then built-ins ---------------------------------------------------------


def test_project_checklist_replaces_the_builtin_of_the_same_name(builtins: Path) -> None:
    write_text(
        builtins / "checklists" / "pre-deploy.yaml",
        """
        title: Built-in pre-deploy
        items:
          - {id: builtin-only, title: B, uses: manual}
    """,
    )
    write_text(
        builtins / "checklists" / "post-deploy.yaml",
        "title: Built-in post\nitems:\n  - {id: x, title: X, uses: manual}\n",
    )
    write_checklist(Path.cwd(), "pre-deploy", ONE_ITEM.replace("Gate", "Project pre-deploy"))

    loaded = load_checklist("pre-deploy", Path.cwd())

    assert loaded.model.title == "Project pre-deploy"
    assert [i.id for i in loaded.model.items] == ["a"]  # replaced entirely, not merged
    assert loaded.source.origin == "project"
    assert [(s.name, s.origin) for s in sources("checklists", Path.cwd())] == [
        ("post-deploy", "built-in"),
        ("pre-deploy", "project"),
    ]
    assert load_checklist("post-deploy", Path.cwd()).source.origin == "built-in"
    assert load_checklist("pre-deploy", None).model.title == "Built-in pre-deploy"


def test_unknown_checklist_lists_the_available_ones(builtins: Path) -> None:
    write_text(builtins / "checklists" / "post-deploy.yaml", "title: P\nitems:\n  - {id: x, title: X, uses: manual}\n")
    write_checklist(Path.cwd(), "smoke", ONE_ITEM)
    with pytest.raises(BadInput) as caught:
        load_checklist("pre-deploy", Path.cwd())
    assert str(caught.value) == "no checklist named 'pre-deploy' (available: post-deploy, smoke)"


def test_unknown_checklist_when_there_are_none() -> None:
    with pytest.raises(BadInput) as caught:
        load_checklist("pre-deploy", None)
    assert str(caught.value) == "no checklist named 'pre-deploy' (available: none)"


@pytest.mark.parametrize("name", ["../etc/passwd", "Pre Deploy", "", "a/b", ".hidden"])
def test_names_that_are_not_checklist_names(name: str) -> None:
    with pytest.raises(BadInput) as caught:
        load_checklist(name, Path.cwd())
    assert str(caught.value) == (f"'{name}' is not a checklist name (use letters, digits and dashes, like pre-deploy)")


def test_builtins_ship_from_the_repository_folder_in_a_checkout() -> None:
    repo = Path(loader.__file__).resolve().parents[2]
    assert REAL_BUILTIN_DIR("checklists") == repo / "checklists"
    assert REAL_BUILTIN_DIR("runbooks") == repo / "runbooks"


# --- runbooks: every reference is checked when the runbook loads -------------------------------------

GATE = "title: Gate\nitems:\n  - {id: a, title: A, uses: manual}\n"
ROLLBACK = "title: Roll back\nsteps:\n  - {id: back, title: Back, uses: platform.rollback}\n"
DEPLOY = """\
title: Deploy
rollback_runbook: {rollback}
steps:
  - id: gate
    title: Gate
    checklist: {checklist}
  - id: deploy
    title: Roll out
    uses: platform.deploy
    on_failure: rollback
"""


def write_runbook(name: str, body: str, folder: Path | None = None) -> None:
    write_text((folder or Path.cwd()) / "runbooks" / f"{name}.yaml", body)


def runbook_error(rollback: str = "rollback", checklist: str = "gate") -> str:
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("rollback", ROLLBACK)
    write_runbook("hot-patch", ROLLBACK.replace("Roll back", "Hot-patch"))
    write_runbook("deploy", DEPLOY.format(rollback=rollback, checklist=checklist))
    with pytest.raises(ConfigError) as caught:
        load_runbook("deploy", Path.cwd())
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_runbook_loads_with_its_references() -> None:
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("rollback", ROLLBACK)
    write_runbook("deploy", DEPLOY.format(rollback="rollback", checklist="gate"))

    loaded = load_runbook("deploy", Path.cwd())

    assert (loaded.model.rollback_runbook, [s.checklist for s in loaded.model.steps]) == ("rollback", ["gate", None])


def test_an_unknown_rollback_runbook_is_named_with_the_known_ones() -> None:
    assert runbook_error(rollback="does-not-exist") == (
        "runbooks/deploy.yaml:2: rollback_runbook: no runbook 'does-not-exist' (known: deploy, hot-patch, rollback)"
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("../../etc/passwd", "'../../etc/passwd'"),
        ("a/b", "'a/b'"),
        ("'..'", "'..'"),
        ("Rollback", "'Rollback'"),
        ("'.hidden'", "'.hidden'"),
        ('"rollback\\n"', "'rollback\\n'"),  # a newline after a valid name: still one line, and refused
    ],
)
def test_a_rollback_runbook_that_is_not_a_runbook_name(written: str, shown: str) -> None:
    assert runbook_error(rollback=written) == (
        f"runbooks/deploy.yaml:2: rollback_runbook: {shown} is not a runbook name "
        "(use letters, digits and dashes, like rollback)"
    )


def test_an_unknown_checklist_step_is_named_where_it_is_written() -> None:
    assert runbook_error(checklist="pre-deploy") == (
        "runbooks/deploy.yaml:6: steps -> 0 -> checklist: no checklist 'pre-deploy' (known: gate)"
    )


@pytest.mark.parametrize("name", ["../../etc/passwd", "../checklists/gate", "Gate"])
def test_a_checklist_step_that_is_not_a_checklist_name(name: str) -> None:
    assert runbook_error(checklist=f"'{name}'") == (
        f"runbooks/deploy.yaml:6: steps -> 0 -> checklist: '{name}' is not a checklist name "
        "(use letters, digits and dashes, like pre-deploy)"
    )


def test_a_rollback_step_without_rollback_runbook_needs_the_default_one() -> None:
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("deploy", DEPLOY.format(rollback="null", checklist="gate"))

    with pytest.raises(ConfigError) as caught:
        load_runbook("deploy", Path.cwd())

    assert (
        str(caught.value) == "runbooks/deploy.yaml:10: steps -> 1 -> on_failure: no runbook 'rollback' (known: deploy)"
    )


def test_a_runbook_with_no_rollback_step_needs_no_rollback_runbook() -> None:
    write_runbook("tidy", "title: Tidy\nsteps:\n  - {id: plan, title: Plan, uses: platform.plan}\n")

    assert load_runbook("tidy", Path.cwd()).model.rollback_runbook is None


def test_the_rollback_runbook_is_loaded_too_and_its_errors_name_its_file() -> None:
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("rollback", ROLLBACK + "  - {id: verify, title: Verify, checklist: rollback-verify}\n")
    write_runbook("deploy", DEPLOY.format(rollback="rollback", checklist="gate"))

    with pytest.raises(ConfigError) as caught:
        load_runbook("deploy", Path.cwd())

    assert (
        str(caught.value)
        == "runbooks/rollback.yaml:4: steps -> 1 -> checklist: no checklist 'rollback-verify' (known: gate)"
    )


def test_a_project_runbook_may_roll_back_with_a_built_in_one(builtins: Path) -> None:
    write_runbook("rollback", ROLLBACK, builtins)
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("deploy", DEPLOY.format(rollback="rollback", checklist="gate"))

    assert load_runbook("deploy", Path.cwd()).source.origin == "project"


def test_runbooks_that_roll_back_with_each_other_load_without_looping() -> None:
    write_checklist(Path.cwd(), "gate", GATE)
    write_runbook("deploy", DEPLOY.format(rollback="undo", checklist="gate"))
    write_runbook("undo", "title: Undo\nrollback_runbook: deploy\n" + ROLLBACK.split("\n", 1)[1])
    write_runbook("self", DEPLOY.format(rollback="self", checklist="gate"))

    assert load_runbook("deploy", Path.cwd()).model.rollback_runbook == "undo"
    assert load_runbook("undo", Path.cwd()).model.rollback_runbook == "deploy"
    assert load_runbook("self", Path.cwd()).model.rollback_runbook == "self"
