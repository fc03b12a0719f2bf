"""The filter language: parsing, errors with positions, and evaluation on a small log."""

from __future__ import annotations

import pytest
from analytics_reference import person_of
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.filters import parse_field, parse_filter
from journeykit.errors import InvalidFilter

DAY = 24 * 60
LOG = [
    ("u1", "Session Started", 0, {"platform": "ios"}, "app"),
    ("u1", "Order Completed", DAY, {"platform": "ios", "items": 3}, "app", 10.0),
    ("u1", "Order Completed", 2 * DAY, {}, "web", 20.0),
    ("u2", "Ad Clicked", 0, {}, "ads"),
    ("u2", "Session Started", 60, {"platform": "android"}, "app"),
    ("u2", "Order Completed", 4 * DAY, {}, "app", 5.0),
    ("u2", "Order Completed", 5 * DAY, {}, "app", 5.0),
    ("u3", "Ad Clicked", 0, {}, "ads"),
]


@pytest.mark.parametrize(
    ("text", "events", "people"),
    [
        ('channel == "app" and properties.platform in ("ios", "android")', 3, ["u1", "u2"]),
        (
            'channel == "app" and properties.platform in ("ios", "android") '
            'and count(event == "Order Completed", 30d) >= 2 and first_channel == "ads"',
            1,
            ["u2"],
        ),
        ("properties.items > 2", 1, ["u1"]),
        ("properties.items == 3 and revenue >= 10", 1, ["u1"]),
        ('not channel == "app"', 3, ["u1", "u2", "u3"]),
        ('count(channel == "app") == 0', 1, ["u3"]),
        ('count(event == "Order Completed", 1d) >= 1', 4, ["u2"]),
        ('ts >= "2026-03-04"', 3, ["u1", "u2"]),
        ("properties.platform is null", 5, ["u1", "u2", "u3"]),
        ("properties.platform is not null and lifetime_revenue > 15", 2, ["u1"]),
        ('last_channel != "app" or event == "Ad Clicked"', 5, ["u1", "u2", "u3"]),
        ('event not in ("Ad Clicked", "Session Started")', 4, ["u1", "u2"]),
        ('cohort("vip") and channel == "web"', 1, ["u1"]),
        ('properties.platform contains "and"', 1, ["u2"]),
        ("n_events >= 4 and (seq == 1 or seq == 4)", 2, ["u2"]),
    ],
)
def test_evaluation(make_ws, text, events, people):
    ws = make_ws(LOG)
    ids = person_of(ws)
    flt = parse_filter(text)
    cohorts = {"vip": [ids["u1"]]}
    assert flt.events(ws, cohorts=cohorts).count().execute() == events
    got = sorted(flt.people(ws, cohorts=cohorts).execute()["person_id"])
    assert got == sorted(ids[u] for u in people)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ('channel = "app"', 8, "=="),
        ('chanel == "x"', 0, "unknown field"),
        ('count(first_channel == "x") > 1', 6, "events only"),
        ('revenue > "x"', 10, "number"),
        ('(channel == "a"', 15, "expected ')'"),
        ('channel == "a" and', 18, "expected a field"),
        ('ts > "yesterday"', 5, "ISO"),
        ("channel", 0, "not a condition"),
        ("1", 0, "not a condition"),
        ("0", 0, "not a condition"),
        ("1.0 or channel == 'a'", 0, "not a condition"),
        ("'x'", 0, "not a condition"),
        ('channel == "a" ; drop table events', 15, "unexpected character"),
        ('__import__("os") == 1', 0, "unknown function"),
        ("properties == 1", 0, "properties.<key>"),
        ("count(event == 'A', 30x) > 1", 20, "duration"),
        ("", 0, "empty"),
        ('cohort(channel) and channel == "a"', 7, "string"),
    ],
)
def test_errors_point_at_the_problem(text, position, reason):
    with pytest.raises(InvalidFilter) as err:
        parse_filter(text)
    assert err.value.position == position
    assert reason in str(err.value)


def test_true_and_false_alone_are_whole_filters(make_ws):
    ws = make_ws(LOG)
    everyone = ws.store.scalar("SELECT count(DISTINCT person_id) FROM events")
    assert len(parse_filter("true").people(ws).execute()) == everyone
    assert len(parse_filter("false").people(ws).execute()) == 0


def test_unknown_cohort_and_fields(make_ws):
    ws = make_ws(LOG)
    with pytest.raises(InvalidFilter, match="unknown cohort"):
        parse_filter('cohort("x")').people(ws)
    assert parse_field("traits.plan").level == "person"
    with pytest.raises(InvalidFilter):
        parse_field("channel == 1")


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses_or_raises_invalid_filter(text):
    try:
        parse_filter(text)
    except InvalidFilter as err:
        assert err.position is not None
        assert 0 <= err.position <= len(text)
