"""HTML and Markdown rendering of a built report (no template engine: the page is small and self-contained)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_ROWS = 25

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#111;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #333}h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #aaa}
table{border-collapse:collapse;font-size:.82em;margin:.5em 0 1.2em}th,td{border:1px solid #bbb;padding:2px 6px;
text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#333}
.meta td{text-align:left}.skipped{color:#8a4b00}.verdict-holds{font-weight:bold}
nav ul{columns:2}.small{font-size:.85em;color:#444}
"""


@dataclass
class RenderedTable:
    name: str
    caption: str
    df: pd.DataFrame
    csv: str


@dataclass
class RenderedFigure:
    name: str
    caption: str
    png: str


@dataclass
class RenderedSection:
    name: str
    title: str
    paper_ref: str
    intro: str
    findings: list[str] = field(default_factory=list)
    tables: list[RenderedTable] = field(default_factory=list)
    figures: list[RenderedFigure] = field(default_factory=list)
    skipped: str | None = None


def _fmt_value(col: str, v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else ""
    if isinstance(v, (float, np.floating)):
        if col.endswith("_p") or "p_value" in col:
            return "<1e-300" if v < 1e-300 else f"{v:.1e}"
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, (list, tuple, np.ndarray)):
        return f"[{len(v)} values]"
    return str(v)


def format_table(df: pd.DataFrame, max_rows: int | None = MAX_ROWS) -> tuple[list[str], list[list[str]], int]:
    """Header, formatted rows (at most ``max_rows``; None: every row) and the number of rows left out."""
    if max_rows is None:
        max_rows = len(df)
    head = df.head(max_rows)
    rows = [[_fmt_value(str(c), v) for c, v in zip(head.columns, r)] for r in head.itertuples(index=False)]
    return [str(c) for c in df.columns], rows, max(0, len(df) - max_rows)


def _html_inline(text: str) -> str:
    """Escape, then allow the only markup findings use: **bold**."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def render_html(title: str, header: list[tuple[str, str]], summary: list[str],
                sections: list[RenderedSection], footer: str) -> str:
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
           "<meta name='viewport' content='width=device-width, initial-scale=1'>", f"<style>{_CSS}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", "<table class='meta'>"]
    out += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in header]
    out.append("</table>")
    if summary:
        out.append("<h2 id='summary'>Summary</h2><ul>" + "".join(f"<li>{_html_inline(s)}</li>" for s in summary) + "</ul>")
    out.append("<nav><ul>" + "".join(f"<li><a href='#{s.name}'>{html.escape(s.title)}</a></li>" for s in sections)
               + "</ul></nav>")
    for s in sections:
        out.append(f"<h2 id='{s.name}'>{html.escape(s.title)} <span class='small'>({html.escape(s.paper_ref)})</span></h2>")
        if s.skipped:
            out.append(f"<p class='skipped'>Skipped: {html.escape(s.skipped)}</p>")
            continue
        if s.intro:
            out.append(f"<p>{_html_inline(s.intro)}</p>")
        if s.findings:
            out.append("<ul>" + "".join(f"<li>{_html_inline(f)}</li>" for f in s.findings) + "</ul>")
        for f in s.figures:
            out.append(f"<figure><img src='{html.escape(f.png)}' alt='{html.escape(f.caption)}'>"
                       f"<figcaption>{html.escape(f.caption)}</figcaption></figure>")
        for t in s.tables:
            cols, rows, left = format_table(t.df)
            out.append(f"<p><strong>{html.escape(t.caption)}</strong> "
                       f"<a class='small' href='{html.escape(t.csv)}'>(CSV, {len(t.df)} rows)</a></p><table><tr>"
                       + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows]
            out.append("</table>")
            if left:
                out.append(f"<p class='small'>{left} more rows in the CSV file.</p>")
    out.append(f"<hr><p class='small'>{html.escape(footer)}</p></body></html>")
    return "\n".join(out)


def _md_cell(v: str) -> str:
    return v.replace("|", "\\|")


def markdown_table(df: pd.DataFrame, max_rows: int | None = MAX_ROWS) -> tuple[list[str], int]:
    """The lines of ``df`` as a Markdown table (values formatted as in the report), and how many rows were left out
    (``max_rows=None``: none; a document's table, such as DATASET.md's blocks, is whole)."""
    cols, rows, left = format_table(df, max_rows)
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    return lines + ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in rows], left


def render_markdown(title: str, header: list[tuple[str, str]], summary: list[str],
                    sections: list[RenderedSection], footer: str) -> str:
    out = [f"# {title}", ""]
    out += [f"- **{k}**: {v}" for k, v in header] + [""]
    if summary:
        out += ["## Summary", ""] + [f"- {s}" for s in summary] + [""]
    for s in sections:
        out += [f"## {s.title} ({s.paper_ref})", ""]
        if s.skipped:
            out += [f"*Skipped: {s.skipped}*", ""]
            continue
        if s.intro:
            out += [s.intro, ""]
        out += [f"- {f}" for f in s.findings] + ([""] if s.findings else [])
        for f in s.figures:
            out += [f"![{f.caption}]({f.png})", "", f"*{f.caption}*", ""]
        for t in s.tables:
            lines, left = markdown_table(t.df)
            out += [f"**{t.caption}** ([CSV, {len(t.df)} rows]({t.csv}))", "", *lines]
            out += (["", f"*{left} more rows in the CSV file.*"] if left else []) + [""]
    out += ["---", footer, ""]
    return "\n".join(out)
