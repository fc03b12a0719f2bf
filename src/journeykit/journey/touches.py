"""Events matched to the spec: each event's touchpoint, stage and goal flag, as Ibis columns.

:class:`Plan` is a spec compiled for matching (codes instead of names). :func:`annotate` adds,
to the events of the workspace, the columns

=========== ===============================================================================
tp          index of the event's touchpoint in :attr:`Plan.touchpoints` (null: none)
tp_stage    index of that touchpoint's stage (null: no touchpoint)
stage       the stage the event moves its person into (null: no touchpoint, or one that does
            not move people, such as a message or a survey answer)
goal        whether the event is a goal (a conversion)
=========== ===============================================================================

and keeps only events that have a touchpoint or are goals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from journeykit.journey.spec import JourneySpec, Touchpoint, load_spec

if TYPE_CHECKING:
    from pathlib import Path

    import ibis
    import ibis.expr.types as ir

    from journeykit.store import Workspace


@dataclass(frozen=True)
class Plan:
    """A spec compiled for matching events.

    Attributes:
        spec: the spec.
        stages: stage names in the designed order.
        touchpoints: touchpoints in matching order, each with its stage set.
        tp_stage: stage index of each touchpoint.
        certain: event names whose every occurrence moves a person into one known stage
            (stage index); used to read a predecessor's stage off ``prev_event``.
        name_tp: event name -> index of the first touchpoint that lists it.
        goal_events: names of the goal events.
        goal_stage: index of the stage that holds the first goal event (or the last stage).
    """

    spec: JourneySpec
    stages: tuple[str, ...]
    touchpoints: tuple[Touchpoint, ...]
    tp_stage: tuple[int, ...]
    certain: dict[str, int]
    name_tp: dict[str, int]
    goal_events: tuple[str, ...]
    goal_stage: int

    @property
    def event_names(self) -> tuple[str, ...]:
        """Every event name a touchpoint or a goal names."""
        names = [e for tp in self.touchpoints for e in tp.events]
        return tuple(dict.fromkeys([*names, *self.goal_events]))

    def tp_index(self, name: str) -> int:
        """Index of the touchpoint called ``name``."""
        for i, tp in enumerate(self.touchpoints):
            if tp.name == name:
                return i
        from journeykit.errors import NotFound

        raise NotFound("touchpoint", name, [tp.name for tp in self.touchpoints])

    def is_goal_tp(self, i: int) -> bool:
        """Whether touchpoint ``i`` takes only goal events."""
        return set(self.touchpoints[i].events) <= set(self.goal_events)


def compile_plan(spec: JourneySpec | str | Path) -> Plan:
    """Check a spec (or read it) and compile it for matching.

    >>> from journeykit.journey.spec import SpecBuilder
    >>> plan = compile_plan(SpecBuilder().stage("a").touchpoint("A", events=["X"])
    ...     .stage("b").touchpoint("B", events=["Y"], channel="web").goal("Y").build())
    >>> plan.certain, plan.goal_stage
    ({'X': 0}, 1)
    """
    spec = spec if isinstance(spec, JourneySpec) else load_spec(spec)
    tps = spec.all_touchpoints()
    stages = spec.stage_names
    tp_stage = tuple(stages.index(tp.stage or "") for tp in tps)
    by_name: dict[str, list[int]] = {}
    for i, tp in enumerate(tps):
        for e in tp.events:
            by_name.setdefault(e, []).append(i)
    certain: dict[str, int] = {}
    for name, idx in by_name.items():
        stage_set = {tp_stage[i] for i in idx}
        all_move = all(tps[i].moves for i in idx)
        catch_all = any(tps[i].channels is None and tps[i].where is None for i in idx)
        if len(stage_set) == 1 and all_move and catch_all:
            certain[name] = stage_set.pop()
    goal_events = spec.goal_events
    goal_stage = next(
        (tp_stage[by_name[g][0]] for g in goal_events if g in by_name), len(stages) - 1
    )
    return Plan(
        spec=spec,
        stages=stages,
        touchpoints=tps,
        tp_stage=tp_stage,
        certain=certain,
        name_tp={name: idx[0] for name, idx in by_name.items()},
        goal_events=goal_events,
        goal_stage=goal_stage,
    )


def _match(t: ibis.Table, tp: Touchpoint) -> ir.BooleanValue:
    from journeykit.journey.filtering import event_condition

    cond = t.event.isin(list(tp.events))
    if tp.channels is not None:
        cond = cond & t.channel.isin(list(tp.channels))
    if tp.where is not None:
        cond = cond & event_condition(t, tp.where).fill_null(False)
    return cond


def annotate(
    ws: Workspace,
    plan: Plan,
    *,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    events: ibis.Table | None = None,
    keep_unmatched: bool = False,
) -> ibis.Table:
    """The events that have a touchpoint or are goals, with ``tp``, ``tp_stage``, ``stage``, ``goal``.

    Args:
        ws: the workspace.
        plan: the compiled spec.
        start, end: keep events with ``start <= ts < end`` (dates or times, either optional).
        events: the events to annotate (default: the workspace's).
        keep_unmatched: keep events whose name the spec lists but that no touchpoint takes
            (their ``tp`` is null), for :func:`observed_certain`.
    """
    import ibis

    t = ws.table("events") if events is None else events
    t = t.filter(t.event.isin(list(plan.event_names)))
    t = between(t, start, end)
    tp = ibis.cases(
        *[(_match(t, p), ibis.literal(i, "int16")) for i, p in enumerate(plan.touchpoints)],
        else_=ibis.null("int16"),
    )
    goal: Any = ibis.literal(False)
    for g in plan.spec.goals:
        cond = t.event == g.event
        if g.where is not None:
            from journeykit.journey.filtering import event_condition

            cond = cond & event_condition(t, g.where).fill_null(False)
        goal = goal | cond
    t = t.mutate(tp=tp, goal=goal)
    if not keep_unmatched:
        t = t.filter(t.tp.notnull() | t.goal)
    tp_stage = t.tp.cases(
        *[(i, ibis.literal(s, "int8")) for i, s in enumerate(plan.tp_stage)], else_=None
    )
    moving = [i for i, p in enumerate(plan.touchpoints) if p.moves]
    stage = (
        ibis.cases((t.tp.isin(moving), tp_stage), else_=ibis.null("int8"))
        if moving
        else ibis.null("int8")
    )
    return t.mutate(tp_stage=tp_stage, stage=stage)


def observed_certain(annotated: ibis.Table, plan: Plan) -> dict[str, int]:
    """Event names whose every stored occurrence moves its person into one stage.

    ``annotated`` is :func:`annotate` with ``keep_unmatched=True``. A name is certain when the
    spec says so (:attr:`Plan.certain`) or when the data show it: every event of that name has
    a touchpoint that moves people, all in the same stage. A channel list on a touchpoint then
    costs nothing when no event of that name comes from another channel.
    """
    t = annotated
    counts = (
        t.group_by("event")
        .agg(
            loose=(t.stage.isnull()).cast("int64").sum(),
            lo=t.stage.min(),
            hi=t.stage.max(),
        )
        .execute()
    )
    out = dict(plan.certain)
    names = {e for tp in plan.touchpoints for e in tp.events}
    for row in counts.itertuples(index=False):
        if row.event in names and int(row.loose) == 0 and row.lo == row.hi:
            out[str(row.event)] = int(row.lo)
    return out


def prev_stage_by_name(t: ibis.Table, certain: dict[str, int]) -> ir.IntegerValue:
    """The stage of each event's predecessor, read off ``prev_event`` (null when not certain)."""
    import ibis

    if not certain:
        return ibis.null("int8")
    return t.prev_event.cases(
        *[(name, ibis.literal(s, "int8")) for name, s in certain.items()], else_=None
    )


def between(
    t: ibis.Table, start: date | datetime | str | None, end: date | datetime | str | None
) -> ibis.Table:
    """Events with ``start <= ts < end`` (either bound optional; dates, times or ISO text)."""
    import ibis

    if start is not None:
        t = t.filter(t.ts >= ibis.literal(_as_time(start), "timestamp"))
    if end is not None:
        t = t.filter(t.ts < ibis.literal(_as_time(end), "timestamp"))
    return t


def _as_time(value: date | datetime | str) -> datetime:
    from journeykit.errors import InputError

    if isinstance(value, datetime):
        return _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return _naive_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise InputError(f"{value!r} is not a date or time (YYYY-MM-DD)", field="date") from None


def _naive_utc(value: datetime) -> datetime:
    from datetime import UTC

    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def stage_of_events(t: ibis.Table, plan: Plan, certain: dict[str, int]) -> ir.IntegerValue:
    """The stage each event moves its person into (null: none), cheaply.

    Names in ``certain`` get their stage from a plain ``CASE`` on the name; only the names
    some moving touchpoint takes on some channels or conditions go through full matching.
    """
    import ibis

    fast = (
        t.event.cases(*[(n, ibis.literal(s, "int8")) for n, s in certain.items()], else_=None)
        if certain
        else ibis.null("int8")
    )
    loose = sorted({e for tp in plan.touchpoints if tp.moves for e in tp.events} - set(certain))
    if not loose:
        return fast
    branches = []
    for i, tp in enumerate(plan.touchpoints):
        branches.append((_match(t, tp), ibis.literal(plan.tp_stage[i] if tp.moves else -1, "int8")))
    full = ibis.cases(*branches, else_=ibis.null("int8"))
    full = ibis.cases((full >= 0, full), else_=ibis.null("int8"))
    return ibis.cases((t.event.isin(loose), full), else_=fast)
