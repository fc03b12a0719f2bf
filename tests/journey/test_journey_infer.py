"""The starter spec inferred from the data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.errors import InputError
from journeykit.ingest import load
from journeykit.journey.infer import cut_positions, infer_spec, init_spec
from journeykit.journey.spec import load_spec
from journeykit.store import Workspace


def test_events_are_cut_into_stages_by_their_place_in_journeys(
    journeys: Callable[..., Workspace],
) -> None:
    order = ("Order Completed", {"revenue": 40.0})
    ws = journeys(
        {
            "ann": ["Ad Clicked", "Product Viewed", "Product Viewed", order, "Survey Answered"],
            "bob": ["Ad Clicked", "Product Viewed", order, "Survey Answered"],
            "cat": ["Ad Clicked", "Product Viewed", "Product Viewed", "Product Viewed"],
            "dan": [("Chat Started", {"channel": "chat"}), "Payment Failed", order],
        }
    )
    text = init_spec(ws, stages=3, name="Shop")
    spec = load_spec(text)
    assert spec.name == "Shop"
    assert spec.stage_names == ("stage 1", "stage 2", "stage 3")
    stage_of = {tp.name: tp.stage for tp in spec.all_touchpoints()}
    assert stage_of["Ad Clicked"] == "stage 1"
    assert stage_of["Survey Answered"] == "stage 3"
    assert spec.goal_events == ("Order Completed",)
    kinds = {tp.name: tp.kind for tp in spec.all_touchpoints()}
    assert kinds["Payment Failed"] == "error"
    assert kinds["Chat Started"] == "contact"
    assert kinds["Survey Answered"] == "feedback"
    assert "# 3 events, 3 people" in text  # comments tell the editor what each event is


def test_five_stages_get_the_usual_names(journeys: Callable[..., Workspace]) -> None:
    ws = journeys({"ann": ["A", "B", "C", "D", "E", "F"]})
    spec = load_spec(init_spec(ws))
    assert spec.stage_names == ("awareness", "consideration", "purchase", "retention", "advocacy")
    assert spec.goal_events  # no revenue anywhere: the commonest middle event


def clickstream(ws: Workspace, people: int = 60) -> Workspace:
    """A web shop export in the style of the issue: snake_case names, ``add_to_cart`` carrying
    the item's value in the revenue column like ``purchase`` does, ``payment_error`` at
    checkout, and repeat purchases (so ``purchase`` also comes late in many journeys)."""
    rows = []
    for k in range(people):
        t = 0

        def add(event: str, *, k: int = k, **extra: object) -> None:
            nonlocal t
            t += 5
            ts = f"2026-03-{1 + k % 20:02d}T{8 + t // 60:02d}:{t % 60:02d}:00"
            rows.append({"ts": ts, "event": event, "user_id": f"u{k}", **extra})

        add("page_view", channel="ads" if k % 2 else "search")
        add("product_view")
        add("add_to_cart", revenue=30.0)
        if k % 3 == 0:
            continue  # one in three leaves with a full cart
        add("begin_checkout")
        if k % 4 == 1:
            add("payment_error")
        add("purchase", revenue=30.0, properties={"currency": "EUR"})
        for _ in range(k % 3):  # repeat buyers
            add("product_view")
            add("add_to_cart", revenue=20.0)
            add("begin_checkout")
            if k % 4 == 1:
                add("payment_error")
            add("purchase", revenue=20.0, properties={"currency": "EUR"})
        if k % 5 == 0:
            add("newsletter_sent", channel="email")
    load(ws, rows)
    return ws


def test_a_purchase_is_the_conversion_and_errors_sit_where_they_happen(ws: Workspace) -> None:
    result = infer_spec(clickstream(ws))
    spec = result.spec
    assert spec.conversion_events == ("purchase",)
    assert spec.goal_events == ("purchase",)  # not add_to_cart, although it carries money too
    assert spec.revenue_field == "revenue"
    stage = {d.subject: d.choice for d in result.decisions if d.topic == "stage"}
    assert stage["purchase"] == "purchase"
    assert stage["payment_error"] == "purchase"  # it follows begin_checkout, not after the end
    assert stage["begin_checkout"] == "purchase"
    assert stage["add_to_cart"] == "consideration"
    assert stage["page_view"] == "awareness"
    assert stage["newsletter_sent"] == "retention"
    assert {tp.name: tp.kind for tp in spec.all_touchpoints()}["payment_error"] == "error"
    assert result.decision("conversion", "add_to_cart").choice == "no"
    assert spec.currency_code == "EUR"
    assert spec.touch_events == ("page_view",)
    assert spec.touch_channel_field == "channel"
    # each decision says why, with figures, and how sure it is
    why = result.decision("stage", "payment_error")
    assert "begin_checkout" in why.why and 0 < why.confidence <= 1
    assert "100% of its" in result.decision("conversion", "purchase").why
    assert "could not decide: surveys" in result.explain()
    table = result.table()
    assert list(table.columns) == ["topic", "subject", "choice", "confidence", "why"]
    assert len(table) == len(result.decisions)


def test_the_yaml_reads_back_to_the_spec(ws: Workspace) -> None:
    result = infer_spec(clickstream(ws))
    assert load_spec(result.yaml) == result.spec
    assert "# an error: it follows begin_checkout" in result.yaml


def test_without_money_a_name_decides_and_the_rest_is_said(ws: Workspace) -> None:
    from byo_data import LESSONS_TRUTH, lessons_rows, score_inference

    load(ws, lessons_rows(people=200))
    result = infer_spec(ws)
    assert result.spec.conversion_events == ("subscription_started",)
    assert result.spec.currency_code is None
    undecided = " ".join(result.undecided)
    assert "the value of a conversion" in undecided
    assert "the currency" in undecided
    score = score_inference(result, LESSONS_TRUTH)
    assert score["conversion"] == score["goal"] == 1.0
    assert score["touch channel"] == 1.0  # properties.source: there is no channel column
    assert score["stage"] >= 0.8


def test_the_travel_export_is_read_right(ws: Workspace, tmp_path: Path) -> None:
    from byo_data import TRAVEL_TRUTH, score_inference, write_travel_csv

    load(ws, write_travel_csv(tmp_path / "bookings.csv"))
    result = infer_spec(ws)
    assert result.spec.revenue_field == "properties.total_price"
    assert result.spec.currency_code == "CHF"
    assert result.spec.touch_channel_field == "properties.utm_medium"
    survey = result.spec.surveys[0]
    assert (survey.event, survey.score, survey.comment, survey.metric) == (
        "trip_review",
        "properties.rating",
        "properties.review_text",
        "review",
    )
    assert min(score_inference(result, TRAVEL_TRUTH).values()) == 1.0


def test_an_empty_workspace_has_nothing_to_infer(ws: Workspace) -> None:
    with pytest.raises(InputError, match="no events"):
        init_spec(ws)


def brute_force(values: list[float], k: int) -> float:
    """Least within-cluster squared error over every split of sorted values into k runs."""
    from itertools import combinations, pairwise

    n = len(values)
    best = float("inf")
    for cuts in combinations(range(1, n), k - 1):
        edges = [0, *cuts, n]
        cost = sum(float(np.var(values[a:b]) * (b - a)) for a, b in pairwise(edges))
        best = min(best, cost)
    return best


@given(
    values=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=8).map(sorted),
    k=st.integers(1, 4),
)
def test_cut_positions_is_optimal(values: list[float], k: int) -> None:
    labels = cut_positions(np.array(values), k)
    k_eff = min(k, len(values))
    assert sorted(set(labels)) == list(range(k_eff))
    assert list(labels) == sorted(labels)
    arr = np.array(values)
    cost = sum(float(np.var(arr[labels == c]) * (labels == c).sum()) for c in range(k_eff))
    assert cost == pytest.approx(brute_force(values, k_eff), abs=1e-9)


@pytest.mark.parametrize(
    "rows",
    [
        [("u1", "ping", {})],
        [(f"u{i}", e, {}) for i, e in enumerate(["a", "b", "c"])],
        [(f"u{i % 5}", e, {"channel": None}) for i, e in enumerate(["open", "view", "buy"] * 6)],
        [(f"u{i}", "paid", {"revenue": 5.0}) for i in range(5)],
    ],
    ids=["one event", "one event each", "no properties or channels", "only conversions"],
)
def test_thin_data_gives_a_valid_spec_and_says_what_it_could_not_decide(
    ws: Workspace, rows: list[tuple[str, str, dict[str, object]]]
) -> None:
    load(
        ws,
        [
            {"ts": f"2026-01-01T10:{i:02d}:00", "user_id": u, "event": e, **extra}
            for i, (u, e, extra) in enumerate(rows)
        ],
    )
    result = infer_spec(ws)
    assert load_spec(result.yaml) == result.spec
    assert result.undecided  # thin data leaves questions, and says which
    assert {e for _, e, _ in rows} <= set(result.spec.stage_of_event)
