"""The value models on the travel export, against numbers worked out from its design.

The spec is the one ``journeykit spec infer`` proposed (``byo_spec``); the reference numbers
come from the design functions of :mod:`byo_data` (who books, at what price, through which
campaign medium), never from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from byo_cli import Byo, jk

from byo_data import MEDIUMS, TRAVEL_PEOPLE, TRAVEL_REF, booker, first_price, repeat_booker
from journeykit.analytics.value import attribution, drivers, paths
from journeykit.store import Workspace

R = TRAVEL_REF
BOOKERS = [k for k in range(TRAVEL_PEOPLE) if booker(k)]


@pytest.fixture(scope="module")
def ws(byo_spec: Byo) -> Iterator[Workspace]:
    workspace = byo_spec.open()
    yield workspace
    workspace.close()


def test_attribution_by_campaign_medium(ws: Workspace) -> None:
    p = paths.paths_from_workspace(ws)
    # the second bookings come 35 days after the only campaign click: past the lookback
    assert p.conversions == R["bookings"]
    assert p.unattributed == R["repeat_bookers"]
    value = {m: sum(first_price(k) for k in BOOKERS if MEDIUMS[k % 3] == m) for m in MEDIUMS}
    assert sum(value.values()) == R["first_revenue"]
    # one touch per journey: every model gives each booking to its campaign's medium
    for model in ("first", "last", "linear", "position", "markov", "shapley"):
        got = attribution.attribute(p, model)
        assert got["conversions"].round(9).to_dict() == R["bookers_by_medium"], model
        assert got["revenue"].round(6).to_dict() == pytest.approx(value), model
    effects = attribution.markov_removal_effects(p, metric="revenue")
    total = sum(value.values())
    # removing a medium loses exactly its own bookings' value
    assert effects.to_dict() == pytest.approx({m: v / total for m, v in value.items()})


def test_attribution_through_the_cli(byo_spec: Byo) -> None:
    out = jk("attribution", "--metric", "revenue", "-w", str(byo_spec.folder))
    assert out.exit_code == 0, out.output
    for medium in MEDIUMS:
        assert medium in out.output
    assert "30 conversions had no touch to credit" in out.output
    # every model credits each medium its bookings' value (a third of 27,600), as money
    assert out.output.count("CHF 9,200.00") == 3 * 8 and "%" not in out.output


def test_drivers_of_booking_and_of_booking_again(ws: Workspace) -> None:
    flags = drivers.driver_features_from_workspace(ws)
    assert len(flags) == R["people"] and flags["converted"].sum() == R["bookers"]
    assert flags["repeat_purchase"].sum() == R["repeat_bookers"]
    assert flags["revenue"].sum() == pytest.approx(R["revenue"])
    # a support chat: 60 chatters who never book (g 6-7), 30 bookers who chat (g 0)
    # booking: chatters 30 of 90, the others 120 of 210 -> OR = (30/60) / (120/90) = 0.375
    chat = drivers.key_drivers(flags, "converted", features=["contacts"])
    assert chat.drivers.loc["contacts", "odds_ratio"] == pytest.approx(0.375, rel=1e-6)
    assert chat.drivers.loc["contacts", "direction"] == "negative"
    # booking again, among bookers: 15 of the 30 who chatted, 15 of the other 120 -> OR 7
    bookers = flags[flags["converted"] == 1]
    again = drivers.key_drivers(bookers, "repeat_purchase", features=["contacts"])
    assert again.drivers.loc["contacts", "odds_ratio"] == pytest.approx(7.0, rel=1e-6)
    # the medium is independent of booking by design: odds ratio 1 for each
    for medium in MEDIUMS:
        col = f"first_touch_{medium}"
        got = drivers.key_drivers(flags, "converted", features=[col])
        assert got.drivers.loc[col, "odds_ratio"] == pytest.approx(1.0, abs=1e-6)
    expected_repeat = sum(repeat_booker(k) for k in range(TRAVEL_PEOPLE))
    assert expected_repeat == R["repeat_bookers"]


def test_persona_and_propensity_features_add_up(ws: Workspace) -> None:
    from journeykit.analytics.value import persona_features_from_workspace, predict

    f = persona_features_from_workspace(ws)
    assert len(f) == R["people"]
    assert f["conversions"].sum() == R["bookings"]
    shares = f[[c for c in f.columns if c.startswith("share_")]]
    assert shares.sum(axis=1).le(1 + 1e-9).all() and shares.sum(axis=1).gt(0).all()
    # as of the end: everyone, and the reviews read with the spec's score field
    now = predict.journey_features(ws, cutoff=pd.Timestamp("2026-06-01"))
    assert len(now) == R["people"]
    reviewed = now[now["has_feedback"] == 1]
    assert len(reviewed) == R["reviews"]
    assert reviewed["feedback_score"].mean() == pytest.approx(R["mean_rating"])
    assert now["frequency"].sum() == R["bookings"]
    assert now["errors"].gt(0).sum() == R["payment_failed_people"]
