"""Emotion and effort at each touchpoint, from survey answers and their comments.

Survey answers are the spec's survey events (its ``surveys`` section: the score field, the
comment field, and the metric, or the field naming it: ``nps``, ``csat`` or ``ces``); the
property ``touchpoint`` names the event an answer is about, when known. An answer belongs to the first touchpoint that lists its
``touchpoint`` event, else to the touchpoint of the event right before it (``prev_event``).

Scores are put on one scale, -1 (worst) to +1 (best): NPS 0-10, CSAT 1-5, CES 1-7 (the
"it was easy" question, higher is better) and review ratings 1-5 are stretched linearly. An
answer is *negative* when it is an NPS detractor (0-6), a CSAT or a rating of 1-2, or a CES of
1-3. When a sentiment scorer is given
(the map passes :func:`journeykit.voc.sentiment.sentiment`), comments get a score in [-1, 1]
too, and a touchpoint's emotion is the mean of the two sources.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from journeykit.journey.touches import Plan

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.journey.measure import Measures
    from journeykit.store import Workspace

#: A comment scorer: texts in, one score in [-1, 1] per text out.
Scorer = Callable[[list[str]], Sequence[float]]

SCALES: dict[str, tuple[float, float, float]] = {
    # survey: (lowest, highest, highest negative answer)
    "nps": (0.0, 10.0, 6.0),
    "csat": (1.0, 5.0, 2.0),
    "ces": (1.0, 7.0, 3.0),
    # a review's 1-5 rating reads like a CSAT answer
    "review": (1.0, 5.0, 2.0),
}
_WORD = re.compile(r"[a-z][a-z']+")
STOPWORDS: frozenset[str] = frozenset(
    (
        "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
        "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "don't", "for",
        "from", "get", "got", "had", "has", "have", "he", "her", "here", "him", "his", "how",
        "i", "i'm", "if", "in", "into", "is", "it", "it's", "its", "just", "me", "more", "most",
        "my", "no", "not", "now", "of", "on", "once", "one", "only", "or", "our", "out", "over",
        "really", "so", "some", "still", "than", "that", "the", "their", "them", "then",
        "there", "they", "this", "to", "too", "up", "us", "very", "was", "we", "were", "what",
        "when", "which", "who", "will", "with", "would", "you", "your", "i've", "i'd", "i'll",
        "we're", "they're", "it'll",
    )
)  # fmt: skip


def rescale(survey: pd.Series, score: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Scores on the -1..+1 scale and the negative flag (NaN / False for unknown surveys).

    >>> import pandas as pd
    >>> e, neg = rescale(pd.Series(["nps", "csat", "ces"]), pd.Series([10.0, 2.0, 4.0]))
    >>> e.round(2).tolist(), neg.tolist()
    ([1.0, -0.5, 0.0], [False, True, False])
    """
    import pandas as pd

    low = survey.map(lambda s: SCALES.get(str(s).lower(), (np.nan,) * 3)[0])
    high = survey.map(lambda s: SCALES.get(str(s).lower(), (np.nan,) * 3)[1])
    worst = survey.map(lambda s: SCALES.get(str(s).lower(), (np.nan,) * 3)[2])
    score = pd.to_numeric(score, errors="coerce")
    inside = (score >= low) & (score <= high)
    emotion = (2 * (score - low) / (high - low) - 1).where(inside)
    negative = (score <= worst) & inside
    return emotion.astype(float), negative.astype(bool)


def survey_answers(
    ws: Workspace,
    m: Measures,
    *,
    sentiment: Scorer | None = None,
    max_comments: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every survey answer with its touchpoint, emotion and what the person did next.

    Columns: ``person_id``, ``ts``, ``week`` (Monday), ``period``, ``tp`` (touchpoint index,
    -1 if none), ``survey``, ``score``, ``emotion`` (-1..1), ``negative``, ``comment``,
    ``sentiment`` (-1..1; NaN when not scored), ``converted_after`` (a goal event comes
    later), ``mature`` (old enough to judge that by; see ``horizon_days``), ``long_wait`` (the person waited long at this touchpoint; NaN if no wait known),
    ``platform`` and the other breakdown properties of the answer.

    Comments are scored when ``sentiment`` is given: all of them, or a random sample of
    ``max_comments`` (seeded) when there are more.
    """
    import ibis
    import pandas as pd

    from journeykit.journey.filtering import event_field, property_text

    plan = m.plan
    settings = plan.spec.settings
    ev = ws.table("events")
    parts = []
    for survey in plan.spec.surveys:
        rows = ev.filter(ev.event == survey.event)
        metric = (
            ibis.literal(survey.metric, "string")
            if survey.metric is not None
            else event_field(rows, survey.metric_field or "").cast("string").lower()
        )
        comment = (
            event_field(rows, survey.comment).cast("string")
            if survey.comment is not None
            else ibis.null("string")
        )
        parts.append(
            rows.select(
                "person_id",
                "ts",
                "seq",
                "prev_event",
                survey=metric,
                score=event_field(rows, survey.score).cast("string").try_cast("float64"),
                about=property_text(rows, "touchpoint"),
                comment=comment,
                **{f"b_{k}": property_text(rows, k) for k in settings.breakdowns},
            )
        )
    if not parts:
        return _empty_answers(settings.breakdowns)
    s = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    s = s.join(m.person.select("person_id", "last_goal_seq"), "person_id", how="left")
    s = s.mutate(converted_after=(s.last_goal_seq > s.seq).fill_null(False)).drop("last_goal_seq")
    frame = s.to_pandas()
    if frame.empty:
        return _empty_answers(settings.breakdowns)
    by_name = plan.name_tp
    tp = frame["about"].map(by_name)
    tp = tp.fillna(frame["prev_event"].map(by_name)).fillna(-1).astype("int64")
    frame["tp"] = tp
    frame["emotion"], frame["negative"] = rescale(frame["survey"], frame["score"])
    ts = pd.to_datetime(frame["ts"])
    frame["week"] = (ts - pd.to_timedelta(ts.dt.day_of_week, unit="D")).dt.normalize().dt.date
    grain = "W" if settings.period == "week" else "M"
    frame["period"] = _period_label(ts, grain)
    if m.last_event is not None:
        horizon = pd.Timedelta(days=settings.horizon_days)
        frame["mature"] = ts <= pd.Timestamp(m.last_event) - horizon
    else:
        frame["mature"] = False
    frame["sentiment"] = np.nan
    if sentiment is not None:
        has = frame.index[frame["comment"].fillna("").str.strip() != ""]
        if len(has) > max_comments:
            has = pd.Index(np.random.default_rng(seed).choice(has, max_comments, replace=False))
        if len(has):
            scores = sentiment(frame.loc[has, "comment"].astype(str).tolist())
            frame.loc[has, "sentiment"] = np.asarray(scores, dtype=float)
    waits = _long_waits(m.person_tp, plan)
    frame = frame.merge(waits, on=["person_id", "tp"], how="left")
    return frame.drop(columns=["about"])


def _period_label(ts: pd.Series, grain: str) -> pd.Series:
    import pandas as pd

    if grain == "W":
        monday = (ts - pd.to_timedelta(ts.dt.day_of_week, unit="D")).dt.normalize()
        return monday.dt.strftime("%Y-%m-%d")
    return ts.dt.strftime("%Y-%m-01")


def _long_waits(pt: ibis.Table, plan: Plan) -> pd.DataFrame:
    contact = [i for i, tp in enumerate(plan.touchpoints) if tp.kind == "contact"]
    import pandas as pd

    if not contact:
        return pd.DataFrame({"person_id": [], "tp": [], "long_wait": []})
    t = pt.filter(pt.tp.isin(contact) & pt.max_wait.notnull())
    out = t.select("person_id", "tp", "long_wait").to_pandas()
    out["tp"] = out["tp"].astype("int64")
    out["long_wait"] = out["long_wait"].astype(float)
    return out


def _empty_answers(keys: Iterable[str]) -> pd.DataFrame:
    import pandas as pd

    cols = [
        "person_id", "ts", "seq", "prev_event", "survey", "score", "comment", "converted_after",
        "tp", "emotion", "negative", "week", "period", "mature", "sentiment", "long_wait",
        *[f"b_{k}" for k in keys],
    ]  # fmt: skip
    return pd.DataFrame({c: [] for c in cols})


def emotion_table(answers: pd.DataFrame, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """Emotion per persona, period and touchpoint.

    Columns: ``persona``, ``period``, ``tp``, ``answers``, ``score_emotion`` (mean),
    ``score_se``, ``negative`` (share), ``comments`` (scored), ``comment_emotion`` (mean
    sentiment), ``emotion`` (the mean of the two available sources), ``ces`` (mean CES score,
    1-7), ``ces_answers``.

    ``members`` (``person_id``, ``persona``) adds persona rows beside "All people".
    """
    import pandas as pd

    from journeykit.journey.measure import ALL, ALL_PERIODS

    base = answers[answers["tp"] >= 0].copy()
    base["persona"] = ALL
    frames = [base]
    if members is not None and len(members):
        joined = base.drop(columns="persona").merge(members, on="person_id")
        frames.append(joined)
    both = pd.concat(frames, ignore_index=True)
    both_all = both.assign(period=ALL_PERIODS)
    rows = pd.concat([both_all, both], ignore_index=True)
    rows["is_ces"] = rows["survey"] == "ces"
    rows["ces_score"] = rows["score"].where(rows["is_ces"])
    g = rows.groupby(["persona", "period", "tp"])
    out = g.agg(
        answers=("emotion", "count"),
        score_emotion=("emotion", "mean"),
        score_sd=("emotion", "std"),
        negative=("negative", "mean"),
        comments=("sentiment", "count"),
        comment_emotion=("sentiment", "mean"),
        ces=("ces_score", "mean"),
        ces_answers=("ces_score", "count"),
    ).reset_index()
    out["score_se"] = out["score_sd"] / np.sqrt(out["answers"].clip(lower=1))
    out["emotion"] = out[["score_emotion", "comment_emotion"]].mean(axis=1, skipna=True)
    return out.drop(columns=["score_sd"])


def words_of(text: object) -> set[str]:
    """The lower-cased words of a text (a set).

    >>> sorted(words_of("Late again! The parcel's late."))
    ['again', 'late', "parcel's", 'the']
    """
    return set(_WORD.findall(str(text).lower()))


def keywords(texts: Iterable[str], against: Iterable[str], top: int = 5) -> list[str]:
    """Words much more frequent in ``texts`` than in ``against`` (smoothed ratio of shares).

    >>> keywords(["parcel late", "late again, parcel lost"], ["great shoes", "comfy shoes"])
    ['late', 'parcel']
    """
    return keywords_in([words_of(t) for t in texts], [words_of(t) for t in against], top)


def keywords_in(
    bags: Iterable[frozenset[str] | set[str]],
    against: Iterable[frozenset[str] | set[str]],
    top: int = 5,
) -> list[str]:
    """:func:`keywords` over texts already split into sets of words."""
    a = Counter(w for bag in bags for w in bag if w not in STOPWORDS)
    b = Counter(w for bag in against for w in bag if w not in STOPWORDS)
    na, nb = max(sum(a.values()), 1), max(sum(b.values()), 1)
    scored = [(((a[w] + 0.5) / na) / ((b[w] + 0.5) / nb), a[w], w) for w in a if a[w] >= 2]
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    return [w for ratio, _, w in scored if ratio > 1.5][:top]
