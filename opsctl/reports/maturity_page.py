"""``opsctl maturity --html FILE``: the assessment as one offline page (the level, then each level's criteria)."""

from __future__ import annotations

from opsctl.reports import figures as fig
from opsctl.reports.maturity import LEVELS, Assessment
from opsctl.reports.page import Section, page, paragraph, table
from opsctl.reports.svg import esc

_CSS = {"met": "met", "not met": "not-met", "no evidence": "no-evidence"}


def render(assessment: Assessment) -> str:
    """The page: the level reached and what the next one needs, then one table per level."""
    ahead = assessment.next_level()
    summary = [paragraph(f"Level reached: {assessment.level_name}.")]
    if ahead is not None:
        level, missing = ahead
        names = ", ".join(c.title for c in missing) or "nothing observable"
        summary.append(paragraph(f"For Level {level} ({LEVELS[level]}) still needed: {names}."))
    sections = [Section("Level", "".join(summary), "level")]
    for level, name in LEVELS.items():
        rows = [c for c in assessment.criteria if c.level == level]
        body = "".join(
            f'<tr><th scope="row">{esc(c.title)}</th><td class="text {_CSS[c.status]}">{esc(c.status)}'
            f"{'' if c.observable else ' (judge by hand)'}</td>"
            f'<td class="text">{esc(c.evidence)}</td><td class="text">{esc(c.next_step or "-")}</td></tr>'
            for c in rows
        )
        head = "".join(
            f'<th scope="col" class="text">{h}</th>' for h in ("criterion", "status", "evidence", "next step")
        )
        sections.append(
            Section(
                f"Level {level}: {name}",
                f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>',
                f"level-{level}",
            )
        )
    counts = [[s, sum(1 for c in assessment.criteria if c.status == s)] for s in ("met", "not met", "no evidence")]
    sections.append(Section("Summary", table(["status", "criteria"], counts)))
    meta = f"{fig.when(assessment.generated_at)} · evidence from the last {assessment.since_days:g} days · opsctl"
    return page(f"Operational maturity: {assessment.service}", meta, sections)
