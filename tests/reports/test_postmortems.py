"""Action items from a post-mortem file: only rows someone filled in; files outside the project are not read."""

from __future__ import annotations

from pathlib import Path

from opsctl.reports.postmortems import ActionItem, action_items, read_postmortem

DRAFT = """# Post-mortem: INC-3

## Action items

| Action | Owner | Due | Ticket |
|---|---|---|---|
| _Prevent it:_ add a canary stage | alice | 2026-12-01 | OPS-7 |
| _Detect it sooner:_ | | | |
| _Respond faster:_ page on p95 | bob | | |
| rotate the DB password | carol | 2026-12-10 | OPS-9 |

## Appendix

| Not | an | action | item |
|---|---|---|---|
| x | y | z | w |
"""


def test_filled_rows_are_action_items_and_prompts_are_not() -> None:
    assert action_items(DRAFT) == [
        ActionItem("add a canary stage", "alice", "2026-12-01", "OPS-7"),
        ActionItem("page on p95", "bob", "", ""),
        ActionItem("rotate the DB password", "carol", "2026-12-10", "OPS-9"),
    ]


def test_an_untouched_draft_has_none() -> None:
    untouched = "## Action items\n\n| Action | Owner | Due | Ticket |\n|---|---|---|---|\n| _Prevent it:_ | | | |\n"
    assert action_items(untouched) == []
    assert action_items("# no such section\n") == []


def test_only_files_inside_the_project_are_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "postmortems").mkdir(parents=True)
    (project / "postmortems" / "INC-3.md").write_text(DRAFT)
    (tmp_path / "secret.md").write_text(DRAFT)
    assert len(read_postmortem(project, "postmortems/INC-3.md").items) == 3
    outside = read_postmortem(project, "../secret.md")
    assert (outside.items, outside.problem) == ((), "outside the project folder: not read")
    missing = read_postmortem(project, "postmortems/INC-9.md")
    assert missing.problem == "cannot be read: No such file or directory"
