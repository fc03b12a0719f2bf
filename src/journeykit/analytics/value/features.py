"""Per-person journey features, aggregated inside the engine (one row per person comes out).

:func:`person_features` is the shared base of the driver, prediction and persona builders.
Every feature is defined by what the journey spec says the events mean (see
:class:`journeykit.analytics.vocabulary.Names`), never by event names written here, so the
models say something on any workspace. Its columns (indexed by ``person_id``):

===================== ========================================================================
first_seen            the person's first event in the range
last_active           the last event the person did (messages the business sent do not count)
active_events         events the person did
conversions           conversion events; ``revenue`` their value (the spec's revenue field)
first_conversion      the time of the first conversion (null without one)
contacts              contact / support events
max_wait_seconds      the longest ``properties.wait_seconds`` of a contact (null without one)
messages              messages the business sent the person
errors                events of ``error`` touchpoints (a failed payment, a declined card, ...)
surveys               survey answers
nps_last              the last NPS score (0-10; null without one)
csat_mean, ces_mean   the mean CSAT / CES score (null without one)
score_mean            the mean score of every survey answer (null without one)
last_event            the name of the last active event
last_stage            the stage of the last active event that has one (null without one)
stage_reached         the furthest stage reached by an active event, as a 0-based index into
                      the spec's stages (0 when none)
first_touch_channel   the channel of the first marketing touch (null without one)
ch_<channel>          active events on each of the most used channels (see ``channels``)
stage_<stage>         active events of each stage
tp_<touchpoint>       events of each touchpoint of the spec (first matching touchpoint wins,
                      with its channels and ``where`` condition, as on the journey map)
===================== ========================================================================

The frame's ``attrs["labels"]`` gives a readable label for every ``ch_``, ``stage_`` and
``tp_`` column, ``attrs["channels"]``, ``attrs["stages"]`` and ``attrs["touchpoints"]`` list
those columns in order, and ``attrs["names"]`` holds the :class:`Names` used.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.analytics.value._common import events_table, to_datetime

if TYPE_CHECKING:
    from collections.abc import Sequence

    import ibis
    import pandas as pd

    from journeykit.analytics.vocabulary import Names
    from journeykit.store import Workspace

#: How many of the most used channels get a column of their own.
TOP_CHANNELS = 8
#: The property a contact's wait is read from (as the journey map reads it).
WAIT_FIELD = "properties.wait_seconds"


def slug(text: str) -> str:
    """A column-safe name: lower case, runs of other characters as ``_``.

    >>> slug("E-mail sent (welcome)")
    'e_mail_sent_welcome'
    """
    out = re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")
    return out or "x"


def _unique(prefix: str, labels: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        base = f"{prefix}{slug(label)}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def _isin(col: ibis.Value, values: Sequence[str]) -> ibis.BooleanValue:
    import ibis

    return col.isin(list(values)) if values else ibis.literal(False)


def top_channels(ws: Workspace, names: Names, *, limit: int = TOP_CHANNELS) -> list[str]:
    """The channels with the most active events (ties by name), at most ``limit``."""
    ev = events_table(ws)
    active = ev.filter(ev.channel.notnull() & ~_isin(ev.event, names.messages))
    counts = active.group_by("channel").aggregate(n=active.count()).to_pandas()
    counts = counts.sort_values(["n", "channel"], ascending=[False, True])
    return [str(c) for c in counts["channel"].head(limit)]


def person_features(
    ws: Workspace,
    *,
    end: datetime | str,
    start: datetime | str | None = None,
    names: Names | None = None,
    channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Aggregate each person's events in ``[start, end]`` into the columns listed above.

    Args:
        ws: the workspace.
        end: the last moment counted (inclusive).
        start: the first moment counted (default: the beginning).
        names: what the events mean (default: :func:`~journeykit.analytics.vocabulary.resolve`
            of the workspace, i.e. its journey spec).
        channels: the channels given a ``ch_`` column (default: the most used ones).

    Returns:
        One row per person seen in the range, indexed by ``person_id``.

    Raises:
        NoSpec: ``names`` is not given and the workspace has no journey spec.
    """
    import ibis

    from journeykit.analytics import vocabulary as vocab

    names = names if names is not None else vocab.resolve(ws)
    chans = list(channels) if channels is not None else top_channels(ws, names)
    ev = events_table(ws)
    keep = ev.person_id.notnull() & (ev.ts <= ibis.literal(to_datetime(end)))
    if start is not None:
        keep &= ev.ts >= ibis.literal(to_datetime(start))
    e = ev.filter(keep)
    name = e.event
    active = ~_isin(name, names.messages)
    is_conv = _isin(name, names.conversions)
    value = vocab.field_number(e, names.revenue_field)
    is_contact = _isin(name, names.contacts)
    metrics: dict[str, Any] = {
        "first_seen": e.ts.min(),
        "last_active": e.ts.max(where=active),
        "active_events": e.count(where=active),
        "conversions": e.count(where=is_conv),
        "revenue": value.sum(where=is_conv),
        "first_conversion": e.ts.min(where=is_conv),
        "contacts": e.count(where=is_contact),
        "max_wait_seconds": vocab.field_number(e, WAIT_FIELD).max(where=is_contact),
        "messages": e.count(where=~active),
        "errors": e.count(where=_isin(name, names.errors)),
        "last_event": name.argmax(e.ts, where=active),
    }
    metrics.update(_survey_metrics(e, names))
    stage_cols = _unique("stage_", names.stages)
    if names.stages:
        stage_at = name.substitute(
            {ev_name: names.stages.index(stage) for ev_name, stage in names.stage_of_event.items()},
            else_=ibis.null("int64"),
        )
        staged = active & stage_at.notnull()
        metrics["stage_reached"] = stage_at.max(where=staged)
        metrics["last_stage_index"] = stage_at.argmax(e.ts, where=staged)
        for i, col in enumerate(stage_cols):
            metrics[col] = e.count(where=staged & (stage_at == i))
    chan_cols = _unique("ch_", chans)
    for channel, col in zip(chans, chan_cols, strict=True):
        metrics[col] = e.count(where=active & (e.channel == channel))
    if names.touch_events:
        touch = _isin(name, names.touch_events)
        metrics["first_touch_channel"] = vocab.field_text(e, names.channel_field).argmin(
            e.ts, where=touch
        )
    per = e.group_by("person_id").aggregate(**metrics)
    df = per.order_by("person_id").to_pandas().set_index("person_id")
    tp_cols, tp_labels = _touchpoint_counts(ws, e, names, df)
    df["revenue"] = df["revenue"].fillna(0.0).astype(float)
    if names.stages:
        df["stage_reached"] = df["stage_reached"].fillna(0).astype(int)
        index = df.pop("last_stage_index")
        df["last_stage"] = [
            names.stages[int(i)] if i == i and i is not None else None for i in index
        ]
    else:
        df["stage_reached"] = 0
        df["last_stage"] = None
    if "first_touch_channel" not in df.columns:
        df["first_touch_channel"] = None
    labels = {
        **{c: f"events on {ch}" for c, ch in zip(chan_cols, chans, strict=True)},
        **{c: f"{st} events" for c, st in zip(stage_cols, names.stages, strict=True)},
        **tp_labels,
    }
    df.attrs.update(
        labels=labels,
        channels=dict(zip(chan_cols, chans, strict=True)),
        stages=dict(zip(stage_cols, names.stages, strict=True)),
        touchpoints=tp_cols,
        names=names,
    )
    return df


def _survey_metrics(e: ibis.Table, names: Names) -> dict[str, Any]:
    """Survey counts and scores; each survey reads its own score and metric fields."""
    import ibis

    from journeykit.analytics import vocabulary as vocab

    if not names.surveys:
        null = ibis.null("float64")
        return {
            "surveys": e.count(where=ibis.literal(False)),
            "nps_last": null.max(),
            "csat_mean": null.max(),
            "ces_mean": null.max(),
            "score_mean": null.max(),
        }
    score_cases = []
    metric_cases = []
    for s in names.surveys:
        is_s = e.event == s.event
        score_cases.append((is_s, vocab.field_number(e, s.score)))
        if s.metric is not None:
            metric_cases.append((is_s, ibis.literal(str(s.metric).lower())))
        elif s.metric_field is not None:
            metric_cases.append((is_s, vocab.field_text(e, s.metric_field).lower()))
    answered = _isin(e.event, names.survey_events)
    score = ibis.cases(*score_cases, else_=ibis.null("float64"))
    metric = (
        ibis.cases(*metric_cases, else_=ibis.null("string"))
        if metric_cases
        else ibis.null("string")
    )
    return {
        "surveys": e.count(where=answered),
        "nps_last": score.argmax(e.ts, where=answered & (metric == "nps") & score.notnull()),
        "csat_mean": score.mean(where=answered & (metric == "csat")),
        "ces_mean": score.mean(where=answered & (metric == "ces")),
        "score_mean": score.mean(where=answered),
    }


def _touchpoint_counts(
    ws: Workspace, e: ibis.Table, names: Names, df: pd.DataFrame
) -> tuple[list[str], dict[str, str]]:
    """Add one ``tp_`` count column per touchpoint of the spec to ``df`` (in place)."""
    if names.spec is None:
        return [], {}
    from journeykit.journey.touches import annotate, compile_plan

    plan = compile_plan(names.spec)
    tps = plan.touchpoints
    cols = _unique("tp_", [tp.name for tp in tps])
    a = annotate(ws, plan, events=e)
    counts = (
        a.group_by("person_id")
        .aggregate(**{col: a.count(where=a.tp == i) for i, col in enumerate(cols)})
        .to_pandas()
        .set_index("person_id")
    )
    counts = counts.reindex(df.index).fillna(0).astype(int)
    for col in cols:
        df[col] = counts[col]
    return cols, {col: tp.name for col, tp in zip(cols, tps, strict=True)}


def activity_between(
    ws: Workspace,
    start: datetime | str,
    end: datetime | str,
    *,
    names: Names | None = None,
) -> pd.DataFrame:
    """Each person's activity in ``(start, end]``: used for labels after a cutoff.

    Returns:
        Indexed by ``person_id`` (only people with an event in the range): ``active`` (did
        something themselves), ``conversions`` and ``revenue``.
    """
    import ibis

    from journeykit.analytics import vocabulary as vocab

    names = names if names is not None else vocab.resolve(ws)
    ev = events_table(ws)
    e = ev.filter(
        ev.person_id.notnull()
        & (ev.ts > ibis.literal(to_datetime(start)))
        & (ev.ts <= ibis.literal(to_datetime(end)))
    )
    active = ~_isin(e.event, names.messages)
    is_conv = _isin(e.event, names.conversions)
    per = e.group_by("person_id").aggregate(
        active=active.any(),
        conversions=e.count(where=is_conv),
        revenue=vocab.field_number(e, names.revenue_field).sum(where=is_conv),
    )
    df = per.to_pandas().set_index("person_id")
    df["active"] = df["active"].fillna(False).astype(bool)
    df["revenue"] = df["revenue"].fillna(0.0).astype(float)
    return df
