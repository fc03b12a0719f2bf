"""Small HTML builders shared by the dashboard pages: the page shell, cards, tables, charts.

Pages are plain strings: every value that came from data or from a request goes through
:func:`esc` (text) or :func:`attr` (attribute values) and figures travel as JSON inside
``<script type="application/json">`` blocks, with ``</`` escaped so no value can close them.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

#: The pages in the navigation: (path, label).
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/journey", "Journey map"),
    ("/funnels", "Funnels"),
    ("/flows", "Flows"),
    ("/retention", "Retention"),
    ("/segments", "Segments"),
    ("/voc", "Voice of the customer"),
    ("/people", "People"),
    ("/automations", "Automations"),
)

#: Colours used across charts (accessible on white, distinguishable in grey).
PALETTE = (
    "#2563eb",
    "#f97316",
    "#10b981",
    "#e11d48",
    "#8b5cf6",
    "#0891b2",
    "#ca8a04",
    "#64748b",
    "#db2777",
    "#65a30d",
)


def esc(value: Any) -> str:
    """Text made safe for HTML content."""
    return html.escape("" if value is None else str(value), quote=False)


def attr(value: Any) -> str:
    """Text made safe for a quoted HTML attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` element."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def query(params: Mapping[str, Any], **changes: Any) -> str:
    """A query string from ``params`` with ``changes`` applied (``None`` removes a key)."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged, doseq=True) if merged else ""


# --- numbers --------------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing values."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA raise or compare unequal
    except TypeError:
        return True


def fmt_int(value: Any) -> str:
    """``12,345`` (or an en dash when missing)."""
    return "–" if is_missing(value) else f"{round(float(value)):,}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals and thousands separators."""
    return "–" if is_missing(value) else f"{float(value):,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1, *, share: bool = True) -> str:
    """A percentage; ``share=True`` reads 0.25 as 25%."""
    if is_missing(value):
        return "–"
    v = float(value) * (100.0 if share else 1.0)
    return f"{v:,.{digits}f}%"


def fmt_money(value: Any, symbol: str = "") -> str:
    """``£12,345`` with the spec's currency symbol (no decimals above 100).

    >>> fmt_money(1234.5, "£"), fmt_money(-57.01, "CHF "), fmt_money(3.5)
    ('£1,234', '-CHF 57.01', '3.50')
    """
    if is_missing(value):
        return "–"
    v = float(value)
    sign = "-" if v < 0 else ""
    return f"{sign}{symbol}{abs(v):,.0f}" if abs(v) >= 100 else f"{sign}{symbol}{abs(v):,.2f}"


def fmt_duration(seconds: Any) -> str:
    """``45s``, ``12m``, ``3.5h``, ``2.1d``."""
    if is_missing(seconds):
        return "–"
    s = float(seconds)
    if s < 90:
        return f"{s:.0f}s"
    if s < 90 * 60:
        return f"{s / 60:.0f}m"
    if s < 36 * 3600:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f}d"


def fmt_cell(value: Any) -> str:
    """Default display of a table cell."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def raw_cell(value: Any) -> str:
    """The value a CSV download gets for a cell."""
    if is_missing(value):
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return str(value)


# --- building blocks -------------------------------------------------------------------------


@dataclass
class Figures:
    """Collects the figures of one page so each gets a unique element id."""

    prefix: str = "fig"
    count: int = 0
    names: list[str] = field(default_factory=list)

    def chart(
        self,
        fig: go.Figure,
        *,
        name: str,
        height: int = 360,
        title: str | None = None,
        css: str = "",
    ) -> str:
        """A chart container and its figure JSON (rendered by dashboard.js with Plotly)."""
        self.count += 1
        fid = f"{self.prefix}-{self.count}"
        self.names.append(name)
        style_figure(fig, height=height)
        payload = fig.to_json(validate=False, engine="json")
        head = f"<h3>{esc(title)}</h3>" if title else ""
        return (
            f'<figure class="chart-box {attr(css)}">{head}'
            f'<div class="chart" id="{fid}" data-name="{attr(name)}" style="min-height:{height}px">'
            "</div>"
            f'<script type="application/json" data-for="{fid}">{script_json(payload)}</script>'
            "</figure>"
        )


def style_figure(fig: go.Figure, *, height: int) -> None:
    """House layout: compact margins, system font, the palette, legends that fit a phone."""
    fig.update_layout(
        height=height,
        margin={"l": 48, "r": 16, "t": 40 if fig.layout.title.text else 16, "b": 40},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        colorway=list(PALETTE),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"namelength": -1},
    )
    fig.update_xaxes(gridcolor="#e5e7eb", zerolinecolor="#d1d5db", automargin=True)
    fig.update_yaxes(gridcolor="#e5e7eb", zerolinecolor="#d1d5db", automargin=True)


def table(
    frame: pd.DataFrame,
    *,
    name: str,
    formats: Mapping[str, Any] | None = None,
    caption: str | None = None,
    limit: int | None = 500,
    links: Mapping[str, Any] | None = None,
    numeric: Iterable[str] | None = None,
    row_formats: Sequence[Any] | None = None,
) -> str:
    """A data table with a CSV download button (the CSV holds the raw values).

    Args:
        frame: the rows (its columns are the headers).
        name: the CSV file name stem.
        formats: column -> function giving the displayed text of a value.
        caption: a heading above the table.
        limit: most rows shown (and downloaded); ``None`` for all.
        links: column -> function giving an href for a value.
        numeric: columns to right-align (default: numeric dtypes).
        row_formats: one function per row, for the cells of ``numeric`` columns without a
            column format (tables whose rows are metrics of different kinds).
    """
    import pandas as pd

    formats = formats or {}
    links = links or {}
    shown = frame if limit is None else frame.head(limit)
    if numeric is None:
        numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]
    right = set(numeric)
    head = "".join(
        f'<th class="{"num" if c in right else ""}">{esc(c)}</th>' for c in shown.columns
    )
    rows = []
    for i, record in enumerate(shown.itertuples(index=False, name=None)):
        cells = []
        for column, value in zip(shown.columns, record, strict=True):
            if column in formats:
                text = formats[column](value)
            elif row_formats is not None and column in right:
                text = row_formats[i](value)
            else:
                text = fmt_cell(value)
            if column in links and not is_missing(value):
                text = f'<a href="{attr(links[column](value))}">{esc(text)}</a>'
            else:
                text = esc(text)
            cls = ' class="num"' if column in right else ""
            if isinstance(value, datetime):
                cls = ' class="when"'
            cells.append(f'<td{cls} data-v="{attr(raw_cell(value))}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(frame) > limit:
        more = f'<p class="note">Showing {limit:,} of {len(frame):,} rows.</p>'
    cap = f"<h3>{esc(caption)}</h3>" if caption else "<span></span>"
    return (
        f'<div class="table-box"><div class="table-head">{cap}'
        f'<button type="button" class="csv" data-name="{attr(name)}">Download CSV</button></div>'
        f'<div class="table-scroll"><table class="data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}</div>"
    )


def card(
    label: str,
    value: str,
    *,
    change: str = "",
    good: bool | None = None,
    note: str = "",
    spark: str = "",
) -> str:
    """A KPI card: label, big value, change against the previous period, a sparkline."""
    tone = "" if good is None else (" up" if good else " down")
    delta = f'<div class="delta{tone}">{esc(change)}</div>' if change else ""
    sub = f'<div class="note">{esc(note)}</div>' if note else ""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div>{delta}{sub}{spark}</div>'
    )


def notice(text: str, *, kind: str = "info") -> str:
    """A boxed message (``info``, ``warn`` or ``error``)."""
    return f'<div class="notice {attr(kind)}">{esc(text)}</div>'


def select(
    name: str, options: Sequence[tuple[str, str]], current: str | None, *, label: str
) -> str:
    """A labelled ``<select>``; ``options`` are (value, text)."""
    opts = "".join(
        f'<option value="{attr(v)}"{" selected" if v == (current or "") else ""}>{esc(t)}</option>'
        for v, t in options
    )
    return (
        f'<label class="field"><span>{esc(label)}</span>'
        f'<select name="{attr(name)}">{opts}</select></label>'
    )


def text_input(
    name: str,
    value: str | None,
    *,
    label: str,
    placeholder: str = "",
    kind: str = "text",
    wide: bool = False,
) -> str:
    """A labelled ``<input>``."""
    cls = "field wide" if wide else "field"
    return (
        f'<label class="{cls}"><span>{esc(label)}</span>'
        f'<input type="{attr(kind)}" name="{attr(name)}" value="{attr(value or "")}" '
        f'placeholder="{attr(placeholder)}"></label>'
    )


def page(title: str, body: str, *, active: str, version: str) -> str:
    """The whole document: head, navigation, the page's body."""
    nav = "".join(
        f'<a href="{path}"{" class=active" if path == active else ""}>{esc(label)}</a>'
        for path, label in NAV
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · journeykit</title>
<link rel="stylesheet" href="/static/dashboard.css?v={attr(version)}">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<script src="/static/plotly.min.js?v={attr(version)}" defer></script>
<script src="/static/dashboard.js?v={attr(version)}" defer></script>
</head><body>
<header class="top"><a class="brand" href="/">journeykit</a>
<nav>{nav}</nav><a class="signout" href="/logout">Sign out</a></header>
<main><h1>{esc(title)}</h1>
{body}
</main></body></html>"""
