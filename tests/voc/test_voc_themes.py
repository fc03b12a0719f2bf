"""Themes: recovery of planted topics, keywords and quotes, and the tables around themes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeykit.errors import InputError
from journeykit.voc.themes import (
    detractor_themes,
    emerging_themes,
    find_themes,
    opinion_words,
    theme_scores,
    theme_table,
)

# five planted topics: each comment draws its words from one topic plus neutral filler
TOPICS = {
    "payment": (["payment", "card", "declined", "charged", "checkout", "pay"],
                ["failed", "rejected", "error", "twice"]),
    "chat": (["chat", "agent", "queue", "waiting", "wait"], ["minutes", "forever", "ages", "hour"]),
    "delivery": (["delivery", "parcel", "courier", "arrived", "tracking"],
                 ["late", "delayed", "days", "missing"]),
    "staff": (["staff", "store", "assistant", "cashier"], ["rude", "ignored", "till", "shop"]),
    "price": (["price", "expensive", "cost", "fees"], ["increase", "went", "bill", "month"]),
}  # fmt: skip
FILLER = ["the", "my", "was", "and", "it", "I", "to", "again", "so", "very", "this", "that",
          "with", "for", "of", "on"]  # fmt: skip


def planted_comments(per_topic: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for topic, (nouns, others) in TOPICS.items():
        for _ in range(per_topic):
            words = [*rng.choice(nouns, 3), *rng.choice(others, 1), *rng.choice(FILLER, 4)]
            rng.shuffle(words)
            rows.append((" ".join(words), topic))
    order = rng.permutation(len(rows))
    return pd.DataFrame([rows[i] for i in order], columns=["text", "topic"])


def purity_and_mapping(truth: pd.Series, themes: pd.Series) -> tuple[float, dict[str, str]]:
    table = pd.crosstab(themes, truth)
    purity = table.max(axis=1).sum() / table.to_numpy().sum()
    return purity, {topic: table[topic].idxmax() for topic in table.columns}


@pytest.mark.parametrize("method", ["nmf", "kmeans"])
def test_planted_topics_are_recovered(method):
    data = planted_comments()
    found = find_themes(data["text"], n_themes=5, method=method, seed=0)
    purity, mapping = purity_and_mapping(data["topic"], found.assignments["theme_label"])
    assert purity > 0.95
    assert len(set(mapping.values())) == 5  # five distinct themes
    themes = found.themes.set_index("label")
    for topic, label in mapping.items():
        keywords = set(themes.loc[label, "keywords"])
        assert keywords & set(TOPICS[topic][0]), (topic, keywords)
        for quote in themes.loc[label, "quotes"]:
            assert set(quote.split()) & set(TOPICS[topic][0])
    assert found.themes["n"].sum() == len(data)
    assert found.themes["share"].sum() == pytest.approx(1.0)


def test_auto_finds_the_planted_number_of_themes():
    data = planted_comments(per_topic=100, seed=2)
    found = find_themes(data["text"], seed=0)
    assert len(found.themes) == 5
    purity, mapping = purity_and_mapping(data["topic"], found.assignments["theme_label"])
    assert purity > 0.95 and len(set(mapping.values())) == 5


def test_themes_are_seeded():
    data = planted_comments(per_topic=40)
    one = find_themes(data["text"], n_themes=4, seed=5)
    two = find_themes(data["text"], n_themes=4, seed=5)
    pd.testing.assert_frame_equal(one.assignments, two.assignments)


def test_opinion_words_are_left_out_of_themes():
    texts = [f"{o} {w} experience" for w in ("delivery", "payment") for o in ("awful", "terrible")]
    texts = texts * 10
    found = find_themes(texts, n_themes=2, min_df=1)
    words = {w for k in found.themes["keywords"] for w in k}
    assert "terrible" not in words and "awful" not in words
    assert {"delivery", "payment"} <= words
    assert "terrible" in opinion_words()
    kept = find_themes(texts, n_themes=2, min_df=1, keep_opinion_words=True)
    assert {"terrible", "awful"} <= {w for k in kept.themes["keywords"] for w in k}


def test_missing_and_wordless_comments_get_no_theme():
    texts = pd.Series(
        [
            "payment failed",
            None,
            "delivery late",
            "",
            "!!!",
            "payment declined",
            "delivery delayed",
        ],
        index=list("abcdefg"),
    )
    found = find_themes(texts, n_themes=2, min_df=1)
    assert list(found.assignments.index) == list("abcdefg")
    assert found.assignments.loc[["b", "d", "e"], "theme"].tolist() == [-1, -1, -1]
    assert found.assignments.loc[["b", "d", "e"], "theme_label"].isna().all()
    assert found.assignments.loc["a", "theme"] == found.assignments.loc["f", "theme"]


def test_bad_input():
    with pytest.raises(InputError):
        find_themes(["", None])
    with pytest.raises(InputError):
        find_themes(["a b c", "d e f"], n_themes=0)
    with pytest.raises(InputError):
        find_themes(["a b c"], method="lda")  # type: ignore[arg-type]


def themed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "theme_label": ["pay", "pay", "pay", "late", "late", "staff", "staff", None],
            "touchpoint": [
                "Checkout Started",
                "Checkout Started",
                "Order Completed",
                "Order Completed",
                "Order Completed",
                "Store Visited",
                None,
                "Chat Ended",
            ],
            "survey": ["nps"] * 7 + ["csat"],
            "score": [0, 3, 6, 5, 9, 10, 10, 2],
            "sentiment": [-0.9, -0.8, -0.4, -0.6, 0.1, 0.9, 0.8, -0.5],
        }
    )


def test_theme_table_by_touchpoint():
    table = theme_table(themed())
    assert table.loc["pay", "Checkout Started"] == 2
    assert table.loc["pay", "Order Completed"] == 1
    assert table.loc["staff", "(none)"] == 1
    shares = theme_table(themed(), normalize="theme")
    assert shares.sum(axis=1).to_numpy() == pytest.approx(np.ones(3))


def test_theme_scores_hand_computed():
    out = theme_scores(themed(), min_n=2).set_index("theme_label")
    assert list(out.index) == ["pay", "late", "staff"]  # lowest mean score first
    assert out.loc["pay", "mean_score"] == pytest.approx(3.0)
    assert out.loc["pay", "pct_detractors"] == pytest.approx(100.0)
    assert out.loc["pay", "nps"] == pytest.approx(-100.0)
    assert out.loc["late", "nps"] == pytest.approx(0.0)
    assert out.loc["staff", "mean_sentiment"] == pytest.approx(0.85)
    assert not out["low_sample"].any()


def test_what_detractors_talk_about():
    out = detractor_themes(themed(), min_n=1).set_index("theme_label")
    # detractors: pay x3, late x1 -> shares 0.75, 0.25; others: late x1, staff x2
    assert out.loc["pay", "detractors"] == 3
    assert out.loc["pay", "share_detractors"] == pytest.approx(0.75)
    assert out.loc["pay", "lift"] == np.inf
    assert out.loc["late", "lift"] == pytest.approx(0.25 / (1 / 3))
    assert out.loc["staff", "detractors"] == 0
    assert out.index[0] == "pay"


def test_emerging_themes():
    end = pd.Timestamp("2026-06-30")
    rows = []
    # trailing 12 weeks: 10% about delivery; last 4 weeks: 50% about delivery
    for i in range(300):
        rows.append(
            (end - pd.Timedelta(days=29 + (i % 80)), "delivery" if i % 10 == 0 else "staff")
        )
    for i in range(100):
        rows.append((end - pd.Timedelta(days=i % 27), "delivery" if i % 2 == 0 else "staff"))
    df = pd.DataFrame(rows, columns=["ts", "theme_label"])
    out = emerging_themes(df, recent="28D").set_index("theme_label")
    assert out.loc["delivery", "recent_n"] == 50
    assert out.loc["delivery", "recent_share"] == pytest.approx(0.5)
    assert out.loc["delivery", "trailing_share"] == pytest.approx(30 / 300)
    assert out.loc["delivery", "growth"] == pytest.approx(5.0)
    assert out.loc["delivery", "emerging"]
    assert not out.loc["staff", "emerging"]
    assert out.index[0] == "delivery"
    assert emerging_themes(df.iloc[:0]).empty
