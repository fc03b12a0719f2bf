"""Propensity: features at a cutoff, contributions, reasons, actions, evaluation."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from journeykit.analytics.value import predict
from journeykit.errors import InputError
from journeykit.ingest import load
from journeykit.journey import set_spec


def synthetic(n: int, seed: int) -> pd.DataFrame:
    """Buyers whose churn depends on support trouble more than on recency."""
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {name: rng.random(n) for name in predict.NUMERIC_FEATURES},
        index=pd.Index([f"p{seed}_{i}" for i in range(n)], name="person_id"),
    )
    f["recency_days"] = rng.exponential(10, n)
    f["frequency"] = rng.integers(1, 5, n).astype(float)
    f["contacts"] = rng.poisson(1.0, n).astype(float)
    f["long_wait"] = (rng.random(n) < 0.3).astype(float)
    f["feedback_score"] = np.where(rng.random(n) < 0.5, np.nan, rng.integers(0, 11, n))
    f["last_stage"] = rng.choice(["purchase", "retention", "advocacy"], n)
    logit = -2.5 + np.log1p(f["recency_days"]) + 1.5 * f["long_wait"] + 0.6 * f["contacts"]
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    f["active_next"] = (~churned).astype(int)
    f["purchased_next"] = (rng.random(n) < 0.2).astype(int)
    return f


def test_contributions_add_up_to_the_log_odds() -> None:
    train = synthetic(3000, 1)
    model = predict.fit_propensity(train, "churn")
    test = synthetic(50, 2)
    contrib = model.contributions(test)
    clf = model.pipeline.named_steps["model"]
    z = model.pipeline.named_steps["prep"].transform(test[[*model.numeric, *model.categorical]])
    logit = clf.decision_function(z)
    centre = float(clf.intercept_[0] + clf.coef_[0] @ model.train_mean)
    assert np.allclose(contrib.sum(axis=1).to_numpy(), logit - centre)
    assert set(contrib.columns) == {*model.numeric, "last_stage"}
    assert np.allclose(model.predict(test), 1 / (1 + np.exp(-logit)))


def test_reasons_and_next_best_actions() -> None:
    train = synthetic(3000, 1)
    model = predict.fit_propensity(train, "churn")
    people = synthetic(3, 9)
    people.loc[people.index[0], ["long_wait", "contacts", "recency_days"]] = [1, 6, 1]
    people.loc[people.index[1], ["long_wait", "contacts", "recency_days"]] = [0, 0, 120]
    people.loc[people.index[2], "frequency"] = 0  # not a buyer: not scored for churn
    scored = predict.score(model, people)
    assert list(scored.columns) == [
        "score", "reason_1", "reason_2", "reason_3", "top_feature", "next_best_action",
    ]  # fmt: skip
    assert len(scored) == 2
    first, second = scored.loc[people.index[0]], scored.loc[people.index[1]]
    assert first["top_feature"] in {"contacts", "long_wait"}
    assert first["next_best_action"] == "service recovery: a call from a senior agent"
    assert "6 contacts with support" in set(first[["reason_1", "reason_2", "reason_3"]])
    assert second["reason_1"] == "last active 120 days ago"
    assert second["next_best_action"] == "win-back message with a personal offer"
    assert scored["score"].is_monotonic_decreasing


def test_evaluation_beats_recency_when_the_signal_is_elsewhere() -> None:
    train, test = synthetic(4000, 3), synthetic(4000, 4)
    model = predict.fit_propensity(train, "churn")
    ev = predict.evaluate(model, train, test)
    assert ev.auc > ev.baseline_auc + 0.05
    assert ev.brier < ev.baseline_brier
    assert ev.n == 4000
    r = ev.reliability
    assert list(r.columns) == ["bin", "n", "mean_predicted", "observed_rate"]
    assert r["n"].sum() == 4000 and len(r) == 10
    # calibrated on a fresh draw of the same world: deciles track the observed rates
    assert np.abs(r["mean_predicted"] - r["observed_rate"]).max() < 0.1


def test_labels_are_required() -> None:
    f = synthetic(100, 5).drop(columns=["active_next", "purchased_next"])
    with pytest.raises(InputError, match="window_days"):
        predict.fit_propensity(f, "churn")
    with pytest.raises(InputError, match="target"):
        predict.fit_propensity(synthetic(100, 5), "upsell")  # type: ignore[arg-type]


SPEC = """
stages:
  - name: reach
    touchpoints: [{name: Ad, event: ad_click}]
  - name: browse
    touchpoints: [{name: Visit, event: visit}, {name: Chat, event: chat, kind: contact}]
  - name: buy
    touchpoints: [{name: Buy, event: purchase}, {name: Card declined, event: declined, kind: error}]
  - name: after
    touchpoints:
      - {name: Mail, event: mail_sent, kind: message}
      - {name: Rating, event: rated, kind: feedback}
goals: [purchase]
marketing: {events: [ad_click]}
surveys: [{event: rated, score: properties.stars, metric: csat}]
"""


def test_journey_features_at_a_cutoff(ws) -> None:
    start = datetime(2026, 3, 1, 9)

    def row(user, event, channel, day, props=None, revenue=None):
        return {
            "ts": (start + timedelta(days=day)).isoformat(),
            "event": event,
            "user_id": user,
            "channel": channel,
            "properties": props or {},
            "revenue": revenue,
        }

    load(
        ws,
        [
            row("u1", "visit", "web", 0),
            row("u1", "purchase", "web", 1, revenue=40.0),
            row("u1", "chat", "chat", 2, {"wait_seconds": 600}),
            row("u1", "declined", "web", 2.5),
            row("u1", "rated", "survey", 3, {"stars": 4}),
            row("u1", "mail_sent", "email", 9, {"campaign": "winback"}),
            row("u1", "purchase", "store", 15, revenue=10.0),
            row("u2", "ad_click", "ads", 5),
            row("u2", "mail_sent", "email", 12),
            row("u3", "ad_click", "ads", 20),
        ],
    )
    set_spec(ws, SPEC, by="test")
    f = predict.journey_features(ws, cutoff=start + timedelta(days=10), window_days=10)
    ids = ws.table("events").select("user_id", "person_id").distinct().to_pandas()
    f = f.rename(index=dict(zip(ids["person_id"], ids["user_id"], strict=True)))
    assert sorted(f.index) == ["u1", "u2"]  # u3 arrives after the cutoff
    u1, u2 = f.loc["u1"], f.loc["u2"]
    assert u1["recency_days"] == pytest.approx(7.0)  # the message sent on day 9 is not activity
    assert (u1["frequency"], u1["monetary"], u1["contacts"], u1["errors"]) == (1.0, 40.0, 1.0, 1.0)
    assert (u1["long_wait"], u1["feedback_score"], u1["has_feedback"]) == (1.0, 4.0, 1.0)
    assert u1["share_web"] == pytest.approx(0.6) and u1["share_chat"] == pytest.approx(0.2)
    assert u1["last_stage"] == "after"
    assert (u1["messages"], u2["messages"]) == (1.0, 0.0)  # u2's mail comes after the cutoff
    assert (u1["purchased_next"], u1["active_next"]) == (1, 1)
    assert (u2["purchased_next"], u2["active_next"]) == (0, 0)  # only a message from the business
    assert u2["recency_days"] == pytest.approx(5.0) and u2["share_ads"] == 1.0
    assert u2["last_stage"] == "reach"
