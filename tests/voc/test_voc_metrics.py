"""NPS, CSAT and CES: hand-computed cases, edge cases and a property test against a reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.errors import InputError
from journeykit.voc.metrics import ces, csat, nps, nps_category, nps_value


def frame(scores, **columns):
    return pd.DataFrame({"score": scores, **columns})


def test_nps_hand_computed():
    # 4 promoters, 3 passives, 3 detractors of 10: NPS = 40 - 30 = 10
    out = nps(frame([10, 9, 9, 10, 7, 8, 8, 0, 6, 3]), min_n=5).iloc[0]
    assert (out["n"], out["promoters"], out["passives"], out["detractors"]) == (10, 4, 3, 3)
    assert out["nps"] == pytest.approx(10.0)
    assert out["pct_promoters"] == pytest.approx(40.0)
    assert out["pct_passives"] == pytest.approx(30.0)
    assert out["pct_detractors"] == pytest.approx(30.0)
    # var = (0.4 + 0.3 - 0.1^2) / 10 = 0.069 -> se = 100 * sqrt(0.069)
    se = 100 * math.sqrt(0.069)
    assert out["nps_se"] == pytest.approx(se)
    assert out["nps_low"] == pytest.approx(10 - 1.959964 * se, abs=1e-4)
    assert out["nps_high"] == pytest.approx(10 + 1.959964 * se, abs=1e-4)
    assert not out["low_sample"]


def test_nps_no_detractors():
    out = nps(frame([9, 10, 7, 8])).iloc[0]
    assert out["nps"] == pytest.approx(50.0)
    assert out["detractors"] == 0
    assert out["pct_detractors"] == 0.0


def test_nps_all_passives_is_zero_with_zero_width():
    out = nps(frame([7, 8, 7, 8, 7])).iloc[0]
    assert out["nps"] == 0.0
    assert out["nps_se"] == 0.0
    assert (out["nps_low"], out["nps_high"]) == (0.0, 0.0)


def test_nps_tiny_sample_has_numbers_and_a_flag():
    out = nps(frame([10])).iloc[0]
    assert out["nps"] == 100.0
    assert out["low_sample"]
    row = out[["nps", "nps_se", "nps_low", "nps_high"]].astype(float)
    assert not row.isna().any()


def test_nps_interval_stays_in_range():
    out = nps(frame([0, 0, 0, 10])).iloc[0]
    assert -100.0 <= out["nps_low"] <= out["nps"] <= out["nps_high"] <= 100.0


def test_nps_empty_gives_empty_frame_with_columns():
    out = nps(frame([]))
    assert out.empty
    assert {"n", "nps", "nps_low", "nps_high", "low_sample"} <= set(out.columns)
    grouped = nps(pd.DataFrame({"score": [], "touchpoint": []}), by="touchpoint")
    assert grouped.empty and "touchpoint" in grouped.columns


def test_nps_ignores_other_surveys_and_missing_scores():
    df = pd.DataFrame({"survey": ["nps", "csat", "NPS", "nps"], "score": [10, 1, 0, None]})
    out = nps(df).iloc[0]
    assert out["n"] == 2
    assert out["nps"] == 0.0


def test_nps_by_group_and_period():
    df = pd.DataFrame(
        {
            "score": [10, 0, 9, 9, 5, 10],
            "touchpoint": [
                "Chat Ended",
                "Chat Ended",
                "Order Completed",
                "Chat Ended",
                "Order Completed",
                "Order Completed",
            ],
            "ts": pd.to_datetime(
                ["2026-01-05", "2026-01-06", "2026-01-07", "2026-02-01", "2026-02-02", "2026-02-03"]
            ),
        }
    )
    by = nps(df, by="touchpoint").set_index("touchpoint")
    assert by.loc["Chat Ended", "nps"] == pytest.approx(100 * (2 - 1) / 3)
    assert by.loc["Order Completed", "nps"] == pytest.approx(100 * (2 - 1) / 3)
    monthly = nps(df, freq="M")
    assert list(monthly["period"]) == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert list(monthly["n"]) == [3, 3]
    both = nps(df, by="touchpoint", freq="M")
    assert list(both.columns[:2]) == ["period", "touchpoint"]
    assert len(both) == 4


def test_nps_bootstrap_is_seeded_and_brackets_the_score():
    df = frame([10] * 30 + [8] * 20 + [3] * 10)
    one = nps(df, ci="bootstrap", seed=3).iloc[0]
    two = nps(df, ci="bootstrap", seed=3).iloc[0]
    assert one["nps_low"] == two["nps_low"] and one["nps_high"] == two["nps_high"]
    assert one["nps_low"] < one["nps"] < one["nps_high"]
    normal = nps(df).iloc[0]
    # both intervals describe the same sampling error: widths agree within 25%
    width_b = one["nps_high"] - one["nps_low"]
    width_n = normal["nps_high"] - normal["nps_low"]
    assert width_b == pytest.approx(width_n, rel=0.25)


def test_bad_scores_raise_with_the_row():
    with pytest.raises(InputError) as info:
        nps(frame([10, 11]))
    assert info.value.row == 1 and info.value.field == "score"
    with pytest.raises(InputError):
        csat(frame(["five"]))
    with pytest.raises(InputError):
        nps(frame([5]), by="segment")
    with pytest.raises(InputError):
        nps(frame([5]), confidence=1.5)


def test_nps_category_and_value():
    assert nps_category([0, 6, 7, 8, 9, 10]).tolist() == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    assert math.isnan(nps_value([]))
    assert nps_value([9, 10, 0]) == pytest.approx(100 / 3)


def test_csat_hand_computed():
    out = csat(frame([5, 4, 4, 3, 2, 1, 5, 5])).iloc[0]
    assert out["n"] == 8 and out["satisfied"] == 5
    assert out["csat"] == pytest.approx(62.5)
    assert out["mean_score"] == pytest.approx(29 / 8)
    assert out["mean_se"] == pytest.approx(np.std([5, 4, 4, 3, 2, 1, 5, 5], ddof=1) / math.sqrt(8))
    # Wilson interval for 5/8 at 95%
    z, p, n = 1.959964, 5 / 8, 8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert out["csat_low"] == pytest.approx(100 * (centre - half), abs=1e-3)
    assert out["csat_high"] == pytest.approx(100 * (centre + half), abs=1e-3)


def test_csat_all_satisfied_and_single_answer():
    out = csat(frame([5, 4, 5])).iloc[0]
    assert out["csat"] == 100.0 and out["csat_high"] == pytest.approx(100.0)
    one = csat(frame([2])).iloc[0]
    assert one["csat"] == 0.0 and one["mean_se"] == 0.0 and one["low_sample"]


def test_ces_both_directions():
    df = frame([7, 6, 5, 4, 1])
    easy = ces(df).iloc[0]
    assert easy["ces"] == pytest.approx(4.6)
    assert easy["pct_easy"] == pytest.approx(60.0)  # 5, 6, 7
    assert easy["ces_low"] < 4.6 < easy["ces_high"]
    effort = ces(df, higher_is_better=False).iloc[0]
    assert effort["pct_easy"] == pytest.approx(20.0)  # only the 1
    with pytest.raises(InputError):
        ces(frame([8]))


def test_low_sample_threshold():
    df = frame([9] * 29 + [10])
    assert not bool(nps(df).iloc[0]["low_sample"])
    assert bool(nps(df, min_n=31).iloc[0]["low_sample"])


scores_by_group = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 10)), min_size=1, max_size=60
)


@settings(max_examples=80, deadline=None)
@given(scores_by_group)
def test_nps_matches_a_plain_reference(rows):
    df = pd.DataFrame(rows, columns=["group", "score"])
    out = nps(df, by="group").set_index("group")
    for group in sorted({g for g, _ in rows}):
        values = [s for g, s in rows if g == group]
        promoters = sum(s >= 9 for s in values)
        detractors = sum(s <= 6 for s in values)
        expected = 100.0 * (promoters - detractors) / len(values)
        assert out.loc[group, "n"] == len(values)
        assert out.loc[group, "nps"] == pytest.approx(expected)
        assert out.loc[group, "nps_low"] <= out.loc[group, "nps"] <= out.loc[group, "nps_high"]
