"""Key driver analysis: odds ratios by hand, dominance, correlations, the workspace builder."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from journeykit.analytics import vocabulary
from journeykit.analytics.value import drivers
from journeykit.errors import InputError, NoSpec
from journeykit.ingest import load
from journeykit.journey import set_spec


def two_by_two(a: int, b: int, c: int, d: int) -> pd.DataFrame:
    """a: exposed & goal, b: exposed & not, c: unexposed & goal, d: unexposed & not."""
    rows = [(1, 1)] * a + [(1, 0)] * b + [(0, 1)] * c + [(0, 0)] * d
    return pd.DataFrame(rows, columns=["welcome_email", "converted"])


def test_logistic_odds_ratio_and_woolf_interval_by_hand() -> None:
    result = drivers.key_drivers(
        two_by_two(60, 40, 30, 70),
        "converted",
        labels={"welcome_email": "received the welcome e-mail"},
    )
    row = result.drivers.loc["welcome_email"]
    # OR = (60*70)/(40*30) = 3.5; Wald CI on log OR = Woolf's: sqrt(1/a+1/b+1/c+1/d)
    assert row["odds_ratio"] == pytest.approx(3.5, rel=1e-6)
    se = np.sqrt(1 / 60 + 1 / 40 + 1 / 30 + 1 / 70)
    assert row["or_low"] == pytest.approx(np.exp(np.log(3.5) - 1.959964 * se), rel=1e-4)
    assert row["or_high"] == pytest.approx(np.exp(np.log(3.5) + 1.959964 * se), rel=1e-4)
    assert row["direction"] == "positive"
    assert result.kind == "logistic"
    assert result.base_rate == pytest.approx(0.45)
    assert "received the welcome e-mail (odds x3.50" in result.summary
    assert "Raises it" in result.summary


def test_negative_and_unclear_drivers_and_importance() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    wait = rng.integers(0, 2, n)
    noise = rng.integers(0, 2, n)
    store = rng.integers(0, 2, n)
    logit = -0.2 - 1.0 * wait + 0.8 * store
    goal = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    data = pd.DataFrame(
        {"long_chat_wait": wait, "noise": noise, "store_and_online": store, "retained": goal}
    )
    labels = {"noise": "saw the footer", "long_chat_wait": "had a long chat or call wait"}
    data.attrs["labels"] = {"store_and_online": "used the store and online"}
    result = drivers.key_drivers(data, "retained", labels=labels)
    d = result.drivers
    assert d.loc["long_chat_wait", "direction"] == "negative"
    assert d.loc["store_and_online", "direction"] == "positive"
    assert d.loc["noise", "direction"] == "unclear"
    assert d["importance"].sum() == pytest.approx(1.0)
    assert d.index[0] == "long_chat_wait"  # the strongest effect ranks first
    assert d.loc["long_chat_wait", "odds_ratio"] == pytest.approx(np.exp(-1.0), rel=0.15)
    assert "No clear effect: saw the footer." in result.summary
    assert "Lowers it: had a long chat or call wait" in result.summary
    assert "Raises it: used the store and online" in result.summary  # labels from attrs


def test_ols_dominance_sums_to_r2_and_equals_r2_for_uncorrelated_features() -> None:
    rng = np.random.default_rng(2)
    n = 5000
    x1, x2, x3 = rng.normal(size=(3, n))
    y = 2.0 * x1 + 1.0 * x2 + rng.normal(size=n)
    data = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "csat": y})
    result = drivers.key_drivers(data, "csat")
    assert result.kind == "ols"
    raw = drivers._dominance(data[["x1", "x2", "x3"]].to_numpy(), y)
    assert raw.sum() == pytest.approx(result.fit, rel=1e-6)
    corr = np.corrcoef(np.column_stack([x1, x2, x3, y]), rowvar=False)[:3, 3]
    # nearly orthogonal features: each one's share is close to its squared correlation
    assert raw == pytest.approx(corr**2, abs=0.01)
    assert result.drivers.loc["x1", "coef"] == pytest.approx(2.0, abs=0.05)
    assert np.isnan(result.drivers.loc["x1", "odds_ratio"])
    assert "per unit" in result.summary


def test_correlations_match_numpy() -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    data["goal"] = data["a"] * 0.5 + rng.normal(size=300)
    got = drivers.driver_correlations(data, "goal")
    assert got.index[0] == "a"
    assert got.loc["a", "pearson"] == pytest.approx(np.corrcoef(data["a"], data["goal"])[0, 1])
    assert got.loc["b", "n"] == 300


def test_constant_features_are_dropped_and_bad_goals_refused() -> None:
    data = two_by_two(10, 10, 5, 15).assign(always=1)
    result = drivers.key_drivers(data, "converted")
    assert result.dropped == ("always",)
    with pytest.raises(InputError, match="not 0/1"):
        drivers.key_drivers(data.assign(converted=data["converted"] * 2.5), "converted",
                            kind="logistic")  # fmt: skip
    with pytest.raises(InputError, match="same goal"):
        drivers.key_drivers(data.assign(converted=1), "converted")
    with pytest.raises(InputError, match="missing"):
        drivers.key_drivers(data, "missing")


def test_redundant_features_are_dropped_not_fitted() -> None:
    data = two_by_two(60, 40, 30, 70)
    data = data.assign(copy=data["welcome_email"], complement=1 - data["welcome_email"])
    result = drivers.key_drivers(data, "converted")
    assert set(result.dropped) == {"copy", "complement"}
    assert result.drivers.loc["welcome_email", "odds_ratio"] == pytest.approx(3.5, rel=1e-6)


#: A small shop in names of its own; the spec says what each event means.
SHOP_SPEC = """
stages:
  - name: awareness
    touchpoints:
      - {name: Ad, event: ad_click}
      - {name: Referral, event: referral_click}
  - name: consideration
    touchpoints:
      - {name: App, event: app_open}
      - {name: Store, event: store_visit}
      - {name: Chat, event: chat, kind: contact}
  - name: purchase
    touchpoints: [{name: Buy, event: purchase}]
  - name: retention
    touchpoints:
      - {name: Welcome, event: email_sent, where: 'properties.campaign == "welcome"', kind: message}
      - {name: Newsletter, event: email_sent, kind: message}
  - name: advocacy
    touchpoints: [{name: Survey, event: survey_answer, kind: feedback}]
goals: [purchase]
marketing: {events: [ad_click, referral_click]}
surveys: [{event: survey_answer, score: properties.score, metric_field: properties.survey}]
settings: {long_wait_seconds: 300}
"""


def test_driver_features_from_workspace(ws) -> None:
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

    rows = [
        row("u1", "referral_click", "referral", 0),
        row("u1", "email_sent", "email", 1, {"campaign": "welcome"}),
        row("u1", "purchase", "web", 2, revenue=30.0),
        row("u1", "store_visit", "store", 3),
        row("u1", "purchase", "store", 4, revenue=20.0),
        row("u1", "survey_answer", "survey", 5, {"survey": "nps", "score": 10}),
        row("u2", "app_open", "app", 0),
        row("u2", "chat", "chat", 1, {"wait_seconds": 900}),
        row("u2", "chat", "phone", 2, {"wait_seconds": 30}),
        row("u2", "email_sent", "email", 3, {"campaign": "newsletter"}),
        row("u2", "survey_answer", "survey", 4, {"survey": "NPS", "score": 3}),
        row("u2", "survey_answer", "survey", 5, {"survey": "csat", "score": 2}),
        row("u3", "ad_click", "ads", 60),
    ]
    load(ws, rows)
    with pytest.raises(NoSpec, match="spec infer"):
        drivers.driver_features_from_workspace(ws)
    set_spec(ws, SHOP_SPEC, by="test")
    f = drivers.driver_features_from_workspace(
        ws, flags={"asked_twice": 'count(event == "chat") >= 2'}
    )
    ids = ws.table("events").select("user_id", "person_id").distinct().to_pandas()
    f = f.rename(index=dict(zip(ids["person_id"], ids["user_id"], strict=True)))
    u1, u2, u3 = f.loc["u1"], f.loc["u2"], f.loc["u3"]
    # touchpoints (with their conditions), channels used, the first touch's channel
    assert (u1["tp_welcome"], u1["tp_newsletter"], u2["tp_newsletter"]) == (1, 0, 1)
    assert (u1["used_store"], u1["used_web"], u1["multichannel"], u2["used_app"]) == (1, 1, 1, 1)
    assert (u1["first_touch_referral"], u3["first_touch_ads"], u1["first_touch_ads"]) == (1, 1, 0)
    assert "tp_buy" not in f.columns  # the conversion itself is the goal, not a driver
    assert (u1["converted"], u1["repeat_purchase"], u1["promoter"], u1["revenue"]) == (
        1,
        1,
        1.0,
        50.0,
    )
    assert u1["retained"] == 0.0  # last active day 5, the data ends on day 60
    assert (u2["tp_welcome"], u2["long_wait"], u2["contacts"], u2["asked_twice"]) == (0, 1, 2.0, 1)
    assert (u2["promoter"], u2["nps"], u2["csat"], u2["converted"]) == (0.0, 3.0, 2.0, 0)
    assert np.isnan(u2["retained"]) and np.isnan(u3["promoter"])
    # what follows the conversion is marked, so the goal "converted" can leave it out
    assert {"tp_welcome", "tp_newsletter", "tp_survey"} <= set(f.attrs["late"])
    assert "tp_store" not in f.attrs["late"]
    assert f.attrs["labels"]["tp_welcome"] == "had Welcome"
    assert f.attrs["labels"]["first_touch_referral"] == "came through referral"
    # explicit names win: without the spec's marketing touches there is no first touch
    names = vocabulary.resolve(ws, touch_events=["app_open"])
    g = drivers.driver_features_from_workspace(ws, names=names)
    assert [c for c in g.columns if c.startswith("first_touch_")] == ["first_touch_app"]
