"""One self-contained HTML page: inline CSS, no script, no external resource.

The page's Content-Security-Policy forbids every fetch (``default-src
'none'``): even a string from the audit log that escaped escaping could not
load anything. It reads at phone (390 px) and desktop widths (charts scale
with their viewBox; wide tables scroll in their own box) and follows the
reader's light or dark preference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsctl.reports.svg import esc

CSS = """
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#fff;--panel:#f5f7fa;--grid:#dde2ea;
--ok:#1f8a4c;--warn:#c77c02;--bad:#c8283c;--c0:#2f6fd6;--c1:#8a4fd1;--c2:#d1497f;--c3:#138a8a;--c4:#b35f00;
--c5:#5b6475;--target:#c8283c}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#a3abbb;--bg:#14171d;--panel:#1d222b;
--grid:#333a46;--ok:#3fbf73;--warn:#f0a93b;--bad:#ff6b7d;--c0:#6fa0ff;--c1:#b58cff;--c2:#ff7fb0;--c3:#4fd1d1;
--c4:#ff9f45;--c5:#a3abbb;--target:#ff6b7d}}
*{box-sizing:border-box}
body{margin:0;padding:16px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px}h3{font-size:1.05em;margin:16px 0 6px}
p.meta,.note{color:var(--muted)}
section{margin-bottom:12px}
.grid-2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:16px}
figure{margin:0;padding:12px;background:var(--panel);border-radius:8px;min-width:0}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:var(--grid);stroke-width:1}
svg .tick{fill:var(--muted);font-size:12px}
figcaption{font-weight:600;margin-bottom:4px}
svg .target{stroke:var(--target);stroke-width:1.5;stroke-dasharray:6 4}
svg path.line{fill:none;stroke-width:2}
.ok{fill:var(--ok);stroke:var(--ok)}.warn{fill:var(--warn);stroke:var(--warn)}.bad{fill:var(--bad);stroke:var(--bad)}
.c0{fill:var(--c0);stroke:var(--c0)}.c1{fill:var(--c1);stroke:var(--c1)}.c2{fill:var(--c2);stroke:var(--c2)}
.c3{fill:var(--c3);stroke:var(--c3)}.c4{fill:var(--c4);stroke:var(--c4)}.c5{fill:var(--c5);stroke:var(--c5)}
svg path.line{fill:none}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.9em}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:5px;vertical-align:-1px}
.swatch.ok{background:var(--ok)}.swatch.warn{background:var(--warn)}.swatch.bad{background:var(--bad)}
.swatch.c0{background:var(--c0)}.swatch.c1{background:var(--c1)}.swatch.c2{background:var(--c2)}
.swatch.c3{background:var(--c3)}.swatch.c4{background:var(--c4)}.swatch.c5{background:var(--c5)}
.swatch.target{background:none;border-top:2px dashed var(--target);height:0;border-radius:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9em;margin:6px 0}
th,td{padding:4px 8px;border-bottom:1px solid var(--grid);text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
td.text,th.text{text-align:left}
caption{text-align:left;color:var(--muted);padding-bottom:4px}
details{margin-top:4px}summary{cursor:pointer;color:var(--muted)}
.met{color:var(--ok)}.not-met{color:var(--bad)}.no-evidence{color:var(--warn)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em;overflow-wrap:anywhere}
@media (max-width:600px){body{padding:10px;font-size:14px}th,td{padding:3px 5px}
svg .tick{font-size:20px}svg .tick.minor{display:none}}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Section:
    """A heading and its HTML body (already escaped by whoever built it)."""

    title: str
    body: str
    anchor: str = ""


def page(title: str, meta: str, sections: Sequence[Section]) -> str:
    """The whole document: ``title`` (escaped here), a line of ``meta`` text (escaped), the sections in order."""
    body = "".join(f"<section{_attr('id', s.anchor)}><h2>{esc(s.title)}</h2>{s.body}</section>" for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f'<body><main><h1>{esc(title)}</h1><p class="meta">{esc(meta)}</p>{body}</main></body></html>\n'
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str = "", text_cols: int = 1) -> str:
    """A data table; every cell escaped. The first ``text_cols`` columns are left-aligned text."""
    head = "".join(
        f'<th scope="col"{_attr("class", "text" if i < text_cols else "")}>{esc(h)}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            shown = "-" if value is None else esc(value)
            if i == 0:
                cells.append(f'<th scope="row">{shown}</th>')
            else:
                cells.append(f'<td class="text">{shown}</td>' if i < text_cols else f"<td>{shown}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def paragraph(text: str, css: str = "") -> str:
    """One escaped paragraph."""
    return f"<p{_attr('class', css)}>{esc(text)}</p>"


def _attr(name: str, value: str) -> str:
    """`` name="value"`` (escaped), or nothing for an empty value."""
    return f' {name}="{esc(value)}"' if value else ""


def charts(*figures: str) -> str:
    """Figures side by side on wide screens, stacked on narrow ones."""
    return f'<div class="grid-2">{"".join(figures)}</div>'
