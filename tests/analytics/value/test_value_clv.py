"""CLV: BG/NBD and Gamma-Gamma against the published CDNOW fits, summaries, predictions."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.value import clv
from journeykit.errors import InputError, NoSpec
from journeykit.ingest import load
from journeykit.journey import set_spec


def close(value: float, published: float, rel: float = 0.01) -> bool:
    return abs(value - published) <= rel * abs(published)


def test_bgnbd_matches_fader_hardie_lee_2005_on_cdnow(cdnow_summary: pd.DataFrame) -> None:
    model = clv.fit_bgnbd(cdnow_summary)
    # Fader, Hardie & Lee (2005), table in section 5: r, alpha, a, b and LL -9582.4
    assert close(model.r, 0.243)
    assert close(model.alpha, 4.414)
    assert close(model.a, 0.793)
    assert close(model.b, 2.426)
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert model.n == 2357


def test_bgnbd_conditional_expectation_of_the_papers_example(cdnow_summary: pd.DataFrame) -> None:
    model = clv.fit_bgnbd(cdnow_summary)
    # FHL 2005: a customer with x=2, t_x=30.43, T=38.86 makes 1.226 purchases in 39 weeks
    got = model.expected_purchases(39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert got[0] == pytest.approx(1.226, abs=0.001)


def test_gamma_gamma_matches_the_published_cdnow_fit(cdnow_summary: pd.DataFrame) -> None:
    model = clv.fit_gamma_gamma(cdnow_summary)
    # Fader & Hardie, "The Gamma-Gamma model of monetary value" (2013): p=6.25, q=3.74,
    # gamma=15.44 on the 946 repeat buyers (lifetimes' docs print v: 15.45 for the same file).
    assert close(model.p, 6.25)
    assert close(model.q, 3.74)
    assert close(model.gamma, 15.44)
    assert model.n == 946
    # the population mean spend of the note: 35.2 per transaction
    assert model.population_mean == pytest.approx(35.2, abs=0.1)


def test_rfm_summary_reproduces_hardies_cdnow_summary(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    mine = clv.rfm_summary(cdnow_transactions, observation_end="1997-09-30", unit="W")
    theirs = cdnow_summary.loc[mine.index]
    assert len(mine) == 2357
    assert (mine["frequency"] == theirs["frequency"]).all()
    for col in ("recency", "T", "monetary_value"):
        assert np.abs(mine[col] - theirs[col]).max() <= 0.0051


def test_alive_and_new_customer_identities(cdnow_summary: pd.DataFrame) -> None:
    model = clv.fit_bgnbd(cdnow_summary)
    x, tx, t = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    alive = model.probability_alive(x, tx, t)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (alive[x == 0] == 1).all()
    # a person with no history yet (x = t_x = T = 0) expects what a new customer expects
    fresh = model.expected_purchases(52.0, np.zeros(1), np.zeros(1), np.zeros(1))[0]
    assert fresh == pytest.approx(model.expected_purchases_new(52.0), rel=1e-9)
    # a longer silence lowers P(alive) for the same frequency
    p = model.probability_alive(
        np.array([3.0, 3.0]), np.array([30.0, 10.0]), np.array([38.0, 38.0])
    )
    assert p[0] > p[1]


def _simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, t_end: float, seed: int):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, x, last = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > t_end:
                break
            x, last = x + 1, t
            if rng.random() < p[i]:
                break
        rows.append((x, last, t_end))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    data = _simulate_bgnbd(6000, *truth.values(), t_end=52.0, seed=3)
    model = clv.fit_bgnbd(data)
    # population expectations are pinned much tighter than individual parameters
    assert model.r == pytest.approx(truth["r"], rel=0.2)
    assert model.alpha == pytest.approx(truth["alpha"], rel=0.25)
    assert model.expected_purchases_new(52.0) == pytest.approx(
        float(data["frequency"].mean()), rel=0.05
    )


def test_predict_clv_discounting_by_hand(cdnow_summary: pd.DataFrame) -> None:
    bg = clv.fit_bgnbd(cdnow_summary)
    gg = clv.fit_gamma_gamma(cdnow_summary)
    undiscounted = clv.predict_clv(
        cdnow_summary, horizon=52.0, period=52.0, discount_rate=0.0, purchases=bg, spend=gg
    )
    assert np.allclose(
        undiscounted["clv"],
        undiscounted["expected_purchases"] * undiscounted["expected_avg_spend"],
    )
    monthly = clv.predict_clv(
        cdnow_summary, horizon=52.0, period=13.0, discount_rate=0.1, purchases=bg, spend=gg
    )
    x, tx, t = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    cumulative = [bg.expected_purchases(h, x, tx, t) for h in (13.0, 26.0, 39.0, 52.0)]
    increments = np.diff(np.vstack([np.zeros(len(x)), *cumulative]), axis=0)
    expected = sum(inc / 1.1 ** (k + 1) for k, inc in enumerate(increments))
    assert np.allclose(monthly["clv"], expected * monthly["expected_avg_spend"])
    assert (monthly["clv"] < undiscounted["clv"] + 1e-9).all()


def test_expected_average_spend_shrinks_toward_the_population_mean() -> None:
    gg = clv.GammaGammaModel(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, n=1)
    spend = gg.expected_average_spend(np.array([0.0, 1.0, 50.0]), np.array([0.0, 100.0, 100.0]))
    assert spend[0] == pytest.approx(gg.population_mean)
    assert gg.population_mean < spend[1] < spend[2] < 100.0
    # the closed form: (gamma + x m) p / (p x + q - 1)
    assert spend[1] == pytest.approx((15.44 + 100.0) * 6.25 / (6.25 + 3.74 - 1.0))


def _slow_summary(tx: pd.DataFrame, end: pd.Timestamp) -> dict[str, tuple[float, ...]]:
    out = {}
    for person, group in tx[tx["ts"] <= end].groupby("person_id"):
        days = sorted({ts.floor("D") for ts in group["ts"]})
        by_day = dict.fromkeys(days, 0.0)
        for ts, rev in zip(group["ts"], group["revenue"], strict=True):
            by_day[ts.floor("D")] += rev
        repeat = [by_day[d] for d in days[1:]]
        out[person] = (
            float(len(days) - 1),
            float((days[-1] - days[0]).days),
            float((end.floor("D") - days[0]).days),
            float(np.mean(repeat)) if repeat else 0.0,
        )
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(0, 60 * 24 * 40),
            st.floats(0.0, 500.0, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rfm_summary_matches_a_slow_reference(rows: list[tuple[str, int, float]]) -> None:
    start = pd.Timestamp("2026-01-01")
    tx = pd.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "ts": [start + pd.Timedelta(minutes=r[1]) for r in rows],
            "revenue": [r[2] for r in rows],
        }
    )
    end = pd.Timestamp("2026-01-30 12:00")
    expected = _slow_summary(tx, end)
    got = clv.rfm_summary(tx, observation_end=end)
    assert set(got.index) == set(expected)
    for person, values in expected.items():
        assert np.allclose(got.loc[person].to_numpy(float), values)


def test_rfm_summary_from_workspace_equals_the_dataframe_version(ws) -> None:
    start = datetime(2026, 3, 1, 10)
    rows, tx = [], []
    rng = np.random.default_rng(5)
    for person in range(12):
        for _ in range(int(rng.integers(1, 6))):
            ts = start + timedelta(hours=int(rng.integers(0, 24 * 50)))
            revenue = float(rng.integers(5, 200))
            rows.append(
                {
                    "ts": ts.isoformat(),
                    "event": "purchase",
                    "user_id": f"u{person}",
                    "channel": "web",
                    "properties": {"amount": revenue},
                }
            )
            tx.append((f"u{person}", ts, revenue))
    rows.append({"ts": "2026-05-01T00:00:00", "event": "visit", "user_id": "u0"})
    load(ws, rows)
    ids = ws.table("events").select("user_id", "person_id").distinct().to_pandas()
    to_person = dict(zip(ids["user_id"], ids["person_id"], strict=True))
    frame = pd.DataFrame(tx, columns=["user", "ts", "revenue"])
    frame["person_id"] = frame["user"].map(to_person)
    expected = clv.rfm_summary(frame, observation_end="2026-05-01")
    # the names come from the arguments, or from the workspace's spec
    named = clv.rfm_summary_from_workspace(
        ws, conversion_event="purchase", revenue_field="properties.amount"
    )
    pd.testing.assert_frame_equal(named.sort_index(), expected.sort_index(), check_exact=False)
    with pytest.raises(NoSpec):
        clv.rfm_summary_from_workspace(ws)
    set_spec(
        ws,
        "stages: [{name: visit, touchpoints: [{name: Visit, event: visit}]},"
        " {name: buy, touchpoints: [{name: Buy, event: purchase}]}]\n"
        "goals: [purchase]\nconversions: {events: [purchase], revenue: properties.amount}",
        by="test",
    )
    got = clv.rfm_summary_from_workspace(ws)  # default end: the last event, 2026-05-01
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_exact=False)
    weeks = clv.rfm_summary_from_workspace(ws, unit="W")
    assert np.allclose(weeks["T"] * 7, got["T"])


def test_historical_clv_and_segments() -> None:
    tx = pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "c"],
            "ts": pd.to_datetime(["2026-01-01", "2026-01-31", "2026-01-10", "2026-01-20"]),
            "revenue": [10.0, 30.0, 8.0, 100.0],
        }
    )
    hist = clv.historical_clv(tx, observation_end="2026-03-01")
    assert hist.loc["a", "revenue"] == 40.0
    assert hist.loc["a", "orders"] == 2.0
    assert hist.loc["a", "avg_order_value"] == 20.0
    assert hist.loc["a", "tenure"] == 59.0
    assert hist.loc["a", "revenue_per_30"] == pytest.approx(40.0 / (59.0 / 30.0))
    fake = pd.DataFrame(
        {
            "clv": [10.0, 30.0, 5.0],
            "expected_purchases": [1.0, 2.0, 0.5],
            "probability_alive": [0.9, 0.8, 0.5],
            "expected_avg_spend": [10.0, 15.0, 10.0],
        },
        index=pd.Index(["a", "b", "c"], name="person_id"),
    )
    seg = clv.clv_by_segment(fake, pd.Series({"a": "x", "b": "x"}))
    assert seg.loc["x", "people"] == 2
    assert seg.loc["x", "clv_mean"] == 20.0
    assert seg.loc["(none)", "clv_total"] == 5.0
    assert seg["share_of_clv"].sum() == pytest.approx(1.0)
    assert list(seg.index) == ["x", "(none)"]


def test_bad_summaries_are_refused() -> None:
    with pytest.raises(InputError, match="recency"):
        clv.fit_bgnbd(pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [2.0]}))
    with pytest.raises(InputError, match="T"):
        clv.fit_bgnbd(pd.DataFrame({"frequency": [1], "recency": [5.0]}))
    with pytest.raises(InputError, match="repeat"):
        clv.fit_gamma_gamma(pd.DataFrame({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}))
    with pytest.raises(InputError, match="unit"):
        clv.rfm_summary(
            pd.DataFrame(
                {"person_id": ["a"], "ts": [pd.Timestamp("2026-01-01")], "revenue": [1.0]}
            ),
            unit="M",  # type: ignore[arg-type]
        )


def test_predict_clv_by_segment_fits_each_segment_or_falls_back(
    cdnow_summary: pd.DataFrame,
) -> None:
    big = cdnow_summary["monetary_value"] > 40
    segments = pd.Series(np.where(big, "big spenders", "others"), index=cdnow_summary.index)
    segments.iloc[:50] = "tiny"  # fewer than min_people: uses the pooled models
    out = clv.predict_clv_by_segment(cdnow_summary, segments, min_people=100, horizon=52.0)
    assert out.index.equals(cdnow_summary.index)
    assert set(out.loc[out["own_model"], "segment"]) == {"big spenders", "others"}
    assert not out.loc[out["segment"] == "tiny", "own_model"].any()
    pooled = clv.predict_clv(cdnow_summary, horizon=52.0)
    tiny = out["segment"] == "tiny"
    assert np.allclose(out.loc[tiny, "clv"], pooled.loc[tiny, "clv"])
    by = clv.clv_by_segment(out, segments)
    # a segment's own Gamma-Gamma shrinks toward its own mean, not everyone's
    assert (
        by.loc["big spenders", "expected_avg_spend_mean"]
        > by.loc["others", "expected_avg_spend_mean"]
    )
