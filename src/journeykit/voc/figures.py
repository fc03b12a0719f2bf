"""Plotly figures for the voice of the customer: NPS trend, theme bars, emotion curve.

Each function takes the DataFrame a report function returns and gives back a
``plotly.graph_objects.Figure``; nothing is shown or written. Numbers from small samples
(``low_sample``) are drawn as hollow markers so they are seen but not over-read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from journeykit.errors import InputError

if TYPE_CHECKING:
    import plotly.graph_objects as go

_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _need(frame: pd.DataFrame, *columns: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError(f"the figure needs a {column!r} column", field=column)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def nps_trend(
    frame: pd.DataFrame,
    *,
    group: str | None = None,
    value: str = "nps",
    title: str = "NPS over time",
) -> go.Figure:
    """A line per group of NPS (or CSAT / CES) over time, with its confidence band.

    Args:
        frame: the output of ``nps(..., freq=...)`` (``period``, ``nps``, ``nps_low``,
            ``nps_high``, ``n``, ``low_sample``); ``csat`` or ``ces`` frames work with
            ``value="csat"`` / ``"ces"``.
        group: a group column for one line each (e.g. ``touchpoint``).
        value: the measure column; its ``_low`` and ``_high`` columns give the band.
        title: the figure title.

    Returns:
        A plotly Figure.

    >>> df = pd.DataFrame({"period": pd.to_datetime(["2026-01-05", "2026-01-12"]),
    ...                    "nps": [10.0, 20.0], "nps_low": [0.0, 8.0], "nps_high": [20.0, 32.0],
    ...                    "n": [40, 50], "low_sample": [False, False]})
    >>> len(nps_trend(df).data)
    2
    """
    import plotly.graph_objects as go

    low, high = f"{value}_low", f"{value}_high"
    _need(frame, "period", value, low, high, "n", "low_sample")
    figure = go.Figure()
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for i, (name, rows) in enumerate(groups):
        rows = rows.sort_values("period")
        colour = _PALETTE[i % len(_PALETTE)]
        label = value.upper() if name is None else str(name)
        periods = list(rows["period"])
        figure.add_trace(
            go.Scatter(
                x=periods + periods[::-1],
                y=list(rows[high]) + list(rows[low])[::-1],
                fill="toself",
                fillcolor=_rgba(colour, 0.15),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name=f"{label} interval",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=periods,
                y=rows[value],
                mode="lines+markers",
                name=label,
                line={"color": colour},
                marker={
                    "color": ["white" if s else colour for s in rows["low_sample"]],
                    "line": {"color": colour, "width": 2},
                    "size": 8,
                },
                customdata=rows[["n", low, high]].to_numpy(),
                hovertemplate=(
                    "%{x|%Y-%m-%d}: %{y:.1f} (%{customdata[1]:.1f} to %{customdata[2]:.1f}), "
                    "n=%{customdata[0]}<extra>" + label + "</extra>"
                ),
            )
        )
    y_range = [-100, 100] if value == "nps" else None
    figure.update_layout(
        title=title,
        xaxis_title="period",
        yaxis_title=value.upper(),
        yaxis={"range": y_range} if y_range else {},
        template="plotly_white",
    )
    return figure


def theme_bars(
    themes: pd.DataFrame,
    *,
    top: int = 15,
    title: str = "What customers talk about",
) -> go.Figure:
    """Horizontal bars of comments per theme, coloured by mean sentiment when known.

    Args:
        themes: ``ThemeReport.themes`` or ``Themes.themes`` (``label``, ``n``; optionally
            ``mean_sentiment``, ``keywords``, ``quotes``).
        top: the largest themes shown.
        title: the figure title.

    Returns:
        A plotly Figure.

    >>> t = pd.DataFrame({"label": ["payment / card", "late / delivery"], "n": [30, 20],
    ...                   "mean_sentiment": [-0.8, -0.5]})
    >>> list(theme_bars(t).data[0].y)
    ['late / delivery', 'payment / card']
    """
    import plotly.graph_objects as go

    _need(themes, "label", "n")
    rows = themes.sort_values("n", ascending=False).head(top).iloc[::-1]
    marker: dict[str, object] = {"color": "#1f77b4"}
    if "mean_sentiment" in rows.columns:
        marker = {
            "color": rows["mean_sentiment"].fillna(0.0).tolist(),
            "colorscale": "RdYlGn",
            "cmin": -1.0,
            "cmax": 1.0,
            "colorbar": {"title": "sentiment"},
        }
    hover = []
    for _, row in rows.iterrows():
        parts = [f"{row['label']}: {row['n']} comments"]
        if "keywords" in rows.columns and isinstance(row["keywords"], list | tuple):
            parts.append("keywords: " + ", ".join(row["keywords"][:8]))
        if "quotes" in rows.columns and isinstance(row["quotes"], list | tuple) and row["quotes"]:
            parts.append(f"“{row['quotes'][0]}”")
        hover.append("<br>".join(parts))
    figure = go.Figure(
        go.Bar(
            x=rows["n"],
            y=rows["label"],
            orientation="h",
            marker=marker,
            hovertext=hover,
            hoverinfo="text",
        )
    )
    figure.update_layout(
        title=title, xaxis_title="comments", template="plotly_white", margin={"l": 220}
    )
    return figure


def emotion_curve(
    frame: pd.DataFrame,
    *,
    by: str = "stage",
    value: str = "mean_sentiment",
    order: Sequence[str] | None = None,
    title: str = "Emotion along the journey",
) -> go.Figure:
    """The emotion curve: mean sentiment per stage (or touchpoint) in journey order.

    Args:
        frame: the output of ``sentiment_by`` / ``emotion_report`` (``by``, ``mean_sentiment``,
            ``low``, ``high``, ``n``, ``low_sample``); an NPS-by-stage frame works with
            ``value="nps"``.
        by: the column along the x axis.
        value: the measure; ``low``/``high`` (or ``<value>_low``/``<value>_high``) give the
            error bars when present.
        order: the x order (the frame's order by default).
        title: the figure title.

    Returns:
        A plotly Figure.

    >>> df = pd.DataFrame({"stage": ["purchase", "awareness"], "mean_sentiment": [-0.2, 0.4],
    ...                    "low": [-0.3, 0.3], "high": [-0.1, 0.5], "n": [50, 60],
    ...                    "low_sample": [False, False]})
    >>> list(emotion_curve(df, order=["awareness", "purchase"]).data[0].x)
    ['awareness', 'purchase']
    """
    import plotly.graph_objects as go

    _need(frame, by, value)
    rows = frame
    if order is not None:
        rank = {v: i for i, v in enumerate(order)}
        rows = rows.assign(_r=rows[by].map(lambda v: rank.get(v, len(rank)))).sort_values(
            "_r", kind="stable"
        )
    low = next((c for c in (f"{value}_low", "low") if c in rows.columns), None)
    high = next((c for c in (f"{value}_high", "high") if c in rows.columns), None)
    error = None
    if low and high:
        error = {
            "type": "data",
            "symmetric": False,
            "array": (rows[high] - rows[value]).tolist(),
            "arrayminus": (rows[value] - rows[low]).tolist(),
            "thickness": 1,
        }
    flagged = rows["low_sample"].tolist() if "low_sample" in rows.columns else [False] * len(rows)
    colours = ["#2ca02c" if v >= 0 else "#d62728" for v in rows[value]]
    figure = go.Figure(
        go.Scatter(
            x=rows[by].astype(str).tolist(),
            y=rows[value],
            mode="lines+markers",
            line={"color": "#555555", "shape": "spline"},
            marker={
                "size": 12,
                "color": ["white" if f else c for f, c in zip(flagged, colours, strict=True)],
                "line": {"color": colours, "width": 2},
            },
            error_y=error,
            name=value,
        )
    )
    figure.add_hline(y=0, line={"color": "#999999", "dash": "dot"})
    y_range = [-1.05, 1.05] if value == "mean_sentiment" else None
    figure.update_layout(
        title=title,
        xaxis_title=by,
        yaxis_title=value.replace("_", " "),
        yaxis={"range": y_range} if y_range else {},
        template="plotly_white",
    )
    return figure
