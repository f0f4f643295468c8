"""Tables that fit the terminal (80 columns, or a pipe's 80) without cutting an id or a status.

Rich shrinks every column of a table that is too wide and cuts cells with
"…", which turns ``r20261127-101500-1a2b3c`` into ``r202611…``: the one
thing a reader copies from a table. Here each column says how it may give
way: **whole** columns (ids, statuses, environment names) are never cut or
wrapped; **wrap** columns (times, free text) wrap, folding long words, down
to a minimum width; columns with a **drop** rank are left out, highest rank
first, until the rest fits, and the caption names what was left out. The
widths are computed here and handed to Rich as fixed, so Rich never
shortens a cell on its own. Notes under the table (a caption, the columns
left out) are plain lines at the terminal's width, not wrapped to the table's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

# A boxed Rich table draws a border and one space of padding either side of each column.
_BORDER = 1
_PER_COLUMN = 3


@dataclass(frozen=True)
class Column:
    """How one column gives way when the table is too wide.

    ``wrap``: the cells may wrap (and fold long words) down to ``min_width``;
    otherwise every cell is shown whole, on one line. ``drop``: 0 never left
    out; otherwise left out before columns of a lower rank. ``squeeze``: a
    wrapping column narrowed (to its minimum) before those of a lower rank,
    so that free text wraps before a step name is folded.
    """

    header: str
    wrap: bool = False
    min_width: int = 10
    drop: int = 0
    squeeze: int = 0
    justify: str = "left"


def fit_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    title: str | None = None,
    caption: str | None = None,
    **options: Any,
) -> RenderableType:
    """A Rich table of ``rows`` (cells in Rich markup) at most ``width`` columns wide, and its notes.

    When even the whole columns alone do not fit, the table is as narrow as
    they allow and the terminal folds its lines: an id is never cut.
    """
    from rich.table import Table

    natural = [max([_width(c.header), *(_width(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    least = [min(natural[i], c.min_width) if c.wrap else natural[i] for i, c in enumerate(columns)]
    # A column with nothing in it (no header, no cell: a flags column with no flag) takes no room at all.
    shown = [i for i in range(len(columns)) if natural[i]]
    while _total(least, shown) > width:
        droppable = [i for i in shown if columns[i].drop]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    widths = _shrink(columns, shown, natural, least, width - _BORDER - _PER_COLUMN * len(shown))
    dropped = [columns[i].header for i in range(len(columns)) if i not in shown and natural[i]]
    notes = [caption] if caption else []
    if dropped:
        notes.append(f"hidden to fit {width} columns: {', '.join(dropped)} (--json shows all)")
    table = Table(title=title, title_justify="left", **options)
    for i in shown:
        column = columns[i]
        table.add_column(
            column.header,
            width=widths[i],
            no_wrap=not column.wrap,
            overflow="fold" if column.wrap else "ellipsis",
            justify=column.justify,  # type: ignore[arg-type]
        )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    if not notes:
        return table
    from rich.console import Group
    from rich.text import Text

    return Group(table, *(Text(note) for note in notes))


def _shrink(columns: Sequence[Column], shown: list[int], natural: list[int], least: list[int], room: int) -> list[int]:
    """Each shown column's width: natural, then wrapping columns narrowed until they fit ``room``.

    The highest ``squeeze`` rank gives way first; within a rank, the widest.
    """
    widths = list(natural)
    excess = sum(widths[i] for i in shown) - room
    while excess > 0:
        narrowable = [i for i in shown if columns[i].wrap and widths[i] > least[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: (columns[i].squeeze, widths[i]))
        widths[widest] -= 1
        excess -= 1
    return widths


def _total(least: list[int], shown: list[int]) -> int:
    return _BORDER + sum(least[i] + _PER_COLUMN for i in shown)


def _width(cell: str) -> int:
    """The widest line of a cell, as the terminal shows it (markup removed, wide characters counted twice)."""
    from rich.text import Text

    return max((Text.from_markup(line).cell_len for line in str(cell).split("\n")), default=0)


# The tables several commands draw, least useful columns dropped first (highest ``drop``).
TIME = Column("started", wrap=True, min_width=10)  # "2026-11-27 10:15:00" wraps after the date
RUN_COLUMNS = (
    TIME,
    Column("run"),
    Column("runbook", drop=2),
    Column("env", drop=1),
    Column("actor", drop=4),
    Column("image", drop=3),
    Column("status"),
)
RELEASE_COLUMNS = (
    Column("when", wrap=True, min_width=10),
    Column("release"),
    Column("image", drop=1),
    Column("verdict"),
    Column("run", drop=2),
    Column("actor", drop=3),
)
INCIDENT_COLUMNS = (
    Column("id"),
    Column("sev"),
    Column("status"),
    Column("opened", wrap=True, min_width=10),
    Column("env", wrap=True, min_width=10, drop=1),
    Column("title", wrap=True, min_width=14, squeeze=1),
    Column("acknowledge", wrap=True, min_width=8, drop=3),
    Column("resolve", wrap=True, min_width=8, drop=2),
    Column("", wrap=True, min_width=12),  # a missed response, an overdue post-mortem: never dropped
)
