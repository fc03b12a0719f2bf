"""Attach each piece of feedback to the touchpoint it is about.

A survey answer or review is about:

1. the touchpoint it names: ``properties.touchpoint`` (an event name, e.g. ``"chat_ended"``);
   the person's latest event of that name within the window before the feedback gives its id,
   time and channel (when there is none, the name still counts and those stay empty); or else
2. the person's last interaction within ``window`` before the feedback (at the same instant
   counts), ignoring feedback events themselves and events the business sends (the spec's
   ``messages``: a sent e-mail is not something the person did); or else
3. nothing (``link = "none"``).

The feedback events are the spec's survey events (:attr:`JourneySpec.survey_events
<journeykit.journey.spec.JourneySpec.survey_events>`), the ignored ones its message events;
explicit arguments win over both.

Ties on time are broken by the journey order (``seq``), then by ``event_id``, so the answer is
deterministic. :func:`link_feedback` builds this as one Ibis expression over a workspace's events
(it runs in the engine); :func:`link_feedback_frame` is the same rule in plain pandas, the
reference the tests hold the engine version to.

Both return one row per feedback event with the columns ``feedback_id``, ``person_id``, ``ts``,
``feedback_event``, ``touchpoint``, ``touchpoint_event_id``, ``touchpoint_ts``,
``touchpoint_channel`` and ``link`` (``named``, ``last_interaction`` or ``none``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis

    from journeykit.store import Workspace

#: How far back the last interaction may lie by default.
DEFAULT_WINDOW = timedelta(days=7)

LINK_COLUMNS: tuple[str, ...] = (
    "feedback_id",
    "person_id",
    "ts",
    "feedback_event",
    "touchpoint",
    "touchpoint_event_id",
    "touchpoint_ts",
    "touchpoint_channel",
    "link",
)


def _check(window: timedelta, feedback_events: Sequence[str]) -> None:
    if window < timedelta(0):
        raise InputError(f"window must not be negative, got {window}", field="window")
    if not feedback_events:
        raise InputError("name at least one feedback event", field="feedback_events")


def named_touchpoint(table: ibis.Table) -> ibis.Value:
    """The ``properties.touchpoint`` string of each event (null when absent or blank)."""
    import ibis

    name = table.properties.try_cast("json")["touchpoint"].str.strip()
    return ibis.ifelse(name == "", ibis.null("string"), name)


def feedback_names(
    ws: Workspace, feedback_events: Sequence[str] | None, ignore: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The feedback events and the events never taken as a touchpoint: the arguments when
    given, else the workspace spec's survey events and message events."""
    if feedback_events is not None and ignore is not None:
        return tuple(feedback_events), tuple(ignore)
    from journeykit.journey.workspace_spec import current_spec

    spec = current_spec(ws)
    return (
        tuple(feedback_events) if feedback_events is not None else spec.survey_events,
        tuple(ignore) if ignore is not None else spec.message_events,
    )


def link_feedback(
    ws: Workspace,
    *,
    window: timedelta = DEFAULT_WINDOW,
    feedback_events: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ibis.Table:
    """The touchpoint of every feedback event, as an Ibis expression (see the module docstring).

    Args:
        ws: the workspace.
        window: how far before the feedback its touchpoint may lie.
        feedback_events: the event names that are feedback (default: the spec's surveys).
        ignore: further event names that never count as a touchpoint (default: the spec's
            messages).
        since: keep feedback at or after this time (UTC).
        until: keep feedback before this time (UTC).

    Returns:
        An Ibis table with the columns of :data:`LINK_COLUMNS`.

    Raises:
        InputError: a negative window or no feedback events.
        NoSpec: a default is needed and the workspace has no spec.
    """
    import ibis

    feedback_events, ignore = feedback_names(ws, feedback_events, ignore)
    _check(window, feedback_events)
    table = ws.table("events")
    feedback = table.filter(table.event.isin(list(feedback_events)))
    if since is not None:
        feedback = feedback.filter(feedback.ts >= since)
    if until is not None:
        feedback = feedback.filter(feedback.ts < until)
    feedback = feedback.select(
        feedback_id=feedback.event_id,
        f_person=feedback.person_id,
        f_ts=feedback.ts,
        feedback_event=feedback.event,
        named=named_touchpoint(feedback),
    )
    skipped = [*feedback_events, *ignore]
    source = table.view()
    source = source.filter(~source.event.isin(skipped))
    if since is not None:
        source = source.filter(source.ts >= since - window)
    if until is not None:
        source = source.filter(source.ts < until)
    interactions = source.select(
        i_id=source.event_id,
        i_person=source.person_id,
        i_ts=source.ts,
        i_event=source.event,
        i_channel=source.channel,
        i_seq=source.seq,
    )
    span = ibis.interval(seconds=int(window.total_seconds()))
    # an inner equi-join on the person with the time range as a residual condition (a hash
    # join); the touchpoint-name test is applied after it, since an OR inside the join
    # condition would force a nested-loop join
    pairs = feedback.join(
        interactions,
        [
            feedback.f_person == interactions.i_person,
            interactions.i_ts <= feedback.f_ts,
            interactions.i_ts >= feedback.f_ts - span,
        ],
    )
    pairs = pairs.filter(pairs.named.isnull() | (pairs.i_event == pairs.named))
    rank = ibis.row_number().over(
        group_by=pairs.feedback_id,
        order_by=[pairs.i_ts.desc(), pairs.i_seq.desc(), pairs.i_id.desc()],
    )
    best = pairs.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    best = best.select(
        b_id=best.feedback_id,
        i_id=best.i_id,
        i_ts=best.i_ts,
        i_event=best.i_event,
        i_channel=best.i_channel,
    )
    out = feedback.left_join(best, feedback.feedback_id == best.b_id)
    link = ibis.cases(
        (out.named.notnull(), "named"),
        (out.i_id.notnull(), "last_interaction"),
        else_="none",
    )
    return out.select(
        feedback_id=out.feedback_id,
        person_id=out.f_person,
        ts=out.f_ts,
        feedback_event=out.feedback_event,
        touchpoint=out.named.fill_null(out.i_event),
        touchpoint_event_id=out.i_id,
        touchpoint_ts=out.i_ts,
        touchpoint_channel=out.i_channel,
        link=link,
    )


def link_feedback_frame(
    events: pd.DataFrame,
    *,
    window: timedelta = DEFAULT_WINDOW,
    feedback_events: Sequence[str],
    ignore: Sequence[str] = (),
) -> pd.DataFrame:
    """The same linking as :func:`link_feedback`, over a pandas frame of events.

    A plain, obviously correct implementation (one pass per feedback event), meant for small
    frames and as the reference for the engine version.

    Args:
        events: events with ``event_id``, ``person_id``, ``ts``, ``event``, ``channel``,
            ``properties`` (JSON text or dict) and optionally ``seq``.
        window: how far before the feedback its touchpoint may lie.
        feedback_events: the event names that are feedback.
        ignore: further event names that never count as a touchpoint.

    Returns:
        One row per feedback event, with the columns of :data:`LINK_COLUMNS`, ordered by
        ``feedback_id``.

    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "event_id": ["a", "b", "c"], "person_id": ["p", "p", "p"],
    ...     "ts": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 11:00", "2026-01-01 12:00"]),
    ...     "event": ["chat_ended", "newsletter_sent", "survey_answer"],
    ...     "channel": ["chat", "email", "survey"], "properties": [None, None, "{}"]})
    >>> link_feedback_frame(ev, feedback_events=["survey_answer"], ignore=["newsletter_sent"])[
    ...     ["touchpoint", "link"]].to_dict("records")
    [{'touchpoint': 'chat_ended', 'link': 'last_interaction'}]
    """
    _check(window, feedback_events)
    frame = events.copy()
    frame["ts"] = pd.to_datetime(frame["ts"])
    if "seq" not in frame.columns:
        frame["seq"] = 0
    skipped = {*feedback_events, *ignore}
    rows = []
    for f in frame[frame["event"].isin(list(feedback_events))].itertuples(index=False):
        named = _property(f.properties, "touchpoint")
        best = None
        if not pd.isna(f.person_id):
            for e in frame.itertuples(index=False):
                if (
                    e.person_id != f.person_id
                    or e.event in skipped
                    or not (f.ts - window <= e.ts <= f.ts)
                    or (named is not None and e.event != named)
                ):
                    continue
                key = (e.ts, _num(e.seq), str(e.event_id))
                if best is None or key > (best.ts, _num(best.seq), str(best.event_id)):
                    best = e
        rows.append(
            {
                "feedback_id": f.event_id,
                "person_id": f.person_id,
                "ts": f.ts,
                "feedback_event": f.event,
                "touchpoint": named if named is not None else (best.event if best else None),
                "touchpoint_event_id": best.event_id if best else None,
                "touchpoint_ts": best.ts if best else pd.NaT,
                "touchpoint_channel": best.channel if best else None,
                "link": "named" if named is not None else ("last_interaction" if best else "none"),
            }
        )
    out = pd.DataFrame(rows, columns=list(LINK_COLUMNS))
    return out.sort_values("feedback_id", kind="stable").reset_index(drop=True)


def _num(value: object) -> float:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return float("-inf")
    return float(value)  # type: ignore[arg-type]


def _property(properties: object, key: str) -> str | None:
    import json

    if properties is None or (isinstance(properties, float) and pd.isna(properties)):
        return None
    data = properties
    if isinstance(properties, str):
        try:
            data = json.loads(properties)
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()
