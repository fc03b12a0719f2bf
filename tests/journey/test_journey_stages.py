"""Stage assignment on hand-built journeys, and against a slow obvious reference."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import hypothesis.strategies as st
import pandas as pd
from hypothesis import HealthCheck, given, settings

import journeykit
from journeykit.ingest import load
from journeykit.journey.spec import JourneySpec, SpecBuilder
from journeykit.journey.stages import (
    END,
    START,
    current_stages,
    stage_history,
    stage_visits,
    time_in_stage,
    transition_matrix,
)
from journeykit.store import Workspace

SPEC = (
    SpecBuilder("Shop")
    .stage("aware")
    .touchpoint("Ad", events=["Ad Clicked"])
    .stage("consider")
    .touchpoint("Web visit", events=["Session Started"], channel="web")
    .touchpoint("Product", events=["Product Viewed"])
    .touchpoint("Mail", events=["Email Sent"], kind="message")
    .stage("buy")
    .touchpoint("Order", events=["Order Completed"])
    .goal("Order Completed")
    .build()
)


def visits_of(ws: Workspace, spec: JourneySpec = SPEC) -> dict[str, list[str]]:
    v = stage_visits(ws, spec).to_pandas().sort_values(["person_id", "visit"])
    users = ws.store.df("SELECT DISTINCT person_id, user_id FROM events WHERE user_id IS NOT NULL")
    name = dict(zip(users.person_id, users.user_id, strict=True))
    return {name[p]: list(g.stage) for p, g in v.groupby("person_id")}


def test_stage_visits_collapse_runs_and_skip_unmapped_events(
    journeys: Callable[..., Workspace],
) -> None:
    ws = journeys(
        {
            "ann": ["Ad Clicked", "Session Started", "Product Viewed", "Order Completed"],
            # "Login" is in no touchpoint; the e-mail does not move anyone
            "bob": [
                "Ad Clicked",
                "Login",
                "Ad Clicked",
                "Email Sent",
                "Product Viewed",
                "Login",
                "Product Viewed",
                "Ad Clicked",
                "Product Viewed",
            ],
            "cat": ["Order Completed", "Product Viewed", "Order Completed"],
        }
    )
    assert visits_of(ws) == {
        "ann": ["aware", "consider", "buy"],
        "bob": ["aware", "consider", "aware", "consider"],
        "cat": ["buy", "consider", "buy"],
    }


def test_channel_decides_the_touchpoint(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {
            # an app session is in no touchpoint: it neither moves nor breaks the run
            "ann": [
                "Ad Clicked",
                ("Session Started", {"channel": "app"}),
                "Ad Clicked",
                ("Session Started", {"channel": "web"}),
            ],
        }
    )
    assert visits_of(ws) == {"ann": ["aware", "consider"]}


def test_current_and_furthest_stage(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {
            "ann": ["Ad Clicked", "Product Viewed", "Order Completed", "Product Viewed"],
            "bob": ["Ad Clicked", "Email Sent"],
        }
    )
    cur = current_stages(ws, SPEC).to_pandas()
    users = ws.store.df("SELECT DISTINCT person_id, user_id FROM events")
    cur = cur.merge(users, on="person_id").set_index("user_id")
    assert cur.loc["ann", "stage"] == "consider"
    assert cur.loc["ann", "furthest_stage"] == "buy"
    assert bool(cur.loc["ann", "converted"]) is True
    assert cur.loc["bob", "stage"] == "aware"
    assert bool(cur.loc["bob", "converted"]) is False


def test_stage_history_of_one_person(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {"ann": ["Ad Clicked", "Product Viewed", "Order Completed"], "bob": ["Ad Clicked"]}
    )
    pid = ws.store.scalar("SELECT person_id FROM events WHERE user_id = 'ann' LIMIT 1")
    h = stage_history(ws, SPEC, pid)
    assert h.stage.tolist() == ["aware", "consider", "buy"]
    assert h.visit.tolist() == [1, 2, 3]
    assert h.next_entered_at.isna().tolist() == [False, False, True]


def test_transition_matrix_counts_moves(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {
            "ann": ["Ad Clicked", "Product Viewed", "Order Completed"],
            "bob": ["Ad Clicked", "Product Viewed", "Ad Clicked"],
            "cat": ["Product Viewed"],
        }
    )
    m = transition_matrix(ws, SPEC)
    assert m.loc[START, "aware"] == 2 and m.loc[START, "consider"] == 1
    assert m.loc["aware", "consider"] == 2
    assert m.loc["consider", "buy"] == 1 and m.loc["consider", "aware"] == 1
    assert m.loc["consider", END] == 1 and m.loc["buy", END] == 1 and m.loc["aware", END] == 1
    assert m.to_numpy().sum() == 3 + 7  # three starts, and each of 7 visits has one way out
    shares = transition_matrix(ws, SPEC, normalize=True)
    assert math.isclose(shares.loc["consider"].sum(), 1.0)


def test_time_in_stage_from_entry_to_next_entry(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {"ann": ["Ad Clicked", "Ad Clicked", "Product Viewed", "Order Completed"]},
        gap=timedelta(hours=2),
    )
    t = time_in_stage(ws, SPEC).set_index("stage")
    assert t.loc["aware", "median_hours"] == 4.0  # two ad clicks, then the product 4 h later
    assert t.loc["consider", "median_hours"] == 2.0
    assert t.loc["buy", "ongoing"] == 1 and t.loc["buy", "completed"] == 0


def test_a_date_window_limits_the_events(journeys: Callable[..., Workspace]) -> None:
    ws = journeys({"ann": ["Ad Clicked", "Product Viewed", "Order Completed"]})
    v = stage_visits(ws, SPEC, start="2026-03-02T10:30:00").to_pandas()
    assert v.stage.tolist() == ["buy"]


# --- against a slow obvious reference ----------------------------------------------------------

NAMES = [
    "Ad Clicked",
    "Session Started",
    "Product Viewed",
    "Email Sent",
    "Order Completed",
    "Login",
]


def reference_visits(events: list[tuple[str, str]]) -> list[str]:
    """Stages visited, from each event's first matching touchpoint, runs collapsed."""
    stage_of = {"Ad Clicked": "aware", "Product Viewed": "consider", "Order Completed": "buy"}
    out: list[str] = []
    for name, channel in events:
        stage = stage_of.get(name)
        if name == "Session Started" and channel == "web":
            stage = "consider"
        if stage is not None and (not out or out[-1] != stage):
            out.append(stage)
    return out


journey_st = st.lists(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(["web", "app"])), min_size=1, max_size=12
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=st.lists(journey_st, min_size=1, max_size=6))
def test_stage_visits_match_the_reference(
    tmp_path_factory, people: list[list[tuple[str, str]]]
) -> None:
    ws = journeykit.open(tmp_path_factory.mktemp("ws"))
    try:
        rows = [
            {
                "ts": pd.Timestamp("2026-03-02 09:00") + pd.Timedelta(minutes=10 * i + k),
                "event": name,
                "channel": channel,
                "user_id": f"u{k}",
            }
            for k, events in enumerate(people)
            for i, (name, channel) in enumerate(events)
        ]
        for r in rows:
            r["ts"] = r["ts"].isoformat()
        load(ws, rows)
        got = visits_of(ws)
        want = {f"u{k}": reference_visits(ev) for k, ev in enumerate(people)}
        assert got == {u: v for u, v in want.items() if v}
    finally:
        ws.close()
