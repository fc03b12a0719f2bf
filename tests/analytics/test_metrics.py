"""KPIs on a hand-made log with spend."""

from __future__ import annotations

import pandas as pd
import pytest

from journeykit.analytics import kpis
from journeykit.ingest.load import load_spend

DAY = 24 * 60
LOG = [
    ("a", "Ad Clicked", 0, {}, "ads"),
    ("a", "Product Viewed", DAY),
    ("a", "Order Completed", 2 * DAY, {}, "web", 50.0),
    ("a", "Order Completed", 20 * DAY, {}, "web", 30.0),
    ("b", "Social Post Viewed", 3 * DAY, {}, "social"),
    ("b", "Ad Clicked", 4 * DAY, {}, "ads"),
    ("b", "Order Completed", 5 * DAY, {}, "app", 20.0),
    ("c", "Product Viewed", 9 * DAY),
]
STAGES = {
    "awareness": ["Ad Clicked", "Social Post Viewed"],
    "consideration": ["Product Viewed"],
    "purchase": ["Order Completed"],
}


def test_kpis(make_ws):
    ws = make_ws(LOG)
    load_spend(
        ws,
        pd.DataFrame(
            {
                "date": ["2026-03-02", "2026-03-05"],
                "channel": ["ads", "social"],
                "amount": [100.0, 40.0],
            }
        ),
    )
    k = kpis(ws, stages=STAGES)
    assert k.value("active_people") == 3
    assert k.value("customers") == 2
    assert k.value("orders") == 3
    assert k.value("conversion_rate") == pytest.approx(2 / 3)
    assert k.value("average_order_value") == pytest.approx(100 / 3)
    assert k.value("purchase_frequency") == 1.5
    assert k.value("historical_clv") == pytest.approx(50.0)
    assert k.value("time_to_first_purchase_days") == pytest.approx(2.0)
    assert k.stages["units"].tolist() == [2, 1, 1]
    first = k.cac.set_index("channel")
    assert first.loc["ads", "new_customers"] == 1 and first.loc["social", "cac"] == 40.0
    last = kpis(ws, attribution="last_touch").cac.set_index("channel")
    assert last.loc["ads", "new_customers"] == 2 and last.loc["ads", "cac"] == 50.0
    # a range: only the week of Mar 9 .. Mar 23 (a's second order)
    late = kpis(ws, start="2026-03-09", end="2026-03-30", inactivity="7d")
    assert late.value("orders") == 1 and late.value("new_customers") == 0
    # churn over the range: a and b active in the 7 days before Mar 9; only a is back by Mar 30
    assert late.table.set_index("metric").loc["churn_rate", "value"] == pytest.approx(1.0)
    assert (
        kpis(ws, start="2026-03-09", end="2026-03-30", inactivity="14d").value("churn_rate") == 0.5
    )
    seg = kpis(ws, segment='first_channel == "ads"')
    assert seg.value("active_people") == 1 and seg.value("revenue") == 80.0
