"""Stages of people: stage visits, each person's current stage, transitions, time in stage.

A person *enters* a stage with an event of a touchpoint that moves people (actions, contacts,
errors; not messages or survey answers) when their previous such event was in another stage.
A *visit* runs from that entry to the next entry into another stage. Consecutive events in one
stage are one visit, whatever events without a moving touchpoint fall between them.

Journey order comes from the ``seq`` and ``prev_event`` columns kept at load time: an event
whose predecessor is certainly in the same stage (read off ``prev_event``) cannot start a
visit and is dropped by a plain scan; only the few events left (stage entries, and events
after a gap of other events) are put in order per person. So the cost is a scan plus a small
sort, not a window over every event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from journeykit.journey.spec import JourneySpec
from journeykit.journey.touches import (
    Plan,
    annotate,
    compile_plan,
    observed_certain,
    prev_stage_by_name,
)

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.store import Workspace

START, END = "(start)", "(end)"
TimeArg = date | datetime | str | None


@dataclass(frozen=True)
class Journeys:
    """The annotated events of a workspace under a spec, ready for stage queries.

    Build one with :func:`prepare`; pass it to the functions here to share the work.

    Attributes:
        plan: the compiled spec.
        events: the annotated events (see :mod:`journeykit.journey.touches`), touchpoint or
            goal events only.
        certain: event names known to move people into one stage (see ``observed_certain``).
        visits: the stage visits, once computed and kept (see :func:`with_visits`).
        cached: temporary tables to drop with :meth:`release`.
        raw: the plain events (the same people and time window as ``events``).
    """

    plan: Plan
    events: ibis.Table
    certain: dict[str, int]
    visits: ibis.Table | None = None
    cached: tuple[ibis.Table, ...] = ()
    raw: ibis.Table | None = None

    def release(self) -> None:
        """Drop the temporary tables kept for these journeys."""
        from journeykit.journey.grouping import release

        release(self.visits, *self.cached)


def with_visits(ws: Workspace, journeys: Journeys) -> Journeys:
    """The same journeys with their stage visits computed once, in a temporary table."""
    from dataclasses import replace

    if journeys.visits is not None:
        return journeys
    return replace(journeys, visits=stage_visits(ws, journeys).cache())


def prepare(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    start: TimeArg = None,
    end: TimeArg = None,
    cache: bool = False,
) -> Journeys:
    """Annotate the events once for several stage queries.

    Args:
        ws: the workspace.
        spec: a spec, a path to one, or an already prepared :class:`Journeys` (returned as is);
            ``None``: the workspace's spec.
        start, end: only events with ``start <= ts < end``.
        cache: materialise the annotated events in a temporary table (worth it when many
            queries follow); :meth:`Journeys.release` drops it.
    """
    if isinstance(spec, Journeys):
        return spec
    from journeykit.journey.touches import between
    from journeykit.journey.workspace_spec import spec_or_current

    plan = compile_plan(spec_or_current(ws, spec))
    wide = annotate(ws, plan, start=start, end=end, keep_unmatched=True)
    if cache:
        wide = wide.cache()
    certain = observed_certain(wide, plan)
    events = wide.filter(wide.tp.notnull() | wide.goal)
    return Journeys(
        plan=plan,
        events=events,
        certain=certain,
        cached=(wide,) if cache else (),
        raw=between(ws.table("events"), start, end),
    )


def stage_visits(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    start: TimeArg = None,
    end: TimeArg = None,
) -> ibis.Table:
    """One row per stage visit of every person.

    Columns: ``person_id``, ``visit`` (1-based), ``stage_index``, ``stage``, ``entered_at``,
    ``entered_seq``, ``prev_stage_index`` and ``next_stage_index`` (null at the ends),
    ``next_entered_at`` (null for the visit a person is still in).

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> from journeykit.journey.spec import SpecBuilder
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": f"2026-01-0{d}T10:00:00", "event": e, "user_id": "u1"}
    ...     for d, e in enumerate(["Visit", "Visit", "Order", "Visit"], start=1)])
    >>> spec = (SpecBuilder().stage("browse").touchpoint("V", events=["Visit"])
    ...     .stage("buy").touchpoint("O", events=["Order"]).goal("Order").build())
    >>> stage_visits(ws, spec).order_by("visit").stage.to_list()
    ['browse', 'buy', 'browse']
    """
    import ibis

    from journeykit.journey.touches import stage_of_events

    j = prepare(ws, spec, start=start, end=end)
    if j.visits is not None:
        return j.visits
    raw = j.raw if j.raw is not None else ws.table("events")
    moving = sorted({e for tp in j.plan.touchpoints if tp.moves for e in tp.events})
    raw = raw.filter(raw.event.isin(moving))
    t = raw.mutate(stage=stage_of_events(raw, j.plan, j.certain))
    t = t.filter(t.stage.notnull())
    prev_certain = prev_stage_by_name(t, j.certain)
    # an event whose predecessor is certainly in its own stage continues a visit: drop it
    t = t.filter(prev_certain.isnull() | (prev_certain != t.stage))
    # nullable ts: lead() of it is null at the last visit
    t = t.select("person_id", "seq", "stage", ts=t.ts.cast("timestamp"))
    w = ibis.window(group_by="person_id", order_by="seq")
    t = t.mutate(_prev=t.stage.lag().over(w))
    starts = t.filter(t._prev.isnull() | (t._prev != t.stage)).select(
        "person_id", "seq", "ts", "stage"
    )
    w2 = ibis.window(group_by="person_id", order_by="seq")
    visits = starts.mutate(
        visit=ibis.row_number().over(w2) + 1,
        prev_stage_index=starts.stage.lag().over(w2),
        next_stage_index=starts.stage.lead().over(w2),
        next_entered_at=starts.ts.lead().over(w2),
    )
    return visits.select(
        "person_id",
        "visit",
        stage_index=visits.stage,
        stage=_stage_name(visits.stage, j.plan),
        entered_at=visits.ts,
        entered_seq=visits.seq,
        prev_stage_index=visits.prev_stage_index,
        next_stage_index=visits.next_stage_index,
        next_entered_at=visits.next_entered_at,
    )


def _stage_name(code: ibis.Value, plan: Plan) -> ibis.Value:
    return code.cases(*[(i, name) for i, name in enumerate(plan.stages)], else_=None)


def current_stages(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    start: TimeArg = None,
    end: TimeArg = None,
) -> ibis.Table:
    """Each person's current stage (of their latest moving event) and the furthest one reached.

    Columns: ``person_id``, ``stage``, ``stage_index``, ``furthest_stage``, ``furthest_index``,
    ``first_seen``, ``last_seen`` (of their touchpoint events), ``converted`` (has a goal event).
    A group-by, no window.
    """
    j = prepare(ws, spec, start=start, end=end)
    t = j.events
    moving = t.stage.notnull()
    per = t.group_by("person_id").agg(
        stage_index=t.stage.argmax(t.seq, where=moving),
        furthest_index=t.stage.max(),
        first_seen=t.ts.min(),
        last_seen=t.ts.max(),
        converted=t.goal.any(),
    )
    per = per.filter(per.stage_index.notnull())
    return per.select(
        "person_id",
        stage=_stage_name(per.stage_index, j.plan),
        stage_index=per.stage_index,
        furthest_stage=_stage_name(per.furthest_index, j.plan),
        furthest_index=per.furthest_index,
        first_seen=per.first_seen,
        last_seen=per.last_seen,
        converted=per.converted,
    )


def stage_history(
    ws: Workspace, spec: JourneySpec | str | Path | Journeys | None, person_id: str
) -> pd.DataFrame:
    """The stage visits of one person, in order (columns as :func:`stage_visits`)."""
    from journeykit.journey.touches import annotate as _annotate

    j = prepare(ws, spec)
    events = ws.table("events")
    mine = events.filter(events.person_id == person_id)
    one = Journeys(
        plan=j.plan,
        events=_annotate(ws, j.plan, events=mine),
        certain=j.certain,
        raw=mine,
    )
    return stage_visits(ws, one).order_by("visit").to_pandas()


def transition_matrix(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    normalize: bool = False,
    start: TimeArg = None,
    end: TimeArg = None,
) -> pd.DataFrame:
    """Stage-to-stage moves: rows ``(start)`` and the stages, columns the stages and ``(end)``.

    ``(start) -> s`` counts people whose first stage is ``s``; ``s -> (end)`` counts people
    whose latest visit is ``s``. With ``normalize`` each row sums to 1 (a share of the moves
    out of that row's stage).
    """
    import pandas as pd
    from ibis import _

    j = prepare(ws, spec, start=start, end=end)
    v = stage_visits(ws, j)
    moves = v.group_by("stage_index", "next_stage_index").agg(n=_.count()).to_pandas()
    starts = v.filter(v.visit == 1).group_by("stage_index").agg(n=_.count()).to_pandas()
    names = list(j.plan.stages)
    out = pd.DataFrame(0, index=[START, *names], columns=[*names, END], dtype="int64")
    for row in moves.itertuples(index=False):
        to = END if pd.isna(row.next_stage_index) else names[int(row.next_stage_index)]
        out.loc[names[int(row.stage_index)], to] += int(row.n)
    for row in starts.itertuples(index=False):
        out.loc[START, names[int(row.stage_index)]] += int(row.n)
    out.index.name, out.columns.name = "from", "to"
    if normalize:
        totals = out.sum(axis=1).replace(0, 1)
        return out.div(totals, axis=0)
    return out


def time_in_stage(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    start: TimeArg = None,
    end: TimeArg = None,
) -> pd.DataFrame:
    """How long visits to each stage last, from entry to the entry into the next stage.

    Columns: ``stage``, ``visits``, ``completed`` (visits followed by another stage),
    ``median_hours``, ``p25_hours``, ``p75_hours``, ``mean_hours`` (completed visits), and
    ``ongoing`` (visits people are still in).
    """
    import pandas as pd

    j = prepare(ws, spec, start=start, end=end)
    v = stage_visits(ws, j)
    v = v.mutate(
        _h=(v.next_entered_at.epoch_seconds() - v.entered_at.epoch_seconds()) / 3600.0,
        _done=v.next_entered_at.notnull(),
    )
    agg = (
        v.group_by("stage_index")
        .agg(
            visits=v.count(),
            completed=v._done.cast("int64").sum(),
            median_hours=v._h.quantile(0.5, where=v._done),
            p25_hours=v._h.quantile(0.25, where=v._done),
            p75_hours=v._h.quantile(0.75, where=v._done),
            mean_hours=v._h.mean(where=v._done),
        )
        .to_pandas()
    )
    rows = []
    for i, name in enumerate(j.plan.stages):
        hit = agg[agg.stage_index == i]
        if hit.empty:
            rows.append({"stage": name, "visits": 0, "completed": 0, "median_hours": None,
                         "p25_hours": None, "p75_hours": None, "mean_hours": None})  # fmt: skip
            continue
        r = hit.iloc[0]
        rows.append(
            {
                "stage": name,
                "visits": int(r.visits),
                "completed": int(r.completed),
                "median_hours": _num(r.median_hours),
                "p25_hours": _num(r.p25_hours),
                "p75_hours": _num(r.p75_hours),
                "mean_hours": _num(r.mean_hours),
            }
        )
    out = pd.DataFrame(rows)
    out["ongoing"] = out["visits"] - out["completed"]
    return out


def _num(value: object) -> float | None:
    import math

    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return None if math.isnan(f) else f
