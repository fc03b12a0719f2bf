"""Significance tests between segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journeykit.analytics import compare_rates, compare_segments, compare_values
from journeykit.analytics.compare import holm, wilson


def test_rates_match_scipy():
    df = pd.DataFrame(
        {"segment": ["a", "b", "c"], "converted": [50, 80, 52], "entered": [500, 500, 500]}
    )
    c = compare_rates(df)
    _chi2, p, _, _ = stats.chi2_contingency([[50, 450], [80, 420], [52, 448]], correction=False)
    assert c.test["p_value"] == pytest.approx(p)
    ab = c.pairs[(c.pairs["a"] == "a") & (c.pairs["b"] == "b")].iloc[0]
    assert ab["significant"] and ab["difference"] == pytest.approx(0.06)
    ac = c.pairs[(c.pairs["a"] == "a") & (c.pairs["b"] == "c")].iloc[0]
    assert not ac["significant"]
    lo, hi = wilson(50, 500)
    assert lo < 0.1 < hi
    assert list(c.significant()["b"]) == ["b", "c"]


def test_values_and_holm():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "segment": ["x"] * 200 + ["y"] * 200,
            "value": np.r_[rng.normal(10, 2, 200), rng.normal(11, 2, 200)],
        }
    )
    c = compare_values(df)
    assert c.pairs["significant"].iloc[0]
    x = c.groups.set_index("group").loc["x"]
    assert x["ci_low"] < 10 < x["ci_high"] + 0.5
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_compare_segments_on_a_log(make_ws):
    specs = [
        (f"p{i}", "Order Completed", i, {}, "web", float(100 if i < 20 else 10)) for i in range(40)
    ]
    ws = make_ws(specs)
    c = compare_segments(
        ws,
        {"big": "revenue >= 50", "small": "revenue < 50"},
        metric="revenue",
        purchase_event="Order Completed",
    )
    assert c.groups.set_index("group").loc["big", "estimate"] == 100.0
    assert c.pairs["significant"].iloc[0]
    f = compare_segments(
        ws,
        {"big": "revenue >= 50", "small": "revenue < 50"},
        metric="funnel",
        steps=["Order Completed", "Order Completed"],
    )
    assert f.groups["estimate"].tolist() == [0.0, 0.0]
