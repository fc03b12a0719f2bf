"""KPIs on a hand-made log with spend."""

from __future__ import annotations

import pandas as pd
import pytest

from journeykit.analytics import kpis
from journeykit.errors import NoSpec
from journeykit.ingest.load import load_spend
from journeykit.journey import set_spec

DAY = 24 * 60
BUY = "Order Completed"
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
    k = kpis(ws, stages=STAGES, purchase_event=BUY)
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
    last = kpis(ws, attribution="last_touch", purchase_event=BUY).cac.set_index("channel")
    assert last.loc["ads", "new_customers"] == 2 and last.loc["ads", "cac"] == 50.0
    # a range: only the week of Mar 9 .. Mar 23 (a's second order)
    late = kpis(ws, start="2026-03-09", end="2026-03-30", inactivity="7d", purchase_event=BUY)
    assert late.value("orders") == 1 and late.value("new_customers") == 0
    # churn over the range: a and b active in the 7 days before Mar 9; only a is back by Mar 30
    assert late.table.set_index("metric").loc["churn_rate", "value"] == pytest.approx(1.0)
    assert (
        kpis(ws, start="2026-03-09", end="2026-03-30", inactivity="14d", purchase_event=BUY).value(
            "churn_rate"
        )
        == 0.5
    )
    seg = kpis(ws, segment='first_channel == "ads"', purchase_event=BUY)
    assert seg.value("active_people") == 1 and seg.value("revenue") == 80.0


# The same shop with bare snake_case names, its value in a property and its marketing
# touches named by the spec (the channel in a property too): the spec alone says what counts.
SNAKE = [
    ("a", "ad_click", 0, {"source": "ads"}, "web"),
    ("a", "product_view", DAY),
    ("a", "purchase", 2 * DAY, {"amount": 50}, "web"),
    ("a", "purchase", 20 * DAY, {"amount": 30}, "web"),
    ("b", "social_view", 3 * DAY, {"source": "social"}, "web"),
    ("b", "ad_click", 4 * DAY, {"source": "ads"}, "web"),
    ("b", "purchase", 5 * DAY, {"amount": 20}, "app"),
    ("c", "product_view", 9 * DAY),
]
SNAKE_SPEC = """
stages:
  - {name: awareness, touchpoints: [{name: Ad, event: ad_click}, {name: Post, event: social_view}]}
  - {name: consideration, touchpoints: [{name: Product, event: product_view}]}
  - {name: purchase, touchpoints: [{name: Buy, event: purchase}]}
goals: [purchase]
conversions: {events: [purchase], revenue: properties.amount}
marketing: {events: [ad_click, social_view], channel: properties.source}
"""


def test_kpis_read_the_names_from_the_spec(make_ws):
    ws = make_ws(SNAKE)
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
    with pytest.raises(NoSpec):
        kpis(ws)
    set_spec(ws, SNAKE_SPEC, by="test")
    k = kpis(ws)
    assert k.value("customers") == 2 and k.value("orders") == 3
    assert k.value("revenue") == 100.0
    assert k.value("average_order_value") == pytest.approx(100 / 3)
    assert k.value("historical_clv") == pytest.approx(50.0)
    # the spec's stages make the stage funnel
    assert k.stages["stage"].tolist() == ["awareness", "consideration", "purchase"]
    assert k.stages["units"].tolist() == [2, 1, 1]
    first = k.cac.set_index("channel")
    assert first.loc["ads", "new_customers"] == 1 and first.loc["social", "cac"] == 40.0
    last = kpis(ws, attribution="last_touch").cac.set_index("channel")
    assert last.loc["ads", "new_customers"] == 2 and last.loc["ads", "cac"] == 50.0
    # explicit arguments win over the spec
    assert kpis(ws, purchase_event="product_view").value("customers") == 2
    assert kpis(ws, revenue_field="revenue").value("revenue") == 0.0
