"""Survey answers and feedback text out of a workspace's events.

Survey answers and reviews are the events the workspace's journey spec names in ``surveys``
(:attr:`journeykit.journey.spec.JourneySpec.surveys`): each with its score field, its comment
field and its metric (``nps``, ``csat``, ``ces``, or ``review`` for a 1-5 rating), or the field
that names the metric of each answer. ``properties.question`` and ``properties.touchpoint`` (the
event name the answer is about) are read when present. Both are read with Ibis (JSON extraction of ``properties``, in
the engine), each is linked to its touchpoint (:mod:`journeykit.voc.linking`), and one pandas
frame comes back for the pure functions of :mod:`journeykit.voc.metrics`,
:mod:`journeykit.voc.sentiment` and :mod:`journeykit.voc.themes`.

The frame's columns: ``event_id``, ``person_id``, ``ts``, ``kind`` (``survey`` or ``review``),
``survey`` (``nps``, ``csat``, ``ces`` or ``review``), ``score``, ``comment``, ``question``,
``touchpoint`` (the linked touchpoint's event name), ``channel`` (the touchpoint's channel),
``link`` (how it was linked), ``nps_category`` (for NPS answers), ``stage`` (when a
touchpoint -> stage mapping is given) and one column per requested trait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from journeykit.errors import InputError
from journeykit.voc.linking import DEFAULT_WINDOW, link_feedback
from journeykit.voc.metrics import nps_category

if TYPE_CHECKING:
    import ibis

    from journeykit.journey.spec import Survey
    from journeykit.store import Workspace
    from journeykit.voc.sentiment import SentimentMethod

SURVEYS: tuple[str, ...] = ("nps", "csat", "ces")

RESPONSE_COLUMNS: tuple[str, ...] = (
    "event_id",
    "person_id",
    "ts",
    "kind",
    "survey",
    "score",
    "comment",
    "question",
    "touchpoint",
    "channel",
    "link",
    "nps_category",
)


def _number(value: ibis.Value) -> ibis.Value:
    """A field's value as a float, whether it was stored as a number or as numeric text."""
    return value.cast("string").strip().try_cast("float64")


def spec_surveys(ws: Workspace, surveys: Sequence[Survey] | None = None) -> tuple[Survey, ...]:
    """The survey events and their fields: ``surveys`` when given, else the workspace spec's.

    Raises:
        NoSpec: none given and the workspace has no spec.
    """
    if surveys is not None:
        return tuple(surveys)
    from journeykit.journey.workspace_spec import current_spec

    return current_spec(ws).surveys


def answers_table(
    ws: Workspace,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    reviews: bool = True,
    surveys: Sequence[Survey] | None = None,
) -> ibis.Table:
    """Survey answers (and reviews) with their fields pulled out, as an Ibis expression.

    Columns: ``event_id``, ``person_id``, ``ts``, ``kind``, ``survey``, ``score``, ``comment``,
    ``question``. A review (a survey whose metric is ``review``) has ``kind`` and ``survey``
    ``review``, its score the rating, its comment the text.

    Args:
        ws: the workspace.
        since, until: answers in ``[since, until)`` (UTC).
        reviews: include the reviews.
        surveys: the survey events and their fields (default: the workspace spec's).
    """
    import ibis

    from journeykit.journey.filtering import event_field

    events = ws.table("events")
    if since is not None:
        events = events.filter(events.ts >= since)
    if until is not None:
        events = events.filter(events.ts < until)
    chosen = [s for s in spec_surveys(ws, surveys) if reviews or s.metric != "review"]
    parts = []
    for survey in chosen:
        rows = events.filter(events.event == survey.event)
        if survey.metric is not None:
            metric: ibis.Value = ibis.literal(survey.metric, "string")
        elif survey.metric_field is not None:
            metric = event_field(rows, survey.metric_field).cast("string").strip().lower()
        else:
            metric = ibis.null("string")
        comment: ibis.Value = ibis.null("string")
        if survey.comment is not None:
            text = event_field(rows, survey.comment).cast("string").strip()
            comment = ibis.ifelse(text == "", ibis.null("string"), text)
        parts.append(
            rows.select(
                event_id=rows.event_id,
                person_id=rows.person_id,
                ts=rows.ts,
                kind=ibis.literal("review" if survey.metric == "review" else "survey", "string"),
                survey=metric,
                score=_number(event_field(rows, survey.score)),
                comment=comment,
                question=rows.properties.try_cast("json")["question"].str,
            )
        )
    if not parts:
        # no survey events: the same columns, no rows
        return events.filter(ibis.literal(False)).select(
            event_id=events.event_id,
            person_id=events.person_id,
            ts=events.ts,
            kind=ibis.null("string"),
            survey=ibis.null("string"),
            score=ibis.null("float64"),
            comment=ibis.null("string"),
            question=ibis.null("string"),
        )
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def survey_responses(
    ws: Workspace,
    *,
    surveys: Sequence[str] | None = SURVEYS,
    since: datetime | None = None,
    until: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    ignore: Sequence[str] | None = None,
    stages: Mapping[str, str] | None = None,
    traits: Sequence[str] = (),
    comments_only: bool = False,
) -> pd.DataFrame:
    """Survey answers and reviews, each linked to its touchpoint, as one pandas frame.

    Args:
        ws: the workspace.
        surveys: which surveys to keep (``nps``, ``csat``, ``ces``, ``review``); ``None``
            keeps all. Reviews are read only when ``review`` is asked for (or ``None``).
        since: answers at or after this time (UTC).
        until: answers before this time (UTC).
        window: how far before an answer its touchpoint may lie when it names none.
        ignore: event names that never count as a touchpoint (besides the feedback events;
            default: the spec's message events).
        stages: touchpoint event name -> journey stage; adds a ``stage`` column.
        traits: trait names to pull from the ``people`` table (e.g. ``persona``, ``segment``),
            one column each.
        comments_only: keep only answers with a comment.

    Returns:
        A frame with the columns named in the module docstring, ordered by ``ts`` and
        ``event_id``.

    Raises:
        InputError: an unknown survey name.
    """
    wanted = None if surveys is None else [s.lower() for s in surveys]
    if wanted is not None:
        unknown = sorted(set(wanted) - {*SURVEYS, "review"})
        if unknown:
            raise InputError(
                f"unknown survey {unknown[0]!r}; use nps, csat, ces or review", field="surveys"
            )
    survey_specs = spec_surveys(ws)
    if not survey_specs:
        # the spec names no survey events: no answers (the columns, no rows)
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in RESPONSE_COLUMNS})
        if stages is not None:
            empty["stage"] = pd.Series(dtype="string")
        for name in traits:
            empty[name] = pd.Series(dtype=object)
        return empty
    answers = answers_table(
        ws,
        since=since,
        until=until,
        reviews=wanted is None or "review" in wanted,
        surveys=survey_specs,
    )
    if wanted is not None:
        answers = answers.filter(answers.survey.isin(wanted))
    if comments_only:
        answers = answers.filter(answers.comment.notnull())
    links = link_feedback(
        ws,
        window=window,
        feedback_events=[s.event for s in survey_specs],
        ignore=ignore,
        since=since,
        until=until,
    )
    joined = answers.left_join(links, answers.event_id == links.feedback_id)
    expr = joined.select(
        answers.event_id,
        answers.person_id,
        answers.ts,
        answers.kind,
        answers.survey,
        answers.score,
        answers.comment,
        answers.question,
        touchpoint=links.touchpoint,
        channel=links.touchpoint_channel,
        link=links.link.fill_null("none"),
    )
    if traits:
        expr = _with_traits(ws, expr, traits)
    frame = expr.order_by(["ts", "event_id"]).to_pandas()
    frame["nps_category"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    is_nps = frame["survey"] == "nps"
    if bool(is_nps.any()):
        frame.loc[is_nps, "nps_category"] = nps_category(frame.loc[is_nps, "score"])
    if stages is not None:
        frame["stage"] = frame["touchpoint"].map(dict(stages)).astype("string")
    return frame.reset_index(drop=True)


def _with_traits(ws: Workspace, expr: ibis.Table, traits: Sequence[str]) -> ibis.Table:
    people = ws.table("people")
    values = people.traits.try_cast("json")
    picked = people.select(
        _tp_person=people.person_id, **{f"_trait_{name}": values[name].str for name in traits}
    )
    joined = expr.left_join(picked, expr.person_id == picked._tp_person)
    return joined.select(
        *[joined[c] for c in expr.columns],
        **{name: joined[f"_trait_{name}"] for name in traits},
    )


def feedback(
    ws: Workspace,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    reviews: bool = True,
    window: timedelta = DEFAULT_WINDOW,
    stages: Mapping[str, str] | None = None,
    traits: Sequence[str] = (),
    sentiment: SentimentMethod | None = "model",
) -> pd.DataFrame:
    """Every comment (survey comments, and review texts) with its touchpoint and sentiment.

    Args:
        ws: the workspace.
        since: comments at or after this time (UTC).
        until: comments before this time (UTC).
        reviews: include review texts.
        window: see :func:`survey_responses`.
        stages: touchpoint event name -> journey stage (adds ``stage``).
        traits: trait names to add as columns.
        sentiment: ``model`` (default), ``vader``, or ``None`` to skip sentiment.

    Returns:
        The columns of :func:`survey_responses` plus ``sentiment`` (-1..1) and ``sentiment_label``.
    """
    surveys = [*SURVEYS, "review"] if reviews else list(SURVEYS)
    frame = survey_responses(
        ws,
        surveys=surveys,
        since=since,
        until=until,
        window=window,
        stages=stages,
        traits=traits,
        comments_only=True,
    )
    if sentiment is not None:
        from journeykit.voc.sentiment import sentiment as score_texts

        scored = score_texts(frame["comment"], method=sentiment)
        frame["sentiment"] = scored["score"]
        frame["sentiment_label"] = scored["label"]
    return frame
