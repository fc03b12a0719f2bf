"""How the command line shows a table: readable units, the terminal's width, JSON and CSV.

Columns are read by name: ``*_seconds`` and ``*_days`` are durations (``2d 3h``), shares and
rates (``share``, ``conversion``, ``probability``, ``*_rate``, ...) percentages, money
(``revenue``, ``clv``, ``cac``, ``aov``, ``spend``, ...) is shown with the journey spec's
currency. A ``metric`` / ``value`` table is read row by row the same way. A table too wide for
the terminal is turned on its side when it has a few rows (one line per column), else shown
one record at a time (``column  value`` lines), instead of being crushed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

Kind = Literal["seconds", "days", "percent", "money", "count"]

_PERCENT = re.compile(
    r"^(share|conversion|conversion_from_start|probability|drop_off|retention|churn|uplift_share)$"
    r"|_(rate|share|conversion)$|^(rate|share)_"
)
_MONEY = re.compile(
    r"^(revenue|amount|spend|cac|clv|aov|average_order_value|historical_clv|monetary_value|"
    r"predicted_revenue|value_per_person)$|_(revenue|spend|clv|cac|amount)$|^(revenue|clv)_"
)


def kind_of(name: str) -> Kind | None:
    """What a column (or KPI) name says its numbers are.

    >>> [kind_of(n) for n in ("median_seconds", "share", "churn_rate", "revenue", "units")]
    ['seconds', 'percent', 'percent', 'money', None]
    """
    key = str(name).lower()
    if re.search(r"(^|_)seconds(_|$)", key):
        return "seconds"
    if re.search(r"_days(_|$)", key):
        return "days"
    if _PERCENT.search(key):
        return "percent"
    if _MONEY.search(key):
        return "money"
    return None


def human_duration(seconds: float) -> str:
    """A duration in its two largest units.

    >>> human_duration(1875507), human_duration(90), human_duration(7.5), human_duration(0.25)
    ('21d 16h', '1m 30s', '7.5s', '0.25s')
    """
    s = float(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s < 60:
        return f"{sign}{s:.3g}s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n = int(s // size)
        if n or parts:
            parts.append(f"{n}{unit}")
            s -= n * size
        if len(parts) == 2:
            break
    return sign + " ".join(p for p in parts if not p.startswith("0") or p == parts[0])


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def format_cell(value: Any, kind: Kind | None = None, currency: str = "") -> str:
    """One cell as text, in the unit its column says.

    >>> format_cell(0.1234, "percent"), format_cell(1234.5, "money", "£"), format_cell(3.0)
    ('12.3%', '£1,234.50', '3')
    """
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if kind == "seconds":
            return human_duration(v)
        if kind == "days":
            return human_duration(v * 86400)
        if kind == "percent":
            return f"{v * 100:.1f}%"
        if kind == "money":
            sign = "-" if v < 0 else ""
            return f"{sign}{currency}{abs(v):,.2f}"
        if float(v).is_integer():
            return f"{int(v):,}"
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "isoformat") and hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return format_cell(value.to_pydatetime())
    return str(value)


def cells(
    frame: pd.DataFrame, currency: str = "", kinds_by_name: Mapping[str, Kind] | None = None
) -> list[list[str]]:
    """Every row of ``frame`` as display texts (columns, or ``metric`` rows, give the unit)."""
    given = kinds_by_name or {}
    kinds = [given.get(str(c), kind_of(c)) for c in frame.columns]
    by_metric = "metric" in frame.columns and "value" in frame.columns
    value_at = list(frame.columns).index("value") if by_metric else -1
    out = []
    for row in frame.itertuples(index=False):
        row_kinds = list(kinds)
        if by_metric:
            row_kinds[value_at] = kind_of(str(row[list(frame.columns).index("metric")]))
        out.append([format_cell(v, k, currency) for v, k in zip(row, row_kinds, strict=True)])
    return out


def print_table(
    console: Console,
    frame: pd.DataFrame,
    title: str | None = None,
    *,
    limit: int = 50,
    currency: str = "",
    kinds: Mapping[str, Kind] | None = None,
) -> None:
    """Print ``frame`` (its first ``limit`` rows) to fit the console's width."""
    from rich.table import Table

    shown = frame.head(limit)
    rows = cells(shown, currency, kinds)
    table = Table(title=title, header_style="bold", expand=False)
    for col in shown.columns:
        numeric = shown[col].dtype.kind in "iuf"
        table.add_column(str(col), overflow="fold", justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*row)
    columns = [str(c) for c in shown.columns]
    if _fits(columns, rows, console.width):
        console.print(table)
    elif not _print_transposed(console, columns, rows, title):
        _print_records(console, columns, rows, title)
    if len(frame) > limit:
        console.print(f"[dim]… {len(frame) - limit:,} more rows (all of them with --csv)[/dim]")


def _fits(columns: Any, rows: list[list[str]], width: int) -> bool:
    """Whether a table shows well in ``width``: texts may wrap between words, but no word is
    cut below 12 characters and every header keeps up to 14 on one line."""
    need = 1
    for i, col in enumerate(columns):
        words = (w for r in rows for w in r[i].split())
        need += max(min(len(str(col)), 14), min(max((len(w) for w in words), default=0), 12)) + 3
    return need <= width


def _print_transposed(
    console: Console, columns: list[str], rows: list[list[str]], title: str | None
) -> bool:
    """A few wide rows as columns (one line per field), if that fits; whether it did."""
    from rich.table import Table

    if not rows or len(rows) > 8:
        return False
    fields = [[col, *(row[i] for row in rows)] for i, col in enumerate(columns)]
    headers = [columns[0], *(row[0] for row in rows)]
    if not _fits(headers, fields, console.width):
        return False
    table = Table(title=title, header_style="bold", expand=False)
    table.add_column(headers[0], style="bold", overflow="fold")
    for header in headers[1:]:
        table.add_column(header, overflow="fold", justify="right")
    for line in fields[1:]:
        table.add_row(*line)
    console.print(table)
    return True


def _print_records(
    console: Console, columns: list[str], rows: list[list[str]], title: str | None
) -> None:
    """A table too wide for the terminal, one record at a time."""
    if title:
        console.print(f"[bold]{title}[/bold]", highlight=False)
    width = max(len(c) for c in columns) if columns else 0
    for i, row in enumerate(rows):
        if i:
            console.print("")
        for col, text in zip(columns, row, strict=True):
            console.print(f"[bold]{col.rjust(width)}[/bold]  {text}", highlight=False)


def frame_json(frame: pd.DataFrame, title: str | None) -> str:
    """One table as one line of JSON: ``{"table": title, "rows": [{column: value}, ...]}``."""
    import json

    rows = json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))
    return json.dumps({"table": title, "rows": rows}, ensure_ascii=False)
