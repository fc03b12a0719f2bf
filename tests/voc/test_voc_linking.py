"""Linking feedback to touchpoints: hand cases, and the engine against the pandas reference."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeykit
from journeykit.errors import InputError
from journeykit.ingest import load
from journeykit.voc.linking import LINK_COLUMNS, link_feedback, link_feedback_frame

T0 = datetime(2026, 5, 4, 9, 0, 0)


def row(user, event, minutes, channel="web", **props):
    return {
        "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
        "event": event,
        "user_id": user,
        "channel": channel,
        "properties": json.dumps(props) if props else None,
    }


def linked(ws, **options) -> pd.DataFrame:
    out = link_feedback(ws, **options).to_pandas()
    return out.sort_values("ts").reset_index(drop=True)


def test_links_named_last_and_none(ws):
    load(
        ws,
        [
            row("ann", "Order Completed", 0),
            row("ann", "Chat Ended", 60, "chat"),
            row("ann", "Email Sent", 90, "email"),
            # names the order although the chat came later
            row(
                "ann",
                "Survey Answered",
                120,
                "survey",
                survey="nps",
                score=9,
                touchpoint="Order Completed",
            ),
            # names nothing: the chat is the last interaction (the e-mail does not count)
            row("ann", "Survey Answered", 121, "survey", survey="csat", score=2),
            # ten days later: nothing within the 7-day window
            row("ann", "Survey Answered", 120 + 10 * 24 * 60, "survey", survey="csat", score=3),
            row("bob", "Review Posted", 5, "review", rating=1, text="broke"),
        ],
    )
    out = linked(ws)
    assert list(out.columns) == list(LINK_COLUMNS)
    bob, named, last, none = (out.iloc[i] for i in range(4))
    assert (named["touchpoint"], named["link"], named["touchpoint_channel"]) == (
        "Order Completed",
        "named",
        "web",
    )
    assert named["touchpoint_ts"] == pd.Timestamp(T0)
    assert (last["touchpoint"], last["link"], last["touchpoint_channel"]) == (
        "Chat Ended",
        "last_interaction",
        "chat",
    )
    assert none["link"] == "none" and pd.isna(none["touchpoint"])
    assert bob["link"] == "none" and bob["feedback_event"] == "Review Posted"
    # a longer window reaches back to the chat
    wide = linked(ws, window=timedelta(days=11))
    assert wide.iloc[3]["touchpoint"] == "Chat Ended"


def test_named_touchpoint_outside_the_window_keeps_its_name(ws):
    load(
        ws,
        [
            row("cy", "Support Called", 0, "phone"),
            row(
                "cy",
                "Survey Answered",
                30 * 24 * 60,
                "survey",
                survey="ces",
                score=2,
                touchpoint="Support Called",
            ),
        ],
    )
    out = linked(ws).iloc[0]
    assert out["touchpoint"] == "Support Called" and out["link"] == "named"
    assert pd.isna(out["touchpoint_event_id"])


def test_since_and_until_limit_the_feedback(ws):
    load(
        ws,
        [
            row("di", "Chat Ended", 0, "chat"),
            row("di", "Survey Answered", 10, "survey", survey="csat", score=5),
            row("di", "Survey Answered", 3 * 24 * 60, "survey", survey="csat", score=1),
        ],
    )
    out = link_feedback(ws, since=T0 + timedelta(days=1)).to_pandas()
    assert len(out) == 1 and out.iloc[0]["touchpoint"] == "Chat Ended"
    assert len(link_feedback(ws, until=T0 + timedelta(days=1)).to_pandas()) == 1
    with pytest.raises(InputError):
        link_feedback(ws, window=timedelta(days=-1))


FEEDBACK = ["Survey Answered", "Review Posted"]
EVENTS = ["Product Viewed", "Chat Ended", "Order Completed", "Email Sent", "Support Called"]


@st.composite
def journeys(draw):
    rows = []
    for user in ("u1", "u2", "u3"):
        for _ in range(draw(st.integers(0, 7))):
            minute = draw(st.integers(0, 20)) * 60 * 6  # coarse times: many ties
            if draw(st.booleans()):
                named = draw(st.sampled_from([None, *EVENTS[:3], "Never Happened"]))
                props = {"survey": "nps", "score": 5}
                if named:
                    props["touchpoint"] = named
                event = draw(st.sampled_from(["Survey Answered", "Review Posted"]))
                rows.append(row(user, event, minute, "survey", **props))
            else:
                rows.append(row(user, draw(st.sampled_from(EVENTS)), minute))
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys(), st.sampled_from([timedelta(hours=6), timedelta(days=1), timedelta(days=3)]))
def test_engine_matches_the_pandas_reference(rows, window):
    with tempfile.TemporaryDirectory() as folder:
        ws = journeykit.open(Path(folder) / "ws")
        try:
            if rows:
                load(ws, rows)
            events = ws.table("events").to_pandas()
            names = {"feedback_events": FEEDBACK, "ignore": ["Email Sent"]}
            expected = link_feedback_frame(events, window=window, **names)
            got = link_feedback(ws, window=window, **names).to_pandas()
        finally:
            ws.close()
    got = got.sort_values("feedback_id").reset_index(drop=True)
    assert len(got) == len(expected)
    for column in (
        "feedback_id",
        "touchpoint",
        "touchpoint_event_id",
        "touchpoint_channel",
        "link",
    ):
        left = got[column].astype(object).where(got[column].notna(), None).tolist()
        right = expected[column].astype(object).where(expected[column].notna(), None).tolist()
        assert left == right, column
    assert got["touchpoint_ts"].tolist() == pd.to_datetime(expected["touchpoint_ts"]).tolist()
