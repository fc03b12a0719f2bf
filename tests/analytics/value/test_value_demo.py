"""End to end on a small demo workspace: the models find the effects the demo planted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeykit
from journeykit.analytics.value import attribution, clv, drivers, paths, personas, predict
from journeykit.journey import demo_spec_path, set_spec
from journeykit.store import Workspace

pytestmark = pytest.mark.slow

PEOPLE = 2500


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace holding a 2,500-person demo (seed 7, 120 days)."""
    from journeykit.demo import generate
    from journeykit.ingest import load

    root: Path = tmp_path_factory.mktemp("value-demo")
    files = generate(root / "data", people=PEOPLE, days=120, seed=7)
    ws = journeykit.open(root / "ws")
    load(ws, files.events)
    set_spec(ws, demo_spec_path(), by="demo")
    yield ws
    ws.close()


def test_referred_customers_get_higher_predicted_clv(demo_ws: Workspace) -> None:
    summary = clv.rfm_summary_from_workspace(demo_ws)
    flags = drivers.driver_features_from_workspace(demo_ws)
    # "came through a referral": the first marketing touch was on the referral channel
    segment = flags["first_touch_referral"].map({1: "referred", 0: "not referred"})
    # fitted per segment, each keeps its own population: referred people buy bigger baskets
    per_segment = clv.predict_clv_by_segment(summary, segment)
    assert per_segment["own_model"].all()
    by = clv.clv_by_segment(per_segment, segment)
    assert by.loc["referred", "clv_mean"] > 1.2 * by.loc["not referred", "clv_mean"]
    assert (
        by.loc["referred", "expected_avg_spend_mean"]
        > by.loc["not referred", "expected_avg_spend_mean"]
    )
    # one pooled model still ranks them higher, if less so (it shrinks spend to one mean)
    pooled = clv.predict_clv(summary, horizon=365.0)
    by_pooled = clv.clv_by_segment(pooled, segment)
    assert by_pooled.loc["referred", "clv_mean"] > by_pooled.loc["not referred", "clv_mean"]
    assert pooled["probability_alive"].between(0, 1).all()
    assert (pooled["clv"] >= 0).all()


def test_welcome_email_and_store_visits_are_positive_drivers(demo_ws: Workspace) -> None:
    # the welcome e-mail is one campaign of a message: a flag written in the filter language
    welcome = 'event == "Email Sent" and properties.campaign == "welcome"'
    flags = drivers.driver_features_from_workspace(demo_ws, flags={"welcome_email": welcome})
    buyers = flags[(flags["converted"] == 1) & (flags["tp_sign_up"] == 1)]
    repeat = drivers.key_drivers(
        buyers,
        "repeat_purchase",
        features=["welcome_email", "tp_store_visit", "first_touch_referral", "long_wait"],
        labels={"welcome_email": "received the welcome e-mail"},
    )
    assert repeat.drivers.loc["welcome_email", "direction"] == "positive"
    assert repeat.drivers.loc["welcome_email", "odds_ratio"] > 1.2
    assert repeat.drivers.loc["tp_store_visit", "direction"] == "positive"
    assert "received the welcome e-mail" in repeat.summary
    assert "had Store visit" in repeat.summary  # labels come from the spec's touchpoints
    conversion = drivers.key_drivers(
        flags, "converted", features=["tp_store_visit", "first_touch_referral", "used_app"]
    )
    assert conversion.drivers.loc["tp_store_visit", "direction"] == "positive"
    assert conversion.drivers.index[0] == "tp_store_visit"


def test_churn_model_beats_recency_on_a_later_window(demo_ws: Workspace) -> None:
    report = predict.propensity_from_workspace(demo_ws, "churn", window_days=30)
    ev = report.evaluation
    assert ev.auc > ev.baseline_auc
    assert ev.auc > 0.65
    assert ev.brier <= ev.baseline_brier + 1e-3
    scores = report.scores
    assert scores["score"].between(0, 1).all()
    assert (scores["next_best_action"] != "").all()
    # long waits are planted to drive churn: the people with one score higher on average
    now = predict.journey_features(demo_ws, cutoff=report.score_time)
    waited = now.reindex(scores.index)["long_wait"] == 1
    assert scores.loc[waited, "score"].mean() > scores.loc[~waited, "score"].mean()


def test_attribution_on_demo_paths(demo_ws: Workspace) -> None:
    p = paths.paths_from_workspace(demo_ws, lookback_days=30)
    assert p.conversions > 100
    table = attribution.compare_models(p)
    touched = int(
        p.outcomes.loc[p.outcomes["path_id"].isin(p.touches["path_id"]), "converted"].sum()
    )
    for model in attribution.MODELS:
        assert table[model].sum() == pytest.approx(touched, rel=1e-6)
    assert {"ads", "search", "social", "referral"} <= set(table.index)
    boot = attribution.bootstrap_attribution(p, "markov", n_boot=30)
    assert (boot["conversions_low"] <= boot["conversions_high"]).all()


def test_personas_on_demo(demo_ws: Workspace) -> None:
    features = personas.persona_features_from_workspace(demo_ws)
    found = personas.find_personas(features, k_range=(3, 4, 5, 6))
    assert 3 <= found.k <= 6
    assert found.profiles["people"].sum() == len(features)
    assert found.profiles["name"].is_unique
    buyers = found.profiles["conversions"] > 0.5
    assert buyers.any() and (~buyers).any()
    by = found.profiles.set_index("name")
    assert np.isfinite(by["revenue"]).all()
    assert isinstance(found.segment(), pd.Series)
