"""End to end on the demo retailer: planted themes, their touchpoints and sentiment, and CSAT.

The demo's ground truth (ground_truth.json) says which comments carry which planted theme (a
regular expression per theme), at which touchpoints they were planted, and the CSAT measured
after chats. Everything here is recomputed through journeykit.voc on a loaded workspace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import journeykit
from journeykit.demo import generate
from journeykit.ingest import load
from journeykit.journey import demo_spec_path, set_spec
from journeykit.store import Workspace
from journeykit.voc.report import ThemeReport, build_theme_report, score_report
from journeykit.voc.responses import feedback
from journeykit.voc.themes import emerging_themes

pytestmark = pytest.mark.slow

PLANTED = ("payment", "wait_times", "delivery_delay")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("voc-demo")
    files = generate(folder / "data", people=10_000, seed=7)
    ws = journeykit.open(folder / "ws")
    for path in files.events:
        load(ws, str(path))
    set_spec(ws, demo_spec_path(), by="demo")
    truth = json.loads(Path(files.ground_truth).read_text(encoding="utf-8"))
    yield ws, truth
    ws.close()


@pytest.fixture(scope="module")
def comments(demo) -> pd.DataFrame:
    ws, truth = demo
    frame = feedback(ws)
    patterns = {t["theme"]: t["pattern"] for t in truth["themes"]["themes"]}
    lowered = frame["comment"].str.lower()
    frame["planted"] = None
    for theme in PLANTED:
        frame.loc[lowered.str.contains(patterns[theme], regex=True), "planted"] = theme
    return frame


@pytest.fixture(scope="module")
def complaints(comments) -> ThemeReport:
    return build_theme_report(comments, segment="negative", seed=0)


def test_every_comment_is_read_and_linked(demo, comments):
    _, truth = demo
    assert len(comments) == truth["themes"]["comments"]
    surveys = comments[comments["kind"] == "survey"]
    counts = surveys["touchpoint"].value_counts().to_dict()
    expected = {
        k: v for k, v in truth["themes"]["comments_by_touchpoint"].items() if k != "Review Posted"
    }
    assert counts == expected
    reviews = comments[comments["kind"] == "review"]
    assert len(reviews) == truth["themes"]["comments_by_touchpoint"]["Review Posted"]
    assert (reviews["link"] != "named").all()


def test_csat_after_chats_matches_the_ground_truth(demo):
    ws, truth = demo
    effect = next(e for e in truth["effects"] if e["name"] == "long_chat_waits")["measured"]
    long, short = effect["csat_long_wait"], effect["csat_short_wait"]
    n = long["answers"] + short["answers"]
    mean = (long["answers"] * long["mean_score"] + short["answers"] * short["mean_score"]) / n
    row = score_report(ws, "csat", by="touchpoint").set_index("touchpoint").loc["Chat Ended"]
    assert row["n"] == n
    assert row["mean_score"] == pytest.approx(mean, abs=1e-5)
    assert not row["low_sample"]


def test_planted_themes_are_recovered_distinct_and_at_the_right_touchpoints(demo, complaints):
    _, truth = demo
    where = {
        t["theme"]: {tp for tp, c in t["touchpoints"].items() if c["comments"] > 0}
        for t in truth["themes"]["themes"]
    }
    frame = complaints.comments[complaints.comments["theme"] >= 0]
    table = pd.crosstab(frame["theme_label"], frame["planted"].fillna("other"))
    majority = table.idxmax(axis=1)
    owners: dict[str, list[str]] = {}
    for theme in PLANTED:
        labels = list(majority[majority == theme].index)
        assert labels, f"no theme is mostly about {theme}"
        owners[theme] = labels
        hits = table.loc[labels, theme].sum()
        recall = hits / table[theme].sum()
        precision = hits / table.loc[labels].to_numpy().sum()
        assert recall >= 0.8, (theme, recall)
        assert precision >= 0.8, (theme, precision)
        # the themes' comments sit at the touchpoints the theme was planted at
        mine = frame[frame["theme_label"].isin(labels) & (frame["kind"] == "survey")]
        at_right_place = mine["touchpoint"].isin(where[theme]).mean()
        assert at_right_place >= 0.9, (theme, mine["touchpoint"].value_counts().to_dict())
        # and their keywords say what they are about
        words = " ".join(
            " ".join(k) for k in complaints.themes.set_index("label").loc[labels, "keywords"]
        )
        pattern = next(t["pattern"] for t in truth["themes"]["themes"] if t["theme"] == theme)
        assert re.search(pattern, words), (theme, words)
    every = [label for labels in owners.values() for label in labels]
    assert len(every) == len(set(every))  # distinct themes


def test_planted_themes_are_negative(comments):
    for theme in PLANTED:
        rows = comments[comments["planted"] == theme]
        assert len(rows) >= 30
        assert rows["sentiment"].mean() < -0.5, theme
        assert (rows["sentiment_label"] == "negative").mean() >= 0.8, theme


def test_delivery_complaints_emerge_in_the_carrier_weeks(demo, complaints):
    _, truth = demo
    effect = next(e for e in truth["effects"] if e["name"] == "delivery_delays")
    end = pd.Timestamp(effect["where"]["weeks"][-1]["end"]) + pd.Timedelta(days=1)
    out = emerging_themes(complaints.comments, recent="14D", end=end, min_n=5)
    frame = complaints.comments
    delivery = frame[frame["planted"] == "delivery_delay"]["theme_label"].value_counts().index[0]
    row = out.set_index("theme_label").loc[delivery]
    assert row["growth"] > 2.0
    assert row["emerging"]
