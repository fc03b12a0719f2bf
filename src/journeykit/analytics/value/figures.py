"""Plotly figures for the value models. Each function takes a result and returns a Figure.

Figures only display results; they compute nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.analytics.value.drivers import DriverAnalysis
    from journeykit.analytics.value.personas import Personas
    from journeykit.analytics.value.predict import Evaluation


def clv_histogram(clv: pd.DataFrame, *, bins: int = 50) -> go.Figure:
    """The distribution of predicted CLV (from :func:`~.clv.predict_clv`)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Histogram(x=clv["clv"], nbinsx=bins, name="people"))
    fig.update_layout(
        title="Predicted customer lifetime value", xaxis_title="CLV", yaxis_title="people"
    )
    return fig


def clv_segment_bars(by_segment: pd.DataFrame) -> go.Figure:
    """Mean CLV per segment (from :func:`~.clv.clv_by_segment`), with people on hover."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=by_segment.index.astype(str),
            y=by_segment["clv_mean"],
            customdata=by_segment[["people", "clv_total"]].to_numpy(),
            hovertemplate="%{x}<br>mean CLV %{y:,.2f}<br>people %{customdata[0]:,}"
            "<br>total %{customdata[1]:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(title="Mean predicted CLV by segment", yaxis_title="mean CLV")
    return fig


def attribution_comparison(table: pd.DataFrame, *, metric: str = "conversions") -> go.Figure:
    """Grouped bars: credit per key under each model (from :func:`~.attribution.compare_models`)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        [go.Bar(name=model, x=table.index.astype(str), y=table[model]) for model in table.columns]
    )
    fig.update_layout(barmode="group", title=f"Attributed {metric} by model", yaxis_title=metric)
    return fig


def attribution_intervals(boot: pd.DataFrame, *, metric: str = "conversions") -> go.Figure:
    """Credit per key with its bootstrap interval (from :func:`~.attribution.bootstrap_attribution`)."""
    import plotly.graph_objects as go

    est = boot[metric]
    fig = go.Figure(
        go.Bar(
            x=boot.index.astype(str),
            y=est,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (boot[f"{metric}_high"] - est).clip(lower=0),
                "arrayminus": (est - boot[f"{metric}_low"]).clip(lower=0),
            },
        )
    )
    fig.update_layout(title=f"Attributed {metric} with bootstrap intervals", yaxis_title=metric)
    return fig


def driver_forest(analysis: DriverAnalysis) -> go.Figure:
    """Forest plot: each driver's odds ratio (or OLS coefficient) with its 95 % interval."""
    import plotly.graph_objects as go

    d = analysis.drivers.iloc[::-1]
    logistic = analysis.kind == "logistic"
    mid, low, high = (
        ("odds_ratio", "or_low", "or_high") if logistic else ("coef", "ci_low", "ci_high")
    )
    colors = d["direction"].map({"positive": "#2a9d8f", "negative": "#e76f51"}).fillna("#8d99ae")
    fig = go.Figure(
        go.Scatter(
            x=d[mid],
            y=d["label"],
            mode="markers",
            marker={"size": 10, "color": colors.tolist()},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": d[high] - d[mid],
                "arrayminus": d[mid] - d[low],
            },
            customdata=d[["importance", "p_value"]].to_numpy(),
            hovertemplate="%{y}<br>%{x:.3g}<br>importance %{customdata[0]:.0%}"
            "<br>p %{customdata[1]:.3g}<extra></extra>",
        )
    )
    fig.add_vline(x=1.0 if logistic else 0.0, line_dash="dot")
    fig.update_layout(
        title=f"Drivers of {analysis.goal.replace('_', ' ')}",
        xaxis_title="odds ratio (95% CI)" if logistic else "coefficient (95% CI)",
        xaxis_type="log" if logistic else "linear",
    )
    return fig


def driver_importance(analysis: DriverAnalysis) -> go.Figure:
    """Horizontal bars of relative importance (shares summing to 1)."""
    import plotly.graph_objects as go

    d = analysis.drivers.iloc[::-1]
    fig = go.Figure(go.Bar(x=d["importance"], y=d["label"], orientation="h"))
    fig.update_layout(
        title=f"Relative importance for {analysis.goal.replace('_', ' ')}",
        xaxis_tickformat=".0%",
    )
    return fig


def calibration_plot(evaluation: Evaluation, *, title: str = "Calibration") -> go.Figure:
    """Reliability diagram: observed rate against mean predicted score per decile."""
    import plotly.graph_objects as go

    r = evaluation.reliability
    fig = go.Figure(
        [
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"}),
            go.Scatter(
                x=r["mean_predicted"],
                y=r["observed_rate"],
                mode="lines+markers",
                name="model",
                customdata=r["n"],
                hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>n %{customdata}",
            ),
        ]
    )
    fig.update_layout(
        title=f"{title} (AUC {evaluation.auc:.3f}, recency only {evaluation.baseline_auc:.3f}; "
        f"Brier {evaluation.brier:.3f})",
        xaxis_title="mean predicted probability",
        yaxis_title="observed rate",
    )
    return fig


def persona_map(personas: Personas) -> go.Figure:
    """Personas as bubbles: conversions against value, sized by people, named on hover."""
    import plotly.graph_objects as go

    p = personas.profiles
    size = 60 * (p["people"] / p["people"].max()) ** 0.5
    fig = go.Figure(
        go.Scatter(
            x=p["conversions"],
            y=p["revenue"],
            mode="markers+text",
            text=p["name"],
            textposition="top center",
            marker={"size": size.clip(lower=8)},
            customdata=p["description"],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{personas.k} personas", xaxis_title="conversions (mean)", yaxis_title="value (mean)"
    )
    return fig
