"""Survey tool exports -> survey answer events in the loader's raw input layout.

Survey tools export one row per response: a score column, often a comment column, a date and
who answered. :func:`export_to_events` turns such a table into events that
:func:`journeykit.ingest.load` takes as they are (the columns of
``journeykit.schema.events.INPUT_COLUMNS``)::

    response row                                   event
    ───────────────────────────────────────────    ─────────────────────────────────────────
    Response ID   R_1                         ->   event_id    survey-export:R_1:nps
    Submitted At  2026-05-01 10:02            ->   ts
    Email         ann@example.com             ->   email (user_id, phone, crm_id, ... alike)
    Score         9                           ->   properties.score     (+ properties.survey)
    Comment       Quick delivery              ->   properties.comment
    Touchpoint    checkout (optional)         ->   properties.touchpoint
    Question      How likely ... (optional)   ->   properties.question
                                                   event (``event=``, default "survey_answer"),
                                                   channel = "survey", type = "track", source

The properties are those a spec's survey reads by default (``properties.score``,
``properties.comment``, the metric in ``properties.survey``): list the event in the spec's
``surveys`` (or give it a feedback touchpoint) and every survey report reads it.

Columns are found by name (case, spaces and punctuation ignored) from the candidates in
:data:`CANDIDATES` -- ``score``, ``rating``, ``nps``, ``likelihood to recommend``, ...;
``comment``, ``feedback``, ``verbatim``, ``reason``, ...; ``submitted at``, ``created at``,
``date``, ``recorded date``, ... -- and ``columns`` names any the guess misses. A "wide"
export with one score column per survey (an NPS and a CSAT question in the same form) is
read with ``scores={"nps": "Q1", "csat": "Q2"}`` (and ``comments={"nps": "Q1 why"}``):
each answered score becomes its own event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pandas as pd

from journeykit.errors import InputError

#: The event name answers get unless ``event=`` names the one the spec's ``surveys`` use.
EVENT = "survey_answer"
#: Each survey's scale (lowest, highest answer).
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
#: Identifier columns an export may carry, as the events table names them.
IDENTIFIERS: tuple[str, ...] = ("user_id", "email", "phone", "crm_id", "anonymous_id", "device_id")

#: Field -> column names recognised for it (compared after lower-casing and replacing every
#: run of non-alphanumeric characters by ``_``).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "score": (
        "score", "rating", "nps", "nps_score", "csat", "csat_score", "ces", "ces_score",
        "likelihood_to_recommend", "how_likely_are_you_to_recommend_us", "answer", "value",
    ),
    "comment": (
        "comment", "comments", "feedback", "verbatim", "reason", "text", "open_text",
        "open_ended", "why", "response_text", "free_text",
    ),
    "ts": (
        "submitted_at", "submitted", "submit_date", "created_at", "created", "date",
        "timestamp", "ts", "response_date", "recorded_date", "end_date", "completed_at", "time",
    ),
    "response_id": ("response_id", "responseid", "respondent_id", "submission_id", "id"),
    "survey": ("survey", "survey_type", "metric", "question_type"),
    "touchpoint": ("touchpoint", "interaction", "journey_step", "about", "event"),
    "question": ("question", "question_text"),
    "user_id": ("user_id", "userid", "customer_id", "customer_number", "member_id"),
    "email": ("email", "email_address", "e_mail", "respondent_email"),
    "phone": ("phone", "phone_number", "mobile"),
    "crm_id": ("crm_id", "account_id", "contact_id"),
    "anonymous_id": ("anonymous_id",),
    "device_id": ("device_id",),
}  # fmt: skip


def _norm(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def _find(frame: pd.DataFrame, field: str, explicit: Mapping[str, str]) -> str | None:
    if field in explicit:
        column = explicit[field]
        if column not in frame.columns:
            raise InputError(f"the export has no column {column!r} for {field}", field=field)
        return column
    by_norm = {_norm(c): c for c in frame.columns}
    for candidate in CANDIDATES.get(field, ()):
        if candidate in by_norm:
            return str(by_norm[candidate])
    return None


def export_to_events(
    frame: pd.DataFrame,
    *,
    survey: str | None = None,
    columns: Mapping[str, str] | None = None,
    scores: Mapping[str, str] | None = None,
    comments: Mapping[str, str] | None = None,
    touchpoint: str | None = None,
    source: str = "survey-export",
    event: str = EVENT,
) -> pd.DataFrame:
    """Turn a survey export (one row per response) into survey answer events.

    Args:
        frame: the export.
        survey: the survey every row answers (``nps``, ``csat`` or ``ces``); without it the
            ``survey`` column is read, and failing that the score column's name (``NPS``,
            ``CSAT``, ``CES``) decides.
        columns: field -> export column for what the name guess misses (fields: ``score``,
            ``comment``, ``ts``, ``response_id``, ``survey``, ``touchpoint``, ``question``,
            and the identifiers ``user_id``, ``email``, ``phone``, ``crm_id``,
            ``anonymous_id``, ``device_id``).
        scores: a wide export's survey -> score column (replaces ``score``).
        comments: a wide export's survey -> comment column.
        touchpoint: the touchpoint every answer is about (an event name), when the export
            has no such column (a post-chat survey: ``"chat_ended"``).
        source: recorded as each event's ``source`` and used in ``event_id``.
        event: the event name of the answers (the survey event of the workspace's spec).

    Returns:
        A frame in the raw input layout: ``event_id`` (from the response id when there is
        one, else empty so the loader derives it), ``ts``, ``type``, ``event``, ``channel``,
        the identifier columns found, ``properties`` (JSON text) and ``source``. Rows without
        a score are left out.

    Raises:
        InputError: no score, time or identifier column; an unknown survey; a score that is
            not a number on the survey's scale (names the row).

    >>> export = pd.DataFrame({"Response ID": ["R1"], "Submitted At": ["2026-05-01 10:02"],
    ...                        "Email": ["ann@example.com"], "NPS": [9], "Why?": ["Quick"]})
    >>> events = export_to_events(export, columns={"comment": "Why?"})
    >>> events.loc[0, "event_id"], events.loc[0, "properties"]
    ('survey-export:R1:nps', '{"survey": "nps", "score": 9, "comment": "Quick"}')
    """
    explicit = dict(columns or {})
    ts_col = _find(frame, "ts", explicit)
    if ts_col is None:
        raise InputError("the export needs a time column (columns={'ts': ...})", field="ts")
    ids = {k: c for k in IDENTIFIERS if (c := _find(frame, k, explicit)) is not None}
    if not ids:
        raise InputError(
            "the export needs an identifier column (user_id, email, phone, crm_id, ...)",
            field="user_id",
        )
    optional = {k: _find(frame, k, explicit) for k in ("response_id", "touchpoint", "question")}
    plan: list[tuple[str | None, str, str | None]]
    if scores:
        plan = [(s, col, (comments or {}).get(s)) for s, col in scores.items()]
    else:
        score_col = _find(frame, "score", explicit)
        if score_col is None:
            raise InputError(
                "the export needs a score column (columns={'score': ...})", field="score"
            )
        plan = [(survey, score_col, _find(frame, "comment", explicit))]
    survey_col = _find(frame, "survey", explicit) if not scores and survey is None else None
    parts = []
    for name, score_col, comment_col in plan:
        for column in (score_col, comment_col):
            if column is not None and column not in frame.columns:
                raise InputError(f"the export has no column {column!r}", field="score")
        parts.append(
            _events(
                frame,
                name,
                survey_col,
                score_col,
                comment_col,
                ts_col,
                ids,
                optional,
                touchpoint,
                source,
                event,
            )
        )
    out = pd.concat(parts, ignore_index=True)
    # export order: each response's events together, in the order of ``scores``
    out = out.sort_values("_row", kind="stable").drop(columns="_row")
    return out.reset_index(drop=True)


def _survey_names(
    frame: pd.DataFrame, survey: str | None, survey_col: str | None, score_col: str
) -> pd.Series:
    if survey is not None:
        names = pd.Series(survey, index=frame.index, dtype=object)
    elif survey_col is not None:
        names = frame[survey_col].astype("string").str.strip().str.lower().astype(object)
    elif _norm(score_col).split("_")[0] in SCALES:
        names = pd.Series(_norm(score_col).split("_")[0], index=frame.index, dtype=object)
    else:
        raise InputError(
            f"which survey is {score_col!r}? pass survey='nps' (or csat, ces)", field="survey"
        )
    unknown = sorted(set(names.dropna()) - set(SCALES))
    if unknown:
        raise InputError(f"unknown survey {unknown[0]!r}; use nps, csat or ces", field="survey")
    return names


def _events(
    frame: pd.DataFrame,
    survey: str | None,
    survey_col: str | None,
    score_col: str,
    comment_col: str | None,
    ts_col: str,
    ids: dict[str, str],
    optional: dict[str, str | None],
    touchpoint: str | None,
    source: str,
    event: str,
) -> pd.DataFrame:
    names = _survey_names(frame, survey, survey_col, score_col)
    raw = frame[score_col]
    values = pd.to_numeric(raw, errors="coerce")
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    for position, (value, name, empty) in enumerate(zip(values, names, blank, strict=True)):
        if empty:
            continue
        low, high = SCALES[name]
        if pd.isna(value) or not low <= value <= high:
            raise InputError(
                f"{name} score {raw.iloc[position]!r} is not a number from {low} to {high}",
                row=position + 1,
                field=score_col,
            )
    keep = ~blank.to_numpy()
    rows = []
    for i in range(len(frame)):
        if not keep[i]:
            continue
        value = float(values.iloc[i])
        props: dict[str, object] = {
            "survey": names.iloc[i],
            "score": int(value) if value.is_integer() else value,
        }
        if comment_col is not None:
            text = frame[comment_col].iloc[i]
            if not pd.isna(text) and str(text).strip():
                props["comment"] = str(text).strip()
        tp = optional["touchpoint"]
        named = frame[tp].iloc[i] if tp is not None else touchpoint
        if named is not None and not pd.isna(named) and str(named).strip():
            props["touchpoint"] = str(named).strip()
        q = optional["question"]
        if q is not None and not pd.isna(frame[q].iloc[i]):
            props["question"] = str(frame[q].iloc[i])
        rid = optional["response_id"]
        response = frame[rid].iloc[i] if rid is not None else None
        row: dict[str, object] = {
            "_row": i,
            "event_id": (
                f"{source}:{response}:{names.iloc[i]}"
                if response is not None and not pd.isna(response)
                else None
            ),
            "ts": frame[ts_col].iloc[i],
            "type": "track",
            "event": event,
            "channel": "survey",
        }
        for kind, column in ids.items():
            value_id = frame[column].iloc[i]
            row[kind] = None if pd.isna(value_id) else str(value_id)
        row["properties"] = json.dumps(props, ensure_ascii=False)
        row["source"] = source
        rows.append(row)
    columns = ["_row", "event_id", "ts", "type", "event", "channel", *ids, "properties", "source"]
    return pd.DataFrame(rows, columns=columns)
