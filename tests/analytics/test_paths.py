"""Flows and paths: hand-computed cases, the reference, and agreement with funnels."""

from __future__ import annotations

from collections import Counter

from analytics_reference import fresh_ws, journeys, step_counts, transitions, variant_counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.analytics import (
    flow_graph,
    flows,
    funnel,
    next_steps,
    step_matrix,
    transition_matrix,
    variants,
)

# a: A B B C; b: A X B (B 95 minutes later: a new session); c: B A
LOG = [
    ("a", "A", 0),
    ("a", "B", 10),
    ("a", "B", 11),
    ("a", "C", 20),
    ("b", "A", 0),
    ("b", "X", 5),
    ("b", "B", 100),
    ("c", "B", 0),
    ("c", "A", 5),
]


def pairs(df, value="transitions"):
    return {(r.source, r.target): getattr(r, value) for r in df.itertuples()}


def test_transition_matrix(make_ws):
    ws = make_ws(LOG)
    t = transition_matrix(ws, detail=True)
    assert pairs(t.table) == {
        ("A", "B"): 1,
        ("A", "X"): 1,
        ("B", "A"): 1,
        ("B", "B"): 1,
        ("B", "C"): 1,
        ("X", "B"): 1,
    }
    assert pairs(t.table, "probability")[("B", "C")] == 1 / 3
    assert pairs(t.table, "median_seconds")[("X", "B")] == 95 * 60
    assert t.matrix().loc["A", "B"] == 0.5
    collapsed = transition_matrix(ws, collapse_repeats=True, include_ends=True).table
    got = pairs(collapsed)
    assert ("B", "B") not in got
    assert got[("(start)", "A")] == 2 and got[("C", "(end)")] == 1 and got[("A", "(end)")] == 1
    sessions = pairs(transition_matrix(ws, per="session").table)
    assert ("X", "B") not in sessions and sessions[("A", "X")] == 1
    other = pairs(transition_matrix(ws, top_events=2).table)
    assert other[("A", "(other)")] == 1 and other[("(other)", "B")] == 1


def test_step_matrix_and_next_steps(make_ws):
    ws = make_ws(LOG)
    sm = step_matrix(ws, max_steps=3)
    cells = {(r.step, r.event): r.units for r in sm.itertuples()}
    assert cells == {
        (1, "A"): 2,
        (1, "B"): 1,
        (2, "A"): 1,
        (2, "B"): 1,
        (2, "X"): 1,
        (3, "B"): 2,
        (3, "(end)"): 1,
    }
    assert sm.groupby("step")["share"].sum().round(9).eq(1).all()
    anchored = {
        (r.step, r.event): r.units for r in step_matrix(ws, max_steps=2, anchor="A").itertuples()
    }
    assert anchored == {(1, "A"): 3, (2, "B"): 1, (2, "X"): 1, (2, "(end)"): 1}
    back = {
        (r.offset, r.event): r.units
        for r in next_steps(ws, "B", steps=2, direction="previous").itertuples()
    }
    assert back == {
        (-1, "(start)"): 1,
        (-1, "A"): 1,
        (-1, "X"): 1,
        (-2, "(start)"): 2,
        (-2, "A"): 1,
    }


def test_variants_and_flows(make_ws):
    ws = make_ws(LOG)
    v = variants(ws)
    assert dict(zip(v["variant"], v["units"], strict=True)) == {
        "A > B > B > C": 1,
        "A > X > B": 1,
        "B > A": 1,
    }
    g = variants(ws, goal="B", collapse_repeats=True)
    assert dict(zip(g["variant"], g["converted"], strict=True)) == {"(none)": 1, "A": 1, "A > X": 1}
    assert g["conversion"].tolist() == [1.0, 1.0, 1.0]
    cut = variants(ws, max_length=2)
    assert set(cut["variant"]) == {"A > B > …", "A > X > …", "B > A"}
    f = flows(ws, steps=3)
    links = {(r.step, r.source, r.target): r.units for r in f.links.itertuples()}
    assert links == {
        (1, "A", "B"): 1,
        (1, "A", "X"): 1,
        (1, "B", "A"): 1,
        (2, "B", "B"): 1,
        (2, "X", "B"): 1,
        (2, "A", "(end)"): 1,
    }
    assert f.total == 3
    fig = f.figure()
    assert fig.data[0].type == "sankey"
    anchored = flows(ws, steps=2, anchor="A")
    assert anchored.total == 3
    graph = flow_graph(ws)
    assert graph.nodes.set_index("event").loc["B", "events"] == 4
    assert len(graph.figure().data) > 1


def test_figures_stay_readable_with_many_events(make_ws):
    specs = [(f"u{i}", f"E{(i * 7 + k) % 300}", k) for i in range(60) for k in range(6)]
    ws = make_ws(specs)
    f = flows(ws, steps=4, max_nodes=5)
    assert f.links.groupby("step")["source"].nunique().max() <= 6
    fig = flow_graph(ws).figure(max_nodes=12)
    labels = [t for tr in fig.data if tr.mode == "markers+text" for t in tr.text]
    assert len(labels) <= 14


def test_paths_agree_with_funnels(make_ws):
    ws = make_ws(LOG)
    for a, b in [("A", "B"), ("B", "A"), ("A", "X"), ("A", "C")]:
        strict = funnel(ws, [a, b], mode="strict").table["units"].iloc[1]
        nxt = next_steps(ws, a, steps=1)
        assert strict == int(nxt[nxt["event"] == b]["units"].sum())
        ordered = funnel(ws, [a, b]).table["units"].iloc[1]
        v = variants(ws, top=None)
        follows = sum(
            n
            for path, n in zip(v["variant"], v["units"], strict=True)
            if a in path.split(" > ") and b in path.split(" > ")[path.split(" > ").index(a) + 1 :]
        )
        assert ordered == follows


LOGS = st.lists(
    st.tuples(
        st.sampled_from([f"u{i}" for i in range(8)]), st.sampled_from("ABCD"), st.integers(0, 30)
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=LOGS, collapse=st.booleans())
def test_matches_reference(log, collapse):
    ws = fresh_ws(log)
    try:
        js = journeys(ws)
        got = transition_matrix(ws, collapse_repeats=collapse).table
        assert Counter(pairs(got)) == +transitions(js, collapse)
        sm = step_matrix(ws, max_steps=4)
        cells = Counter({(r.step, r.event): r.units for r in sm.itertuples() if r.event != "(end)"})
        assert cells == +step_counts(js, 4)
        v = variants(ws, top=None)
        assert Counter(dict(zip(v["variant"], v["units"], strict=True))) == variant_counts(js)
        a, b = "A", "B"
        strict = funnel(ws, [a, b], mode="strict").table["units"].tolist()
        nxt = next_steps(ws, a, steps=1)
        assert strict[1] == int(nxt[nxt["event"] == b]["units"].sum())
    finally:
        ws.close()
