"""Figures: each one draws the numbers of its result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from journeykit.analytics.value import attribution, drivers, figures, predict
from journeykit.analytics.value.paths import build_paths
from journeykit.analytics.value.personas import Personas


def test_clv_figures() -> None:
    clv = pd.DataFrame({"clv": [1.0, 2.0, 30.0]})
    assert list(figures.clv_histogram(clv).data[0].x) == [1.0, 2.0, 30.0]
    seg = pd.DataFrame({"clv_mean": [5.0, 2.0], "people": [3, 4], "clv_total": [15.0, 8.0]},
                       index=["referred", "other"])  # fmt: skip
    bars = figures.clv_segment_bars(seg)
    assert list(bars.data[0].x) == ["referred", "other"]
    assert list(bars.data[0].y) == [5.0, 2.0]


def test_attribution_figures() -> None:
    rows = pd.DataFrame(
        {
            "person_id": ["a", "a", "a", "b", "b"],
            "ts": pd.to_datetime(
                ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01", "2026-01-02"]
            ),
            "channel": ["ads", "email", None, "social", None],
            "converted": [False, False, True, False, True],
            "revenue": [None, None, 10.0, None, 5.0],
        }
    )
    paths = build_paths(rows)
    table = attribution.compare_models(paths)
    fig = figures.attribution_comparison(table)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == list(attribution.MODELS)
    boot = attribution.bootstrap_attribution(paths, "linear", n_boot=20)
    fig = figures.attribution_intervals(boot)
    assert list(fig.data[0].y) == boot["conversions"].tolist()
    assert (np.asarray(fig.data[0].error_y.array) >= 0).all()


def test_driver_and_calibration_figures() -> None:
    data = pd.DataFrame({"welcome_email": [1, 1, 1, 0, 0, 0, 1, 0] * 10,
                         "converted": [1, 1, 0, 0, 0, 1, 1, 0] * 10})  # fmt: skip
    result = drivers.key_drivers(data, "converted")
    forest = figures.driver_forest(result)
    assert forest.layout.xaxis.type == "log"
    assert np.allclose(forest.data[0].x, [9.0])
    assert list(figures.driver_importance(result).data[0].x) == [1.0]
    reliability = pd.DataFrame(
        {"bin": [0, 1], "n": [5, 5], "mean_predicted": [0.2, 0.8], "observed_rate": [0.1, 0.9]}
    )
    ev = predict.Evaluation(10, 0.5, 0.9, 0.7, 0.1, 0.2, reliability)
    cal = figures.calibration_plot(ev)
    assert list(cal.data[1].y) == [0.1, 0.9]
    assert "AUC 0.900" in cal.layout.title.text


def test_persona_map() -> None:
    profiles = pd.DataFrame(
        {"name": ["A", "B"], "people": [10, 40], "conversions": [2.0, 0.1], "revenue": [100.0, 3.0],
         "description": ["x", "y"]}
    )  # fmt: skip
    p = Personas(2, pd.Series({2: 0.5}), profiles, pd.DataFrame())
    fig = figures.persona_map(p)
    assert list(fig.data[0].text) == ["A", "B"]
    assert fig.data[0].marker.size[1] == 60
