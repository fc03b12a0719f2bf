"""The map's numbers on hand-built journeys: reach, conversion, contacts, emotion, pain points."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from journeykit.journey.emotion import keywords, rescale, survey_answers
from journeykit.journey.measure import ALL, ALL_PERIODS, Measures, measure
from journeykit.journey.pains import detect_pains
from journeykit.journey.spec import SpecBuilder
from journeykit.journey.stats import newcombe
from journeykit.journey.touches import compile_plan
from journeykit.store import Workspace

SPEC = (
    SpecBuilder("Shop")
    .stage("s1")
    .touchpoint("A", events=["A"])
    .stage("s2")
    .touchpoint("B", events=["B"])
    .touchpoint("Chat", events=["Chat Started", "Chat Ended"], channel="chat", kind="contact")
    .touchpoint("X", events=["X"])
    .touchpoint("Y", events=["Y"])
    .stage("s3")
    .touchpoint("Order", events=["Order Completed"])
    .stage("s4")
    .touchpoint("Survey", events=["Survey Answered"], kind="feedback")
    .goal("Order Completed")
    .settings(horizon_days=0, breakdowns=["platform"])
    .build()
)


def props(**values: Any) -> dict[str, Any]:
    return {"properties": json.dumps(values)}


def chat(wait: int) -> list[Any]:
    return [
        ("Chat Started", {"channel": "chat", **props(wait_seconds=wait)}),
        ("Chat Ended", {"channel": "chat"}),
    ]


def survey(score: int, about: str, comment: str | None = None) -> tuple[str, dict[str, Any]]:
    return (
        "Survey Answered",
        {
            "channel": "survey",
            **props(survey="csat", score=score, touchpoint=about, comment=comment),
        },
    )


def order(revenue: float = 100.0) -> tuple[str, dict[str, Any]]:
    return ("Order Completed", {"revenue": revenue})


def cell(m, name: str) -> pd.Series:
    c = m.cells[(m.cells.persona == ALL) & (m.cells.period == ALL_PERIODS)]
    return c[c.tp == m.plan.tp_index(name)].iloc[0]


@pytest.fixture
def measured(ws: Workspace) -> Iterator[Callable[[Workspace], Measures]]:
    """Measure a workspace under SPEC; the temporary tables go before the workspace closes."""
    made: list[Measures] = []

    def run(w: Workspace) -> Measures:
        made.append(measure(w, compile_plan(SPEC)))
        return made[-1]

    yield run
    for m in made:
        m.release()


@pytest.fixture
def small(journeys: Callable[..., Workspace]) -> Workspace:
    """Four people: two buy, one after a chat; one waits long and answers unhappily."""
    return journeys(
        {
            "p1": ["A", ("B", props(platform="ios")), order(120.0)],
            "p2": ["A", ("B", props(platform="web"))],
            "p3": [
                "A",
                *chat(600),
                survey(1, "Chat Ended", "kept waiting, no answer"),
                ("B", props(platform="ios")),
            ],
            "p4": ["A", *chat(30), survey(5, "Chat Ended", "lovely help"), order(80.0), *chat(20)],
        }
    )


def test_cells_count_reach_conversion_and_contacts(small: Workspace, measured) -> None:
    m = measured(small)
    assert (m.people, m.converters, m.revenue, m.value) == (4, 2, 200.0, 100.0)
    a = cell(m, "A")
    assert (a.people, a.events, a.converted, a.to_next) == (4, 4, 2, 4)
    c = cell(m, "Chat")
    assert (c.people, c.events, c.converted) == (2, 6, 1)
    assert (c["repeat"], c.waited, c.long_wait) == (1, 2, 1)  # p4 chatted twice; p3 waited 600 s
    b = cell(m, "B")
    assert (b.people, b.converted) == (3, 1)
    o = cell(m, "Order")
    assert (o.people, o.converted) == (2, 0)  # nobody ordered twice
    waits = m.waits.set_index("tp").loc[m.plan.tp_index("Chat")]
    assert (waits.contacts, waits.long_contacts) == (2, 1)  # per person and week
    bd = m.breakdowns
    bd = bd[(bd.key == "platform") & (bd.tp == m.plan.tp_index("B"))].set_index("value")
    assert (bd.loc["ios", "people"], bd.loc["ios", "converted"]) == (2, 1)
    assert (bd.loc["web", "people"], bd.loc["web", "converted"]) == (1, 0)
    wait = m.breakdowns[(m.breakdowns.key == "wait")].set_index("value")
    assert (wait.loc["long", "people"], wait.loc["long", "converted"]) == (1, 0)
    assert (wait.loc["short", "people"], wait.loc["short", "converted"]) == (1, 1)


def test_stage_rows_count_entries_and_conversion(small: Workspace, measured) -> None:
    m = measured(small)
    s = m.stages[(m.stages.persona == ALL) & (m.stages.period == ALL_PERIODS)].set_index(
        "stage_index"
    )
    assert (s.loc[0, "people"], s.loc[0, "converted"], s.loc[0, "to_next"]) == (4, 2, 4)
    assert (s.loc[1, "people"], s.loc[1, "to_next"]) == (4, 2)  # p1 and p4 reach s3


def test_survey_answers_link_to_touchpoints(small: Workspace, measured) -> None:
    m = measured(small)
    a = survey_answers(small, m, sentiment=lambda texts: [0.5 for _ in texts])
    assert len(a) == 2
    assert set(a.tp) == {m.plan.tp_index("Chat")}
    by_score = a.set_index("score")
    assert by_score.loc[1.0, "emotion"] == -1.0 and bool(by_score.loc[1.0, "negative"])
    assert by_score.loc[5.0, "emotion"] == 1.0 and not bool(by_score.loc[5.0, "negative"])
    assert by_score.loc[1.0, "long_wait"] == 1.0 and by_score.loc[5.0, "long_wait"] == 0.0
    assert bool(by_score.loc[5.0, "converted_after"]) and not bool(
        by_score.loc[1.0, "converted_after"]
    )
    assert a.sentiment.tolist() == [0.5, 0.5]


def test_rescale_puts_surveys_on_one_scale() -> None:
    e, neg = rescale(
        pd.Series(["nps", "nps", "csat", "ces", "ces", "stars"]),
        pd.Series([0, 7, 3, 7, 3, 4], dtype=float),
    )
    assert e.round(3).tolist()[:5] == [-1.0, 0.4, 0.0, 1.0, -0.333]
    assert pd.isna(e.iloc[5])
    assert neg.tolist() == [True, False, False, False, True, False]


def test_keywords_find_what_is_special() -> None:
    assert keywords(["parcel late", "late parcel again"], ["lovely shoes", "great fit"]) == [
        "late",
        "parcel",
    ]


def test_a_touchpoint_far_below_its_stage_is_a_pain_point(
    journeys: Callable[..., Workspace], measured: Callable[[Workspace], Measures]
) -> None:
    people: dict[str, list[Any]] = {}
    for k in range(50):
        people[f"x{k}"] = ["X", order()]
    for k in range(10):
        people[f"xn{k}"] = ["X"]
    for k in range(40):
        people[f"y{k}"] = ["Y"]
    for k in range(10):
        people[f"yo{k}"] = ["Y", order()]
    ws = journeys(people)
    m = measured(ws)
    pains = detect_pains(m, survey_answers(ws, m))
    drop = [p for p in pains if p.kind == "drop_off"]
    assert [p.touchpoint for p in drop] == ["Y"]
    p = drop[0]
    assert p.id == "p1" and p.stage == "s2"
    assert p.rate == pytest.approx(40 / 50)
    assert p.baseline == pytest.approx(50 / 110)
    assert p.people_lost == pytest.approx(50 * (40 / 50 - 50 / 110))
    lo, hi = newcombe(40, 50, 50, 110)
    assert (p.people_lost_low, p.people_lost_high) == pytest.approx((50 * lo, 50 * hi))
    assert p.impact == pytest.approx(p.people_lost * 100.0)
    assert "80% of the 50 people" in p.evidence[0]
