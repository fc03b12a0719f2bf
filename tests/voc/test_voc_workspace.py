"""Responses out of a workspace, reports, survey exports and figures, on small hand-made data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest

from journeykit.errors import InputError
from journeykit.ingest import load, load_segment
from journeykit.voc import figures
from journeykit.voc.exports import export_to_events
from journeykit.voc.report import (
    build_theme_report,
    emotion_report,
    nps_report,
    score_report,
    theme_report,
)
from journeykit.voc.responses import feedback, survey_responses

T0 = datetime(2026, 5, 4, 9, 0, 0)
STAGES = {"Order Completed": "purchase", "Chat Ended": "service", "Support Called": "service"}


def event(user, name, minutes, channel="web", **props):
    return {
        "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
        "event": name,
        "user_id": user,
        "channel": channel,
        "properties": json.dumps(props) if props else None,
    }


def answer(user, minutes, survey, score, comment=None, **props):
    extra = {"survey": survey, "score": score, **props}
    if comment is not None:
        extra["comment"] = comment
    return event(user, "Survey Answered", minutes, "survey", **extra)


@pytest.fixture
def shop(ws):
    rows = []
    # NPS about orders: u1..u6 -> 10, 9, 9, 8, 3, 0  => NPS = 50 - 33.3 = 16.7
    for i, score in enumerate([10, 9, 9, 8, 3, 0], start=1):
        rows.append(event(f"u{i}", "Order Completed", i))
        rows.append(
            answer(
                f"u{i}",
                i + 30,
                "nps",
                score,
                "payment failed twice" if score < 7 else None,
                touchpoint="Order Completed",
            )
        )
    # CSAT after chats, linked by the last interaction: 5, 4, 1
    for i, score in enumerate([5, 4, 1], start=7):
        rows.append(event(f"u{i}", "Chat Ended", i, "chat"))
        rows.append(answer(f"u{i}", i + 10, "csat", score, "waited 40 minutes in the chat"))
    rows.append(answer("u10", 50, "ces", "6", question="It was easy to handle my issue"))
    rows.append(event("u1", "Review Posted", 500, "review", rating=2, text="the sole broke"))
    load(ws, rows)
    load_segment(
        ws,
        [
            {
                "type": "identify",
                "userId": f"u{i}",
                "traits": {"persona": p},
                "timestamp": "2026-05-01T00:00:00Z",
            }
            for i, p in [(1, "bargain"), (2, "bargain"), (5, "loyal"), (6, "loyal")]
        ],
    )
    return ws


def test_survey_responses_pull_properties_and_links(shop):
    out = survey_responses(shop, stages=STAGES, traits=["persona"])
    assert len(out) == 10 + 1 - 1  # 10 answers; reviews are not asked for by default
    assert set(out["survey"]) == {"nps", "csat", "ces"}
    nps_rows = out[out["survey"] == "nps"]
    assert (nps_rows["touchpoint"] == "Order Completed").all()
    assert (nps_rows["link"] == "named").all()
    assert nps_rows["nps_category"].tolist().count("detractor") == 2
    csat_rows = out[out["survey"] == "csat"]
    assert (csat_rows["touchpoint"] == "Chat Ended").all()
    assert (csat_rows["channel"] == "chat").all()
    assert (csat_rows["stage"] == "service").all()
    ces_row = out[out["survey"] == "ces"].iloc[0]
    assert ces_row["score"] == 6.0  # numeric text is read as a number
    assert ces_row["question"] == "It was easy to handle my issue"
    assert ces_row["link"] == "none"
    personas = out.set_index("person_id")["persona"].dropna()
    assert sorted(personas.unique()) == ["bargain", "loyal"]
    with pytest.raises(InputError):
        survey_responses(shop, surveys=["sus"])


def test_feedback_has_comments_sentiment_and_reviews(shop):
    out = feedback(shop)
    assert out["comment"].notna().all()
    assert set(out["kind"]) == {"survey", "review"}
    review = out[out["kind"] == "review"].iloc[0]
    assert review["score"] == 2.0 and review["comment"] == "the sole broke"
    # the review names nothing: its touchpoint is the person's last interaction before it
    assert (review["touchpoint"], review["link"]) == ("Order Completed", "last_interaction")
    assert (out["sentiment_label"] == "negative").mean() >= 0.8
    assert "sentiment" not in feedback(shop, sentiment=None).columns


def test_score_reports_hand_computed(shop):
    overall = nps_report(shop).iloc[0]
    assert overall["n"] == 6
    assert overall["nps"] == pytest.approx(100 * (3 - 2) / 6)
    assert overall["low_sample"]
    by_tp = score_report(shop, "csat", by="touchpoint").set_index("touchpoint")
    assert by_tp.loc["Chat Ended", "csat"] == pytest.approx(200 / 3)
    by_stage = score_report(shop, "nps", by="stage", stages=STAGES)
    assert by_stage["stage"].tolist() == ["purchase"]
    by_persona = nps_report(shop, by="persona").set_index("persona")
    assert by_persona.loc["bargain", "nps"] == 100.0
    assert by_persona.loc["loyal", "nps"] == -100.0
    assert score_report(shop, "ces").iloc[0]["ces"] == 6.0
    # without stages= the workspace spec's stages group the answers
    assert nps_report(shop, by="stage")["stage"].tolist() == ["purchase"]


def test_theme_and_emotion_reports(shop):
    report = theme_report(shop, n_themes=3)
    assert report.themes["n"].sum() == (report.comments["theme"] >= 0).sum()
    assert {"mean_sentiment", "pct_negative", "top_touchpoint"} <= set(report.themes.columns)
    labels = report.themes.set_index("label")
    payment = next(label for label in labels.index if "payment" in label)
    assert labels.loc[payment, "top_touchpoint"] == "Order Completed"
    assert labels.loc[payment, "mean_sentiment"] < 0
    assert not report.by_touchpoint.empty and not report.detractors.empty
    detractors = theme_report(shop, segment="detractors", n_themes=1)
    assert set(detractors.comments["nps_category"]) == {"detractor"}
    with pytest.raises(InputError):
        build_theme_report(report.comments, segment="grumpy")
    curve = emotion_report(shop, stages=STAGES, min_n=1)
    assert curve["stage"].tolist()[:2] == ["purchase", "service"]
    assert (curve["mean_sentiment"] < 0).all()


def test_export_to_events_round_trip(ws):
    export = pd.DataFrame(
        {
            "Response ID": ["R1", "R2", "R3"],
            "Submitted At": ["2026-05-01 10:00", "2026-05-02 11:30", "2026-05-03 08:00"],
            "Email Address": ["Ann@Example.com", "bob@example.com", "cy@example.com"],
            "How likely are you to recommend us?": [10, 6, None],
            "Satisfaction": [5, 2, 4],
            "Why?": ["Quick delivery", "Card declined twice", None],
        }
    )
    events = export_to_events(
        export,
        scores={"nps": "How likely are you to recommend us?", "csat": "Satisfaction"},
        comments={"nps": "Why?"},
        touchpoint="Order Completed",
        event="Survey Answered",
    )
    assert len(events) == 5  # R3 has no NPS answer
    assert events["event"].unique().tolist() == ["Survey Answered"]
    assert events["event_id"].tolist()[:2] == ["survey-export:R1:nps", "survey-export:R1:csat"]
    first = json.loads(events.loc[0, "properties"])
    assert first == {
        "survey": "nps",
        "score": 10,
        "comment": "Quick delivery",
        "touchpoint": "Order Completed",
    }
    report = load(ws, events)
    assert report.loaded == 5 and report.rejected == 0
    out = survey_responses(ws)
    assert sorted(out["survey"].tolist()) == ["csat", "csat", "csat", "nps", "nps"]
    assert nps_report(ws).iloc[0]["nps"] == 0.0
    # a second load of the same export stores nothing twice
    assert load(ws, events).duplicates == 5


def test_export_guesses_columns_and_explains_errors():
    one = pd.DataFrame(
        {"date": ["2026-05-01"], "customer_id": ["c1"], "NPS": ["9"], "Comment": ["fine"]}
    )
    events = export_to_events(one)
    assert json.loads(events.loc[0, "properties"])["survey"] == "nps"
    assert events.loc[0, "user_id"] == "c1" and events.loc[0, "event_id"] is None
    with pytest.raises(InputError) as info:
        export_to_events(one.assign(NPS=["11"]))
    assert info.value.row == 1
    with pytest.raises(InputError):
        export_to_events(one.drop(columns="customer_id"))
    with pytest.raises(InputError):
        export_to_events(one.drop(columns="date"))
    with pytest.raises(InputError):
        export_to_events(one.rename(columns={"NPS": "score"}))  # which survey?
    assert len(export_to_events(one.rename(columns={"NPS": "score"}), survey="nps")) == 1


def test_figures():
    trend = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-01-05", "2026-01-12"] * 2),
            "touchpoint": ["Chat Ended"] * 2 + ["Order Completed"] * 2,
            "nps": [10.0, 20.0, -5.0, 0.0],
            "nps_low": [0.0, 5.0, -20.0, -10.0],
            "nps_high": [20.0, 35.0, 10.0, 10.0],
            "n": [40, 50, 10, 60],
            "low_sample": [False, False, True, False],
        }
    )
    fig = figures.nps_trend(trend, group="touchpoint")
    assert isinstance(fig, go.Figure)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["Chat Ended", "Order Completed"]
    assert next(iter(lines[1].marker.color)) == "white"  # the small sample is hollow
    themes = pd.DataFrame(
        {
            "label": ["a", "b", "c"],
            "n": [5, 30, 10],
            "mean_sentiment": [0.5, -0.8, 0.0],
            "keywords": [["x"]] * 3,
            "quotes": [["q"]] * 3,
        }
    )
    bars = figures.theme_bars(themes, top=2)
    assert list(bars.data[0].y) == ["c", "b"]
    curve = pd.DataFrame(
        {
            "stage": ["service", "purchase"],
            "mean_sentiment": [-0.4, 0.2],
            "low": [-0.6, 0.1],
            "high": [-0.2, 0.3],
            "n": [40, 50],
            "low_sample": [False, False],
        }
    )
    emo = figures.emotion_curve(curve, order=["purchase", "service"])
    assert list(emo.data[0].x) == ["purchase", "service"]
    assert list(emo.data[0].error_y.array) == pytest.approx([0.1, 0.2])
    with pytest.raises(InputError):
        figures.nps_trend(trend.drop(columns="nps_low"))
