"""The starter spec inferred from the data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.errors import InputError
from journeykit.journey.infer import cut_positions, init_spec
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
