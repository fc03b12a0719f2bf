from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrate_helpers import engine, ev, journeys

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.measure import diff_interval, rate_interval, report, stats
from journeykit.orchestrate.runtime import unit_hash


@pytest.mark.parametrize(
    ("counts", "newcombe", "wald"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, methods 10 and 1
        ((56, 70, 48, 80), (0.0524, 0.3339), (0.0575, 0.3425)),
        ((9, 10, 3, 10), (0.1705, 0.8090), (0.2605, 0.9395)),
        ((6, 7, 2, 7), (0.0582, 0.8062), (0.1481, 0.9947)),
        ((5, 56, 0, 29), (-0.0381, 0.1926), (0.0146, 0.1640)),
    ],
)
def test_intervals_match_published_values(counts, newcombe, wald) -> None:
    _, lo, hi = diff_interval(*counts)
    assert (round(lo, 4), round(hi, 4)) == newcombe
    _, lo, hi = diff_interval(*counts, method="wald")
    assert (round(lo, 4), round(hi, 4)) == wald


def test_newcombe_interval_covers_the_true_difference_about_95_percent() -> None:
    rng = np.random.default_rng(3)
    p1, p2, n1, n2 = 0.3, 0.2, 250, 120
    x1 = rng.binomial(n1, p1, 3000)
    x2 = rng.binomial(n2, p2, 3000)
    covered = [
        lo <= p1 - p2 <= hi
        for a, b in zip(x1, x2, strict=True)
        for _, lo, hi in [diff_interval(int(a), n1, int(b), n2)]
    ]
    assert 0.93 <= np.mean(covered) <= 0.97


@settings(max_examples=30, deadline=None)
@given(st.floats(0.02, 0.5), st.text(min_size=1, max_size=8))
def test_holdout_share_is_deterministic_and_close_to_stated(
    share: float, automation_id: str
) -> None:
    people = [f"p_{i:06x}" for i in range(6000)]
    held = [unit_hash("holdout", automation_id, p) < share for p in people]
    assert held == [unit_hash("holdout", automation_id, p) < share for p in people]
    sd = math.sqrt(share * (1 - share) / len(people))
    assert abs(sum(held) / len(people) - share) < 4.5 * sd


def test_stats_against_the_holdout(clock: ManualClock) -> None:
    text = """
id: promo
trigger: {event: Visit}
holdout: 0.25
goal: {event: Order Completed, within: 7d}
steps:
  - split:
      - {name: a, share: 0.5, steps: [{id: mail-a, action: webhook, url: "http://127.0.0.1:9/a"}]}
      - {name: b, share: 0.5, steps: [{id: mail-b, action: webhook, url: "http://127.0.0.1:9/b"}]}
  - id: pause
    wait: 3d
"""
    e = engine(text, "sqlite://", clock)
    people = [f"p{i}" for i in range(2000)]
    e.handle_batch([ev(p, "Visit") for p in people])
    held = {p for p in people if unit_hash("holdout", "promo", p) < 0.25}
    arm = {
        p: "a" if unit_hash("split", "promo", "step1", p) < 0.5 else "b"
        for p in people
        if p not in held
    }
    # planted truth: a third of treated people convert, a fifth of held-out people
    converts = {p for p in people if unit_hash("truth", p) < (0.2 if p in held else 1 / 3)}
    clock.advance(timedelta(days=1))
    e.handle_batch([ev(p, "Order Completed") for p in sorted(converts)])
    clock.advance(timedelta(days=10))
    e.handle_batch([ev(p, "Order Completed") for p in people[:50]])  # after the window: ignored
    e.fire_due_timers(limit=5000)

    df = stats(e.state, "promo")
    t, h = df.loc["treatment"], df.loc["holdout"]
    treated = [p for p in people if p not in held]
    assert t["entered"] == len(treated) and h["entered"] == len(held)
    assert t["converted"] == len(converts - held) and h["converted"] == len(converts & held)
    assert h["waiting"] == t["waiting"] == 0
    conv_t = len(converts - held)
    # converted journeys end at once (on_conversion); the rest complete after the wait, and
    # held-out journeys walk the same wait without being acted on
    assert t["completed"] == len(treated) - conv_t
    assert h["completed"] == len(held) - len(converts & held)
    assert (t["arm"], h["arm"]) == (
        "treatment (gets the journey)",
        "holdout (kept out, measured alike)",
    )
    lo_t, hi_t = rate_interval(conv_t, len(treated))
    assert (t["rate_low"], t["rate_high"]) == pytest.approx((lo_t, hi_t))
    for name in ("a", "b"):
        row = df.loc[f"split:step1={name}"]
        members = [p for p, a in arm.items() if a == name]
        assert row["entered"] == len(members) and row["converted"] == len(set(members) & converts)
    d, lo, hi = diff_interval(conv_t, len(treated), len(converts & held), len(held))
    assert (t["uplift"], t["uplift_low"], t["uplift_high"]) == pytest.approx((d, lo, hi))
    assert lo > 0 and abs(d - (1 / 3 - 0.2)) < 0.06
    full = report(e.state, "promo", method="wald")
    assert full.uplift is not None and full.uplift.method == "wald"
    assert full.uplift.uplift == pytest.approx(d)
    steps = full.funnel.set_index("step_id")
    assert steps.loc["step1", "reached"] == len(treated)
    assert steps.loc["mail-a", "reached"] + steps.loc["mail-b", "reached"] == len(treated)
    assert steps.loc["pause", "reached"] == len(treated)
    assert steps.loc["pause", "converted"] == conv_t
    assert len(journeys(e, grp="holdout")) == len(held)
