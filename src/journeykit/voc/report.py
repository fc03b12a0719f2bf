"""Voice-of-the-customer reports over a workspace: plain functions for the CLI and the server.

``journeykit voc nps --by stage`` is :func:`score_report` (``survey="nps"``, ``by="stage"``);
``journeykit voc themes --segment detractors`` is :func:`theme_report` with
``segment="detractors"``. Each returns DataFrames (or a frozen dataclass of them) and prints
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import pandas as pd

from journeykit.errors import InputError
from journeykit.voc.linking import DEFAULT_WINDOW
from journeykit.voc.metrics import MIN_SAMPLE, ces, csat, nps
from journeykit.voc.responses import feedback, survey_responses

if TYPE_CHECKING:
    from journeykit.store import Workspace
    from journeykit.voc.sentiment import SentimentMethod
    from journeykit.voc.themes import ThemeMethod

Survey = Literal["nps", "csat", "ces"]
#: Segments ``theme_report`` understands: NPS categories and sentiment labels.
SEGMENTS: dict[str, tuple[str, str]] = {
    "promoters": ("nps_category", "promoter"),
    "passives": ("nps_category", "passive"),
    "detractors": ("nps_category", "detractor"),
    "positive": ("sentiment_label", "positive"),
    "neutral": ("sentiment_label", "neutral"),
    "negative": ("sentiment_label", "negative"),
}


def score_report(
    ws: Workspace,
    survey: Survey = "nps",
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    stages: Mapping[str, str] | None = None,
    traits: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    min_n: int = MIN_SAMPLE,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS, CSAT or CES of a workspace, overall or by group and period.

    Args:
        ws: the workspace.
        survey: ``nps``, ``csat`` or ``ces``.
        by: group column(s): ``touchpoint``, ``channel``, ``stage``, a trait named in
            ``traits`` (``persona``, ``segment``, ...).
        freq: a period (``D``, ``W``, ``M``, ``Q``) for a trend.
        stages: touchpoint event name -> stage (default: the workspace spec's stages).
        traits: traits to read from people so they can be grouped by.
        since: answers at or after this time.
        until: answers before this time.
        window: how far back an answer's touchpoint may lie.
        min_n: the smallest sample that is not flagged ``low_sample``.
        confidence: the intervals' coverage.

    Returns:
        The frame of :func:`journeykit.voc.metrics.nps` (or ``csat``/``ces``).

    Raises:
        InputError: an unknown survey or group column.
        NoSpec: ``by="stage"`` without ``stages`` and the workspace has no spec.
    """
    keys = [by] if isinstance(by, str) else list(by or ())
    if "stage" in keys:
        stages = stages_of(ws, stages)
    traits = [*traits, *[k for k in keys if k not in _KNOWN_COLUMNS and k not in traits]]
    frame = survey_responses(
        ws, surveys=[survey], since=since, until=until, window=window, stages=stages, traits=traits
    )
    if survey == "nps":
        return nps(frame, by=by, freq=freq, min_n=min_n, confidence=confidence)
    if survey == "csat":
        return csat(frame, by=by, freq=freq, min_n=min_n, confidence=confidence)
    if survey == "ces":
        return ces(frame, by=by, freq=freq, min_n=min_n, confidence=confidence)
    raise InputError(f"survey must be nps, csat or ces, not {survey!r}", field="survey")


def stages_of(ws: Workspace, stages: Mapping[str, str] | None) -> Mapping[str, str]:
    """Event name -> stage: ``stages`` when given, else the workspace spec's."""
    if stages is not None:
        return stages
    from journeykit.journey.workspace_spec import current_spec

    return current_spec(ws).stage_of_event


_KNOWN_COLUMNS = frozenset(
    {"touchpoint", "channel", "stage", "link", "kind", "survey", "question", "nps_category"}
)


def nps_report(ws: Workspace, **options: object) -> pd.DataFrame:
    """:func:`score_report` for NPS (same options)."""
    return score_report(ws, "nps", **options)  # type: ignore[arg-type]


def csat_report(ws: Workspace, **options: object) -> pd.DataFrame:
    """:func:`score_report` for CSAT (same options)."""
    return score_report(ws, "csat", **options)  # type: ignore[arg-type]


def ces_report(ws: Workspace, **options: object) -> pd.DataFrame:
    """:func:`score_report` for CES (same options)."""
    return score_report(ws, "ces", **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ThemeReport:
    """Themes of a set of comments and the tables around them.

    Attributes:
        themes: one row per theme: ``theme``, ``label``, ``keywords``, ``n``, ``share``,
            ``quotes``, ``mean_sentiment``, ``pct_negative``, ``top_touchpoint`` and
            ``top_touchpoint_share`` (of the theme's comments).
        comments: the comments with ``theme``, ``theme_label`` and ``theme_weight`` added.
        by_touchpoint: theme x touchpoint comment counts.
        scores: theme x score (NPS answers): mean score, % detractors, NPS.
        detractors: what detractors talk about against everyone else.
        emerging: themes growing in the latest period.
        segment: the segment the comments were limited to, if any.
    """

    themes: pd.DataFrame
    comments: pd.DataFrame
    by_touchpoint: pd.DataFrame
    scores: pd.DataFrame
    detractors: pd.DataFrame
    emerging: pd.DataFrame
    segment: str | None = None


def build_theme_report(
    comments: pd.DataFrame,
    *,
    segment: str | None = None,
    n_themes: int | Literal["auto"] = "auto",
    method: ThemeMethod = "nmf",
    seed: int = 0,
    recent: str = "28D",
    min_n: int = MIN_SAMPLE,
) -> ThemeReport:
    """Themes and their tables over a frame of comments (the pure half of :func:`theme_report`).

    Args:
        comments: one row per comment with ``comment`` and, for the tables, ``touchpoint``,
            ``survey``, ``score``, ``ts``, ``nps_category``, ``sentiment``, ``sentiment_label``
            (as :func:`journeykit.voc.responses.feedback` returns).
        segment: limit to ``promoters``, ``passives``, ``detractors`` (NPS answers) or
            ``positive``, ``neutral``, ``negative`` (sentiment).
        n_themes: the number of themes or ``auto``.
        method: ``nmf``, ``kmeans`` or ``embeddings``.
        seed: the random seed.
        recent: the latest period for emerging themes.
        min_n: the smallest sample not flagged ``low_sample``.

    Returns:
        A :class:`ThemeReport`.

    Raises:
        InputError: an unknown segment, or no comments to find themes in.
    """
    from journeykit.voc.themes import (
        detractor_themes,
        emerging_themes,
        find_themes,
        theme_scores,
        theme_table,
    )

    frame = comments
    if segment is not None:
        if segment not in SEGMENTS:
            raise InputError(
                f"unknown segment {segment!r}; use {', '.join(SEGMENTS)}", field="segment"
            )
        column, value = SEGMENTS[segment]
        if column not in frame.columns:
            raise InputError(f"segment {segment!r} needs a {column!r} column", field="segment")
        frame = frame[frame[column] == value]
    frame = frame[frame["comment"].notna()].reset_index(drop=True)
    if frame.empty:
        raise InputError(
            "no comments to find themes in" + (f" for {segment}" if segment else ""),
            field="segment" if segment else "comments",
        )
    found = find_themes(frame["comment"], n_themes=n_themes, method=method, seed=seed)
    frame = frame.assign(
        theme=found.assignments["theme"],
        theme_label=found.assignments["theme_label"],
        theme_weight=found.assignments["weight"],
    )
    themes = found.themes.copy()
    if "sentiment" in frame.columns:
        stats = frame.groupby("theme")["sentiment"].mean()
        themes["mean_sentiment"] = themes["theme"].map(stats).astype(float)
    if "sentiment_label" in frame.columns:
        negative = (frame["sentiment_label"] == "negative").groupby(frame["theme"]).mean()
        themes["pct_negative"] = 100.0 * themes["theme"].map(negative).astype(float)
    has_touchpoint = "touchpoint" in frame.columns
    if has_touchpoint:
        top = frame.assign(touchpoint=frame["touchpoint"].fillna("(none)"))
        counts = top.groupby(["theme", "touchpoint"]).size().rename("k").reset_index()
        counts = counts.sort_values(["theme", "k", "touchpoint"], ascending=[True, False, True])
        first = counts.drop_duplicates("theme").set_index("theme")
        themes["top_touchpoint"] = themes["theme"].map(first["touchpoint"])
        themes["top_touchpoint_share"] = themes["theme"].map(first["k"]) / themes["n"]
    empty = pd.DataFrame()
    by_touchpoint = theme_table(frame, "touchpoint") if has_touchpoint else empty
    scored = "score" in frame.columns and "survey" in frame.columns
    scores = theme_scores(frame, min_n=min_n) if scored else empty
    detractors = detractor_themes(frame, min_n=min_n) if scored else empty
    emerging = emerging_themes(frame, recent=recent) if "ts" in frame.columns else empty
    return ThemeReport(
        themes=themes,
        comments=frame,
        by_touchpoint=by_touchpoint,
        scores=scores,
        detractors=detractors,
        emerging=emerging,
        segment=segment,
    )


def theme_report(
    ws: Workspace,
    *,
    segment: str | None = None,
    n_themes: int | Literal["auto"] = "auto",
    method: ThemeMethod = "nmf",
    since: datetime | None = None,
    until: datetime | None = None,
    reviews: bool = True,
    window: timedelta = DEFAULT_WINDOW,
    stages: Mapping[str, str] | None = None,
    sentiment: SentimentMethod = "model",
    seed: int = 0,
    recent: str = "28D",
) -> ThemeReport:
    """Themes of a workspace's feedback, with their touchpoints, scores and trends.

    Args:
        ws: the workspace.
        segment: see :func:`build_theme_report` (``detractors`` for "what detractors say").
        n_themes: the number of themes or ``auto``.
        method: ``nmf``, ``kmeans`` or ``embeddings``.
        since: comments at or after this time.
        until: comments before this time.
        reviews: include review texts.
        window: how far back a comment's touchpoint may lie.
        stages: touchpoint event name -> stage.
        sentiment: ``model`` or ``vader``.
        seed: the random seed.
        recent: the latest period for emerging themes.

    Returns:
        A :class:`ThemeReport`.
    """
    comments = feedback(
        ws,
        since=since,
        until=until,
        reviews=reviews,
        window=window,
        stages=stages,
        sentiment=sentiment,
    )
    return build_theme_report(
        comments, segment=segment, n_themes=n_themes, method=method, seed=seed, recent=recent
    )


def emotion_report(
    ws: Workspace,
    *,
    by: str = "stage",
    stages: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    sentiment: SentimentMethod = "model",
    min_n: int = MIN_SAMPLE,
) -> pd.DataFrame:
    """Mean comment sentiment per stage (or touchpoint): the data of the emotion curve.

    Args:
        ws: the workspace.
        by: ``stage`` or ``touchpoint`` (or any feedback column).
        stages: touchpoint event name -> stage (default: the workspace spec's stages).
        order: the order of the groups along the journey (stage order by default: the order
            in which ``stages`` first names each stage).
        since: comments at or after this time.
        until: comments before this time.
        window: how far back a comment's touchpoint may lie.
        sentiment: ``model`` or ``vader``.
        min_n: the smallest sample not flagged ``low_sample``.

    Returns:
        The frame of :func:`journeykit.voc.sentiment.sentiment_by`.
    """
    from journeykit.voc.sentiment import sentiment_by

    if by == "stage":
        stages = stages_of(ws, stages)
    comments = feedback(
        ws, since=since, until=until, window=window, stages=stages, sentiment=sentiment
    )
    if order is None and by == "stage" and stages is not None:
        order = list(dict.fromkeys(stages.values()))
    return sentiment_by(comments, by, min_n=min_n, order=order)
