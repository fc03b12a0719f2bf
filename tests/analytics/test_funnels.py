"""Funnels: hand-computed cases, and random logs against the pure-Python reference."""

from __future__ import annotations

import pytest
from analytics_reference import fresh_ws, funnel_counts, journeys, person_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.analytics import Exclusion, Step, funnel
from journeykit.errors import InputError, InvalidFilter

# a: A B C quickly; b: A X B; c: B then A (never converts); d: A A, B a day later, C
LOG = [
    ("a", "A", 0, {"platform": "ios"}),
    ("a", "B", 10),
    ("a", "C", 20),
    ("b", "A", 0, {"platform": "web"}),
    ("b", "X", 5),
    ("b", "B", 10),
    ("c", "B", 0),
    ("c", "A", 5, {"platform": "ios"}),
    ("d", "A", 0, {"platform": "ios"}),
    ("d", "A", 1),
    ("d", "B", 2000),
    ("d", "C", 2001),
]


def units(result) -> list[int]:
    return result.table["units"].tolist()


def test_ordered_strict_and_any(make_ws):
    ws = make_ws(LOG)
    ordered = funnel(ws, ["A", "B", "C"])
    assert units(ordered) == [4, 3, 2]
    assert ordered.table["conversion"].round(4).tolist() == [1.0, 0.75, 0.6667]
    assert ordered.table["dropped"].tolist() == [0, 1, 1]
    assert ordered.overall.iloc[0][["entered", "converted"]].tolist() == [4, 2]
    # step 2 times: a 600 s, b 600 s, d 2000 min; median 600
    assert ordered.table["median_seconds"].iloc[1] == 600.0
    assert ordered.overall["median_seconds"].iloc[0] == pytest.approx((1200 + 2001 * 60) / 2)
    assert units(funnel(ws, ["A", "B", "C"], mode="strict")) == [4, 1, 1]
    assert units(funnel(ws, ["A", "B", "C"], mode="any")) == [4, 4, 2]


def test_windows_overall_and_per_step(make_ws):
    ws = make_ws(LOG)
    assert units(funnel(ws, ["A", "B", "C"], window="1h")) == [4, 2, 1]
    # per-step: B within 10 minutes of A keeps a and b; C within 1 minute of B keeps none of a
    assert units(funnel(ws, ["A", Step("B", within="10m"), Step("C", within="1m")])) == [4, 2, 0]
    # d reaches B after 2000 minutes: a window of exactly that is inclusive
    assert units(funnel(ws, ["A", "B"], window=2000 * 60)) == [4, 3]
    with pytest.raises(InputError):
        funnel(ws, ["A", Step("B", within="1h")], mode="any")


def test_optional_steps_and_exclusions(make_ws):
    ws = make_ws(LOG)
    strict = funnel(ws, ["A", Step("X", optional=True), "B"], mode="strict")
    assert units(strict) == [4, 1, 2]
    ordered = funnel(ws, ["A", {"event": "X", "optional": True}, "B"])
    assert units(ordered) == [4, 1, 3]
    assert ordered.table["conversion"].tolist()[2] == 0.75  # over step 1, not the optional
    excluded = funnel(ws, ["A", "B"], exclude=["X"])
    assert units(excluded) == [3, 2]
    between = funnel(ws, ["A", "B", "C"], exclude=[Exclusion("X", between=(2, 3))])
    assert units(between) == [4, 3, 2]
    with pytest.raises(InputError):
        funnel(ws, [Step("A", optional=True), "B"])


def test_per_session_and_conditions(make_ws):
    ws = make_ws(LOG)
    assert units(funnel(ws, ["A", "B"], per="session")) == [4, 2]
    ios = funnel(ws, [Step("A", where='properties.platform == "ios"'), "B"])
    assert units(ios) == [3, 2]
    with pytest.raises(InputError):
        funnel(ws, [Step("A", where='first_channel == "web"'), "B"])
    with pytest.raises(InvalidFilter):
        funnel(ws, [Step("A", where="properties.platform = 'ios'"), "B"])


def test_breakdowns_and_cohorts(make_ws):
    ws = make_ws(LOG)
    people = person_of(ws)
    by = funnel(ws, ["A", "B", "C"], window="1h", by="properties.platform")
    got = {(r["properties.platform"], r["step"]): r["units"] for _, r in by.table.iterrows()}
    assert got == {
        ("ios", 1): 3,
        ("ios", 2): 1,
        ("ios", 3): 1,
        ("web", 1): 1,
        ("web", 2): 1,
        ("web", 3): 0,
    }
    dropped = by.dropped_at(2, group={"properties.platform": "ios"})
    assert sorted(dropped["person_id"]) == sorted([people["c"], people["d"]])
    assert list(funnel(ws, ["A", "B"]).dropped_at("B")["person_id"]) == [people["c"]]
    week = funnel(ws, ["A", "B"], by="week").table
    assert str(week["week"].iloc[0]) == "2026-03-02"
    seg = funnel(ws, ["A", "B"], by={"ios": 'properties.platform == "ios"', "x": 'event == "X"'})
    got = {(r["segment"], r["step"]): r["units"] for _, r in seg.table.iterrows()}
    assert got == {("ios", 1): 3, ("ios", 2): 2, ("x", 1): 1, ("x", 2): 1}
    only = funnel(ws, ["A", "B"], segment='count(event == "C") >= 1')
    assert units(only) == [2, 2]
    times = funnel(ws, ["A", "B"]).times()
    assert sorted(times["seconds"]) == [600.0, 600.0, 2000 * 60.0]


def test_thirty_steps_and_dates(make_ws):
    names = [f"S{i:02d}" for i in range(32)]
    ws = make_ws(
        [("u", n, i) for i, n in enumerate(names)] + [("v", n, i) for i, n in enumerate(names[:10])]
    )
    result = funnel(ws, names)
    assert units(result)[:10] == [2] * 10 and units(result)[10:] == [1] * 22
    late = funnel(ws, names[:2], start="2026-03-03")
    assert units(late) == [0, 0]
    assert late.overall["entered"].tolist() == [0]


def test_figure(make_ws):
    fig = funnel(make_ws(LOG), ["A", "B", "C"], by="properties.platform").figure()
    assert len(fig.data) == 2 and list(fig.data[0].x) == [3, 2, 2]


EVENTS = st.sampled_from(["A", "B", "C", "D"])
LOGS = st.lists(
    st.tuples(st.sampled_from([f"u{i}" for i in range(8)]), EVENTS, st.integers(0, 40)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=LOGS,
    mode=st.sampled_from(["ordered", "strict", "any"]),
    steps=st.lists(EVENTS, min_size=2, max_size=4),
    window=st.sampled_from([None, 5, 20]),
)
def test_matches_reference(log, mode, steps, window):
    ws = fresh_ws(log)
    try:
        got = units(funnel(ws, steps, mode=mode, window=None if window is None else window * 60))
        want = funnel_counts(
            journeys(ws), steps, mode, None if window is None else window * 60_000_000
        )
        assert got == want
    finally:
        ws.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=LOGS, steps=st.lists(EVENTS, min_size=2, max_size=3), within=st.sampled_from([1, 10]))
def test_per_step_windows_match_reference(log, steps, within):
    ws = fresh_ws(log)
    try:
        spec = [steps[0], *[Step(s, within=within * 60) for s in steps[1:]]]
        want = funnel_counts(
            journeys(ws), steps, "ordered", None, [None] + [within * 60_000_000] * (len(steps) - 1)
        )
        assert units(funnel(ws, spec)) == want
    finally:
        ws.close()
