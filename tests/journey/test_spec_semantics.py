"""The semantic sections of a journey spec: what the data means, and their defaults."""

from __future__ import annotations

import pytest

from journeykit.errors import InvalidSpec
from journeykit.journey import JourneySpec, Survey, demo_spec_path, load_spec

BASE = """
stages:
  - name: visit
    touchpoints:
      - {name: Landing, events: [landing_view, promo_click]}
      - {name: Push, events: [push_sent], kind: message}
  - name: buy
    touchpoints:
      - {name: Basket, events: [add_to_cart]}
      - {name: Help, events: [help_chat, help_call], kind: contact}
      - {name: Purchase, events: [purchase]}
  - name: after
    touchpoints:
      - {name: Rating, events: [rated], kind: feedback}
goals: [purchase]
"""


def spec(extra: str = "") -> JourneySpec:
    return load_spec(BASE + extra)


def test_defaults_come_from_goals_and_touchpoint_kinds() -> None:
    s = spec()
    assert s.conversion_events == ("purchase",)
    assert s.revenue_field == "revenue"
    assert s.currency_code is None and s.currency_symbol == ""
    assert s.touch_events == ("landing_view", "promo_click")
    assert s.touch_channel_field == "channel"
    assert s.contact_events == ("help_chat", "help_call")
    assert s.message_events == ("push_sent",)
    assert s.surveys == (
        Survey(
            event="rated",
            score="properties.score",
            comment="properties.comment",
            metric_field="properties.survey",
        ),
    )
    assert s.survey_events == ("rated",)
    assert s.session_gap_seconds == 1800.0
    assert dict(s.stage_of_event) == {
        "landing_view": "visit",
        "promo_click": "visit",
        "push_sent": "visit",
        "add_to_cart": "buy",
        "help_chat": "buy",
        "help_call": "buy",
        "purchase": "buy",
        "rated": "after",
    }


def test_explicit_sections_win_over_defaults() -> None:
    s = spec(
        """
currency: eur
conversions: {events: [purchase, renewal], revenue: properties.amount}
marketing: {events: [promo_click], channel: properties.utm_source}
contacts: [help_call]
messages: []
surveys:
  - {event: rated, score: properties.stars, metric: csat}
  - {event: nps_reply, score: properties.value, comment: properties.why, metric: nps}
session_gap: 2h
"""
    )
    assert s.currency_code == "EUR" and s.currency_symbol == "€"
    assert s.conversion_events == ("purchase", "renewal")
    assert s.revenue_field == "properties.amount"
    assert s.touch_events == ("promo_click",)
    assert s.touch_channel_field == "properties.utm_source"
    assert s.contact_events == ("help_call",)
    assert s.message_events == ()
    assert [(v.event, v.metric, v.comment) for v in s.surveys] == [
        ("rated", "csat", None),
        ("nps_reply", "nps", "properties.why"),
    ]
    assert s.session_gap_seconds == 7200.0
    # events the spec names but no touchpoint takes are named too
    assert {"renewal", "nps_reply"} <= s.events_named()
    assert s.events_named() == {
        "landing_view",
        "promo_click",
        "push_sent",
        "add_to_cart",
        "help_chat",
        "help_call",
        "purchase",
        "rated",
        "renewal",
        "nps_reply",
    }


@pytest.mark.parametrize(
    ("code", "symbol"), [("GBP", "£"), ("usd", "$"), ("EUR", "€"), ("CHF", "CHF ")]
)
def test_currency_symbol_is_derived_from_the_code(code: str, symbol: str) -> None:
    assert spec(f"currency: {code}").currency_symbol == symbol
    assert spec(f"currency: {code}").currency_code == code.upper()


def test_the_old_display_symbol_is_still_read() -> None:
    old = spec('settings: {currency: "£"}')
    assert old.currency_symbol == "£" and old.currency_code == "GBP"
    # the code wins over the old symbol
    both = spec('currency: USD\nsettings: {currency: "£"}')
    assert both.currency_symbol == "$" and both.currency_code == "USD"


def test_old_survey_event_setting_still_names_the_survey() -> None:
    s = spec("settings: {survey_event: answer}")
    assert s.survey_events == ("answer",)
    assert s.surveys[0].score == "properties.score"


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("currency: pounds", "currency", "ISO 4217"),
        ("conversions: {events: [purchase], revenue: amount}", "conversions.revenue", "amount"),
        ("conversions: {events: []}", "conversions.events", "at least 1"),
        ("marketing: {events: [promo_click], channel: 'utm source'}", "marketing.channel", ""),
        ("contacts: [help_call, help_call]", "contacts[1]", "twice"),
        ("surveys: [{event: rated, score: properties.stars}]", "surveys[0]", "metric"),
        ("surveys: [{event: rated, metric: grade}]", "surveys[0].metric", ""),
        ("surveys: [{event: rated, metric: nps, score: 'x y'}]", "surveys[0].score", ""),
        ("session_gap: soon", "session_gap", "not a duration"),
        ("sessions: 30m", "sessions", "unknown field"),
    ],
)
def test_bad_sections_name_the_field_and_line(extra: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidSpec) as err:
        spec(extra)
    assert err.value.field == field
    assert reason in str(err.value)
    # the line of the section, after the base spec's lines
    assert err.value.line == BASE.count("\n") + 1


def test_yaml_round_trip_keeps_the_sections() -> None:
    s = load_spec(demo_spec_path())
    again = load_spec(s.to_yaml())
    assert again == s
    assert load_spec(s) == s
    assert "surveys:" in s.to_yaml() and "survey_section" not in s.to_yaml()


def test_the_demo_spec_says_what_its_data_means() -> None:
    s = load_spec(demo_spec_path())
    assert s.currency_code == "GBP" and s.currency_symbol == "£"
    assert s.conversion_events == s.goal_events
    assert s.revenue_field == "revenue"
    assert s.survey_events and s.contact_events and s.message_events and s.touch_events
    assert set(s.touch_events) <= s.events_named()
