"""The touch tables the map is measured on, built from one scan of the events.

The scan groups the events by person, event name and channel (plus one flag per
``where`` condition of the spec); touchpoints, goals and stages are then assigned to these
groups instead of to every event, so the per-event work is a group-by, not a ``CASE`` per row.
From it:

``groups``  (cached) person_id, event, channel, n, first_seq, last_seq, first_ts, last_ts,
            revenue (the spec's revenue field), properties (of the group's first event), max_wait, long_n, tp, goal, stage
``pt``      one row per person and touchpoint: first_seq, last_seq, first_ts, n, contacts
            (events of the touchpoint's first event name), first_channel, properties (of the
            first touch), max_wait, long_wait
``person``  (cached) one row per person: first_ts, last_ts, first/last goal seq, goals,
            value (revenue of goal events), and per stage ``k``: ``f{k}``/``l{k}`` (first and
            last ``seq`` of an event moving the person into it), ``ft{k}`` (time of the first)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from journeykit.journey.touches import Plan

if TYPE_CHECKING:
    import ibis

    from journeykit.store import Workspace


@dataclass(frozen=True)
class TouchTables:
    """The tables of the module docstring (Ibis expressions; ``groups`` and ``person`` cached)."""

    groups: ibis.Table
    pt: ibis.Table
    person: ibis.Table
    certain: dict[str, int]

    def release(self) -> None:
        """Drop the temporary tables."""
        release(self.groups, self.person)


def release(*tables: object) -> None:
    """Drop the temporary tables behind cached Ibis tables (others are left alone)."""
    for t in tables:
        drop = getattr(t, "release", None)
        if drop is not None:
            drop()


def _i64(expr: Any) -> Any:
    return expr.cast("int64")


def _flag_conditions(ev: ibis.Table, plan: Plan) -> dict[str, Any]:
    """One boolean column per touchpoint or goal with a ``where`` (false on other events)."""
    import ibis

    from journeykit.journey.filtering import event_condition

    flags: dict[str, Any] = {}
    for i, tp in enumerate(plan.touchpoints):
        if tp.where is not None:
            cond = event_condition(ev, tp.where).fill_null(False)
            flags[f"w{i}"] = ibis.cases((ev.event.isin(list(tp.events)), cond), else_=False)
    for j, goal in enumerate(plan.spec.goals):
        if goal.where is not None:
            cond = event_condition(ev, goal.where).fill_null(False)
            flags[f"g{j}"] = ibis.cases((ev.event == goal.event, cond), else_=False)
    return flags


def _assign(g: ibis.Table, plan: Plan) -> ibis.Table:
    """Touchpoint, goal flag and stage of each group (the first matching touchpoint wins)."""
    import ibis

    branches = []
    for i, tp in enumerate(plan.touchpoints):
        cond = g.event.isin(list(tp.events))
        if tp.channels is not None:
            cond = cond & g.channel.isin(list(tp.channels))
        if tp.where is not None:
            cond = cond & g[f"w{i}"]
        branches.append((cond, ibis.literal(i, "int16")))
    tp_code = ibis.cases(*branches, else_=ibis.null("int16"))
    goal: Any = ibis.literal(False)
    for j, gl in enumerate(plan.spec.goals):
        cond = g.event == gl.event
        if gl.where is not None:
            cond = cond & g[f"g{j}"]
        goal = goal | cond
    moving = [(i, plan.tp_stage[i]) for i, tp in enumerate(plan.touchpoints) if tp.moves]
    g = g.mutate(tp=tp_code, goal=goal)
    stage = (
        g.tp.cases(*[(i, ibis.literal(s, "int8")) for i, s in moving], else_=None)
        if moving
        else ibis.null("int8")
    )
    return g.mutate(stage=stage)


def build(ws: Workspace, plan: Plan) -> TouchTables:
    """Scan the events once and build the touch tables."""
    import ibis

    from journeykit.journey.filtering import event_money, property_text

    settings = plan.spec.settings
    thr = float(settings.long_wait_seconds)
    # every event, also those the spec does not name: persona filters on event and channel
    # then read the groups instead of the events (see filtering.persona_people)
    ev = ws.table("events")
    flags = _flag_conditions(ev, plan)
    contact_events = sorted(
        {e for tp in plan.touchpoints if tp.kind == "contact" for e in tp.events}
    )
    if contact_events:
        raw_wait = property_text(ev, "wait_seconds").try_cast("float64")
        wait = ibis.cases((ev.event.isin(contact_events), raw_wait), else_=ibis.null("float64"))
    else:
        wait = ibis.null("float64")
    ev = ev.mutate(_wait=wait, _value=event_money(ev, plan.spec.revenue_field), **flags)
    groups = ev.group_by("person_id", "event", "channel", *flags).agg(
        n=ev.count(),
        first_seq=ev.seq.min(),
        last_seq=ev.seq.max(),
        first_ts=ev.ts.min().cast("timestamp"),
        last_ts=ev.ts.max().cast("timestamp"),
        revenue=ev._value.sum(),
        properties=ev.properties.argmin(ev.seq),
        max_wait=ev._wait.max(),
        long_n=_i64(ev._wait >= thr).sum(),
    )
    groups = _assign(groups, plan).drop(*flags).cache()
    certain = _certain(groups, plan)

    t = groups.filter(groups.tp.notnull())
    opener = t.tp.cases(*[(i, tp.events[0]) for i, tp in enumerate(plan.touchpoints)])
    pt = t.group_by("person_id", "tp").agg(
        first_seq=t.first_seq.min(),
        last_seq=t.last_seq.max(),
        first_ts=t.first_ts.min(),
        n=t.n.sum(),
        contacts=t.n.sum(where=t.event == opener).fill_null(0),
        first_channel=t.channel.argmin(t.first_seq),
        properties=t.properties.argmin(t.first_seq),
        max_wait=t.max_wait.max(),
        long_wait=t.long_n.sum() > 0,
    )
    return TouchTables(groups=groups, pt=pt, person=_person(groups, plan), certain=certain)


def _person(groups: ibis.Table, plan: Plan) -> ibis.Table:
    keep = groups.filter(groups.tp.notnull() | groups.goal)
    per_stage: dict[str, Any] = {}
    for k in range(len(plan.stages)):
        hit = keep.stage == k
        per_stage[f"f{k}"] = keep.first_seq.min(where=hit)
        per_stage[f"l{k}"] = keep.last_seq.max(where=hit)
        per_stage[f"ft{k}"] = keep.first_ts.min(where=hit)
    return (
        keep.group_by("person_id")
        .agg(
            first_ts=keep.first_ts.min(),
            last_ts=keep.last_ts.max(),
            first_goal_seq=keep.first_seq.min(where=keep.goal),
            last_goal_seq=keep.last_seq.max(where=keep.goal),
            goals=keep.n.sum(where=keep.goal).fill_null(0),
            value=keep.revenue.sum(where=keep.goal).fill_null(0.0),
            **per_stage,
        )
        .cache()
    )


def _certain(groups: ibis.Table, plan: Plan) -> dict[str, int]:
    """Event names whose every stored occurrence moves its person into one stage.

    A name is certain when the spec says so (:attr:`Plan.certain`) or when the data show it;
    a channel list on a touchpoint then costs nothing when no event of that name comes from
    another channel. See :func:`journeykit.journey.touches.observed_certain`.
    """
    g = groups
    counts = (
        g.group_by("event")
        .agg(loose=g.n.sum(where=g.stage.isnull()).fill_null(0), lo=g.stage.min(), hi=g.stage.max())
        .execute()
    )
    out = dict(plan.certain)
    names = {e for tp in plan.touchpoints for e in tp.events}
    for row in counts.itertuples(index=False):
        if row.event in names and int(row.loose) == 0 and row.lo == row.hi:
            out[str(row.event)] = int(row.lo)
    return out
