"""Retention, churn, lifecycle and stickiness: hand-computed cases and the reference."""

from __future__ import annotations

import pandas as pd
import pytest
from analytics_reference import fresh_ws, journeys, weekly_retention
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.analytics import churn, lifecycle, retention, stickiness
from journeykit.analytics._common import period_index
from journeykit.errors import NoSpec
from journeykit.journey import set_spec

DAY = 24 * 60
SPEC = """
stages:
  - {name: use, touchpoints: [{name: Use, event: A}]}
  - {name: buy, touchpoints: [{name: Buy, event: purchase}]}
goals: [purchase]
"""
# days from Monday 2026-03-02: a 0 1 8 22 (order on 8); b 3 15; c 9 10 30 (orders on 10 and 30)
LOG = [
    ("a", "A", 0),
    ("a", "A", DAY),
    ("a", "Order Completed", 8 * DAY),
    ("a", "A", 22 * DAY),
    ("b", "A", 3 * DAY, {}, "app"),
    ("b", "A", 15 * DAY),
    ("c", "A", 9 * DAY),
    ("c", "Order Completed", 10 * DAY),
    ("c", "Order Completed", 30 * DAY),
]


def test_n_period_and_unbounded_retention(make_ws):
    ws = make_ws(LOG)
    r = retention(ws, periods=4)
    m = r.matrix("retained")
    assert m.loc[m.index[0]].tolist() == [1, 1, 1, 1, 0]  # cohort of Mar 2: a and b
    assert m.loc[m.index[1]].dropna().tolist() == [1, 0, 0, 1]  # cohort of Mar 9: c
    assert r.table["complete"].tolist()[-1] is False or not r.table["complete"].iloc[-1]
    u = retention(ws, periods=4, kind="unbounded").matrix("retained")
    assert u.loc[u.index[0]].tolist() == [2, 2, 2, 1, 0]
    curve = r.curve()
    assert curve["cohort_size"].tolist() == [3, 3, 3, 3, 2]
    bought = retention(
        ws,
        cohort="first_purchase",
        returning="Order Completed",
        periods=3,
        purchase_event="Order Completed",
    )
    assert bought.table["retained"].tolist() == [0, 0, 0, 1]
    # without a spec, first_purchase has no meaning: say how to make one, never guess
    with pytest.raises(NoSpec, match="spec infer"):
        retention(ws, cohort="first_purchase", periods=3)
    # another workspace names its purchase otherwise: its spec says what first_purchase means
    renamed = make_ws(
        [(r[0], "purchase" if r[1] == "Order Completed" else r[1], *r[2:]) for r in LOG]
    )
    set_spec(renamed, SPEC, by="test")
    from_spec = retention(renamed, cohort="first_purchase", returning="purchase", periods=3)
    pd.testing.assert_frame_equal(from_spec.table, bought.table)
    churned = churn(renamed, inactivity="7d", grain="week", activity="first_purchase")
    assert churned.equals(churn(ws, inactivity="7d", grain="week", activity="Order Completed"))
    by = retention(ws, periods=1, by="channel").table
    assert set(by["channel"]) == {"web", "app"}
    monthly = retention(ws, grain="month", periods=1).table
    assert monthly["cohort"].astype(str).tolist() == ["2026-03-01", "2026-03-01"]
    assert monthly["retained"].tolist() == [3, 1]  # period 1 is April: c on Apr 1
    assert r.figure().data[0].type == "heatmap"


def test_churn_lifecycle_stickiness(make_ws):
    ws = make_ws(LOG)
    c = churn(ws, inactivity="7d")
    assert c["period"].astype(str).tolist() == ["2026-03-09", "2026-03-16", "2026-03-23"]
    assert c["active_start"].tolist() == [2, 2, 1]
    assert c["churned"].tolist() == [1, 2, 1]
    life = lifecycle(ws)
    assert life[["new", "returning", "resurrecting", "dormant"]].values.tolist() == [
        [2, 0, 0, 0],
        [1, 1, 0, 1],
        [0, 0, 1, 2],
        [0, 0, 1, 1],
        [0, 0, 1, 1],
    ]
    s = stickiness(ws, window_days=7).set_index("day")
    day = {str(k): v for k, v in s["mau"].items()}
    assert day["2026-03-05"] == 2 and day["2026-03-11"] == 3 and day["2026-03-12"] == 2
    assert s["dau"].sum() == 9  # person-days: a 4, b 2, c 3


def test_period_index_weeks_start_monday():
    import ibis

    t = ibis.memtable({"ts": ["2026-03-01 23:00:00", "2026-03-02 00:00:00"]}).mutate(
        ts=ibis._.ts.cast("timestamp")
    )
    from journeykit.analytics._common import epoch_us

    q = t.mutate(w=period_index(t.ts, epoch_us(t.ts, "duckdb"), "week"))
    w = ibis.duckdb.connect().execute(q)["w"].tolist()
    assert w[1] == w[0] + 1


LOGS = st.lists(
    st.tuples(
        st.sampled_from([f"u{i}" for i in range(8)]),
        st.sampled_from("AB"),
        st.integers(0, 40 * DAY),
    ),
    min_size=1,
    max_size=50,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=LOGS)
def test_retention_matches_reference(log):
    ws = fresh_ws(log)
    try:
        want = weekly_retention(journeys(ws), 4)
        got = retention(ws, periods=4).table
        week0 = {}
        for r in got.itertuples():
            from datetime import date

            idx = ((r.cohort - date(1970, 1, 1)).days + 3) // 7
            week0[(idx, r.period)] = (r.cohort_size, r.retained)
        assert week0 == want
    finally:
        ws.close()
