"""The voice of the customer reads its survey events and fields from the workspace's spec."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import journeykit
from journeykit.errors import NoSpec
from journeykit.ingest import load
from journeykit.journey import set_spec
from journeykit.voc.linking import link_feedback
from journeykit.voc.report import score_report
from journeykit.voc.responses import feedback, survey_responses

T0 = datetime(2026, 6, 1, 9, 0)

SPEC = """
stages:
  - name: stay
    touchpoints:
      - {name: Booking, events: [booking_confirmed]}
      - {name: Front desk, events: [desk_chat], kind: contact}
  - name: after
    touchpoints:
      - {name: Reminder, events: [reminder_sent], kind: message}
      - {name: Stay rating, events: [stay_rated], kind: feedback}
      - {name: Recommend, events: [would_recommend], kind: feedback}
goals: [booking_confirmed]
surveys:
  - {event: stay_rated, score: properties.stars, comment: properties.remarks, metric: csat}
  - {event: would_recommend, score: properties.value, metric: nps}
"""


def ev(user: str, name: str, minutes: int, **props: object) -> dict[str, object]:
    return {
        "ts": (T0 + timedelta(minutes=minutes)).isoformat(),
        "event": name,
        "user_id": user,
        "channel": "web",
        "properties": json.dumps(props) if props else None,
    }


@pytest.fixture
def hotel(tmp_path: Path) -> journeykit.Workspace:
    ws = journeykit.open(tmp_path / "hotel")
    rows = [
        ev("a", "booking_confirmed", 0),
        ev("a", "reminder_sent", 5),
        ev("a", "stay_rated", 10, stars=5, remarks="lovely room"),
        ev("b", "desk_chat", 0),
        ev("b", "stay_rated", 3, stars="2", remarks="  "),
        ev("c", "booking_confirmed", 0),
        ev("c", "would_recommend", 1, value=9),
        ev("d", "would_recommend", 1, value=3),
    ]
    assert load(ws, rows).rejected == 0
    set_spec(ws, SPEC, by="tests")
    return ws


def test_answers_come_from_the_spec_fields(hotel: journeykit.Workspace) -> None:
    out = survey_responses(hotel).sort_values(["survey", "score"], ascending=[True, False])
    assert out[["survey", "score"]].values.tolist() == [
        ["csat", 5.0],
        ["csat", 2.0],
        ["nps", 9.0],
        ["nps", 3.0],
    ]
    # the comment field is the spec's; a blank one is no comment
    assert out["comment"].iloc[0] == "lovely room" and out["comment"].isna().tolist()[1:] == [
        True,
        True,
        True,
    ]
    # the reminder is a message: never what an answer is about
    assert out["touchpoint"].fillna("-").tolist() == [
        "booking_confirmed",
        "desk_chat",
        "booking_confirmed",
        "-",
    ]
    # NPS: one promoter, one detractor of two
    assert score_report(hotel, "nps").iloc[0]["nps"] == 0.0
    # CSAT: share of 4-5 answers
    assert score_report(hotel, "csat").iloc[0]["csat"] == 50.0
    by_stage = score_report(hotel, "csat", by="stage").set_index("stage")
    assert by_stage.loc["stay", "n"] == 2


def test_comments_are_read_from_the_comment_field(hotel: journeykit.Workspace) -> None:
    comments = feedback(hotel, sentiment=None)
    assert comments["comment"].tolist() == ["lovely room"]


def test_explicit_feedback_events_win(hotel: journeykit.Workspace) -> None:
    links = link_feedback(hotel, feedback_events=["stay_rated"], ignore=[]).to_pandas()
    assert sorted(links["touchpoint"].tolist()) == ["desk_chat", "reminder_sent"]


def test_without_a_spec_it_says_how_to_make_one(tmp_path: Path) -> None:
    ws = journeykit.open(tmp_path / "none")
    with pytest.raises(NoSpec, match="spec infer"):
        survey_responses(ws)
