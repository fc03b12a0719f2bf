"""The demo's planted effects show up in the analytics (compared with ground_truth.json)."""

from __future__ import annotations

from datetime import date

import pytest

from journeykit.analytics import (
    Step,
    compare_segments,
    funnel,
    kpis,
    retention,
    step_matrix,
    transition_matrix,
    variants,
)

pytestmark = pytest.mark.slow


def _effect(truth, name):
    return next(e for e in truth["effects"] if e["name"] == name)


def test_ios_payment_failure_weeks(demo):
    ws, truth = demo
    effect = _effect(truth, "ios_payment_failure")
    weeks = {date.fromisoformat(w["start"]) for w in effect["where"]["weeks"]}
    result = funnel(
        ws,
        [Step("Checkout Started", where='channel == "app"'), "Order Completed"],
        per="session",
        window="1d",
        by=["properties.platform", "week"],
    )
    t = result.table[result.table["step"] == 2]
    ios = t[t["properties.platform"] == "ios"]
    hit = ios[ios["week"].isin(weeks)]
    rest = ios[~ios["week"].isin(weeks) & (ios["units"] >= 10)]
    conv_hit = hit["units"].sum() / (hit["units"] + hit["dropped"]).sum()
    conv_rest = rest["units"].sum() / (rest["units"] + rest["dropped"]).sum()
    measured = effect["measured"]
    assert conv_rest - conv_hit > 0.5 * measured["conversion_drop_ios"]
    # the affected weeks are the iOS weeks with the lowest conversion
    eligible = ios[ios["units"] + ios["dropped"] >= 10]
    assert set(eligible.nsmallest(len(weeks), "conversion")["week"]) == weeks
    # android shows no such drop in the same weeks
    android = t[(t["properties.platform"] == "android") & t["week"].isin(weeks)]
    conv_android = android["units"].sum() / (android["units"] + android["dropped"]).sum()
    assert conv_android - conv_hit > 0.2
    # the people who dropped there are a cohort usable as a segment
    dropped = result.dropped_at(2, group={"properties.platform": "ios", "week": min(weeks)})
    assert len(dropped) > 0


def test_welcome_email_lifts_second_purchase(demo):
    ws, truth = demo
    effect = _effect(truth, "welcome_email")["measured"]
    welcome = 'count(event == "Email Sent" and properties.campaign == "welcome") >= 1'
    segments = {"welcome": welcome, "no_welcome": welcome.replace(">= 1", "== 0")}
    c = compare_segments(
        ws,
        segments,
        metric="retention",
        cohort="first_purchase",
        returning="Order Completed",
        period=0,
        segment='count(event == "Signed Up") >= 1',
    )
    rates = c.groups.set_index("group")["estimate"]
    assert rates["welcome"] > rates["no_welcome"]
    lift = rates["welcome"] - rates["no_welcome"]
    assert lift == pytest.approx(effect["lift"], abs=0.06)
    assert rates["welcome"] == pytest.approx(effect["welcome"]["second_purchase_rate"], abs=0.06)
    weekly = retention(ws, cohort="first_purchase", returning="Order Completed", by=segments)
    assert set(weekly.table["segment"]) == {"welcome", "no_welcome"}


def test_paths_agree_with_funnels_on_demo(demo):
    ws, _ = demo
    tm = transition_matrix(ws, detail=True).table.set_index(["source", "target"])
    strict = funnel(ws, ["Checkout Started", "Payment Failed"], mode="strict")
    # a strict pair is a transition of distinct people at the first occurrence: at most units
    assert strict.table["units"].iloc[1] <= tm.loc[("Checkout Started", "Payment Failed"), "units"]
    sm = step_matrix(ws, max_steps=1)
    firsts = funnel(ws, ["Ad Clicked", "Order Completed"]).table["units"].iloc[0]
    assert firsts >= sm[sm["event"] == "Ad Clicked"]["units"].iloc[0]
    v = variants(ws, goal="Order Completed", collapse_repeats=True, top=None)
    buyers = funnel(ws, ["Order Completed", "Order Completed"]).table["units"].iloc[0]
    assert v["converted"].sum() == buyers
    k = kpis(ws)
    assert k.value("customers") == buyers
    assert k.cac["spend"].sum() > 0
