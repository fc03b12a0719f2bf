"""The numbers behind the journey map, computed in the engine and pulled as small aggregates.

The touch tables of :mod:`journeykit.journey.grouping` come from one scan of the events; the
aggregates here are group-bys over them. Nothing sorts the events: "after the touch" compares
``seq`` positions.

Definitions (per touchpoint, over the people who reached it; a person counts at their first
touch of it):

* ``converted``: a goal event comes after the first touch (for the goal touchpoint itself:
  another goal, a repeat conversion); ``conversion`` is its share, ``drop_off`` the rest;
* ``to_next``: an event of a later stage comes after the first touch;
* ``hours_next``: hours from the first touch to the first entry into a later stage, for
  people whose first entry into it came after the touch (median);
* ``repeat``: people who got in touch twice or more (counted by the touchpoint's first event,
  so a chat of a "chat started" and a "chat ended" event is one contact);
* ``long_wait``: people with a ``wait_seconds`` property at or above the spec's threshold;
* ``m_people``, ``m_converted``: the same counted on *mature* touches only, those at least the
  spec's ``horizon_days`` before the last event (later ones had no time to convert yet).
  Pain points, baselines, breakdowns and weekly numbers use mature touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from journeykit.journey.grouping import TouchTables, build
from journeykit.journey.stages import Journeys
from journeykit.journey.touches import Plan, annotate

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.store import Workspace

ALL = "All people"
ALL_PERIODS = "all"
_BUCKETS = 64


@dataclass(frozen=True)
class Measures:
    """Aggregates for the map (pandas frames; see the module docstring for the columns' sense).

    Attributes:
        plan, journeys: the compiled spec, and the events prepared for stage queries.
        people, converters, revenue, value: people with a touchpoint event, people with a goal
            event, their goal revenue, and revenue per converting person (the value of a
            conversion).
        first_event, last_event: the time range of the touchpoint events.
        personas, periods: the views the map can be switched to.
        cells: per persona, period and touchpoint.
        stages: per persona, period and stage (people who entered it then).
        baseline: per stage, the mature people who reached an action, contact or error of it.
        channels: per touchpoint and channel: events, people, and conversion by first channel.
        breakdowns: per touchpoint, breakdown key and value (mature first touches).
        weekly: per touchpoint, week of the first touch, breakdown key and value (key "" for
            the whole touchpoint): people and how many converted after.
        waits: per contact touchpoint: contacts, median and 90th percentile wait.
        moves: moves between touchpoint states, by bucket of people (``journey``: ``pre`` up to
            the first goal, ``post`` after it).
        person_tp, person: the per person-and-touchpoint and per person Ibis tables.
        members: persona membership (``person_id``, ``persona``; everyone is in "All people").
        tables: the touch tables they were built from.
    """

    plan: Plan
    journeys: Journeys
    people: int
    converters: int
    revenue: float
    value: float
    first_event: datetime | None
    last_event: datetime | None
    personas: tuple[str, ...]
    periods: tuple[str, ...]
    cells: pd.DataFrame
    stages: pd.DataFrame
    baseline: pd.DataFrame
    channels: pd.DataFrame
    breakdowns: pd.DataFrame
    weekly: pd.DataFrame
    waits: pd.DataFrame
    moves: pd.DataFrame
    person_tp: ibis.Table
    person: ibis.Table
    members: ibis.Table
    tables: TouchTables

    def release(self) -> None:
        """Drop the temporary tables the measures keep (call when done with the Ibis tables)."""
        from journeykit.journey.grouping import release

        release(self.person_tp, self.members)
        self.tables.release()


def _i64(expr: Any) -> Any:
    return expr.cast("int64")


def measure(ws: Workspace, plan: Plan) -> Measures:
    """Run the map's queries (see the module docstring)."""
    import ibis
    from ibis import _

    from journeykit.journey.filtering import persona_people

    settings = plan.spec.settings
    tables = build(ws, plan)
    person = tables.person
    totals = person.agg(
        people=_.count(),
        converters=_i64(_.goals > 0).sum(),
        revenue=_.value.sum(),
        first=_.first_ts.min(),
        last=_.last_ts.max(),
    ).to_pandas()
    n_people = int(totals.people.iloc[0] or 0)
    converters = int(totals.converters.iloc[0] or 0)
    revenue = float(totals.revenue.iloc[0] or 0.0)
    value = revenue / converters if converters else 0.0
    last_event = _dt(totals["last"].iloc[0]) or datetime(1970, 1, 1)
    # touches in the last `horizon_days` had too little time to convert: pain points (and
    # their baselines) are measured on the older, "mature" ones
    mature_before = last_event - timedelta(days=settings.horizon_days)
    pt = _person_tp(tables, plan, mature_before)

    members = person.select("person_id", persona=ibis.literal(ALL))
    for p in plan.spec.personas:
        people = persona_people(ws, p.where, tables.groups).select(
            "person_id", persona=ibis.literal(p.name)
        )
        members = members.union(people)
    members = members.cache()

    cells = _cells(pt, members)
    periods = tuple(sorted(p for p in cells["period"].unique() if p != ALL_PERIODS))
    contact = [i for i, tp in enumerate(plan.touchpoints) if tp.kind == "contact"]
    return Measures(
        plan=plan,
        journeys=Journeys(
            plan=plan, events=annotate(ws, plan), certain=tables.certain, raw=ws.table("events")
        ),
        people=n_people,
        converters=converters,
        revenue=revenue,
        value=value,
        first_event=_dt(totals["first"].iloc[0]),
        last_event=_dt(totals["last"].iloc[0]),
        personas=(ALL, *[p.name for p in plan.spec.personas]),
        periods=periods,
        cells=cells,
        stages=_stage_rows(person, members, len(plan.stages), settings.period),
        baseline=_baseline(pt, plan),
        channels=_channels(tables.groups, pt, plan),
        breakdowns=_breakdowns(pt, settings.breakdowns, contact),
        weekly=_weekly(pt, settings.breakdowns),
        waits=_waits(tables.groups, plan, settings.long_wait_seconds),
        moves=_moves(ws, plan, person),
        person_tp=pt,
        person=person,
        members=members,
        tables=tables,
    )


def _dt(value: Any) -> datetime | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _props(t: ibis.Table, keys: tuple[str, ...]) -> dict[str, Any]:
    """Breakdown properties read off a table's ``properties`` column."""
    from journeykit.journey.filtering import property_texts

    return {f"b_{k}": v for k, v in property_texts(t, keys).items()}


def _person_tp(tables: TouchTables, plan: Plan, mature_before: datetime) -> ibis.Table:
    """Per person and touchpoint, with what came after the first touch (cached)."""
    import ibis

    settings = plan.spec.settings
    k_stages = len(plan.stages)
    pt = tables.pt.join(tables.person, "person_id")
    tp_stage = pt.tp.cases(*[(i, s) for i, s in enumerate(plan.tp_stage)], else_=None)
    later_last = ibis.greatest(
        *[ibis.cases((tp_stage < k, pt[f"l{k}"]), else_=None) for k in range(k_stages)]
    )
    later_first = ibis.least(
        *[
            ibis.cases(((tp_stage < k) & (pt[f"f{k}"] > pt.first_seq), pt[f"ft{k}"]), else_=None)
            for k in range(k_stages)
        ]
    )
    grain = "W" if settings.period == "week" else "M"
    return pt.select(
        "person_id",
        "tp",
        "first_seq",
        "first_ts",
        "n",
        "contacts",
        "first_channel",
        "max_wait",
        "long_wait",
        "value",
        **_props(pt, settings.breakdowns),
        tp_stage=tp_stage,
        converted=(pt.last_goal_seq > pt.first_seq).fill_null(False),
        to_next=(later_last > pt.first_seq).fill_null(False),
        hours_next=(later_first.epoch_seconds() - pt.first_ts.epoch_seconds()) / 3600.0,
        period=pt.first_ts.truncate(grain).date().cast("string"),
        mature=pt.first_ts <= ibis.literal(mature_before, "timestamp"),
    ).cache()


def _cell_metrics(t: ibis.Table) -> dict[str, Any]:
    return {
        "people": t.count(),
        "events": t.n.sum(),
        "converted": _i64(t.converted).sum(),
        "to_next": _i64(t.to_next).sum(),
        "hours_next": t.hours_next.quantile(0.5),
        "repeat": _i64(t.contacts >= 2).sum(),
        "waited": _i64(t.max_wait.notnull()).sum(),
        "long_wait": _i64(t.long_wait.fill_null(False)).sum(),
        "value_sum": t.value.sum(),
        "value_sq": (t.value * t.value).sum(),
        "m_people": _i64(t.mature).sum(),
        "m_converted": _i64(t.mature & t.converted).sum(),
    }


def _cells(pt: ibis.Table, members: ibis.Table) -> pd.DataFrame:
    import ibis
    import pandas as pd

    frames = []
    everyone = pt.mutate(persona=ibis.literal(ALL))
    # everyone from the table itself; only the personas need the membership join
    j = pt.join(members.filter(members.persona != ALL), "person_id")
    for t in (everyone, j):
        by_period = t.group_by("persona", "period", "tp").agg(**_cell_metrics(t)).to_pandas()
        overall = t.group_by("persona", "tp").agg(**_cell_metrics(t)).to_pandas()
        overall.insert(1, "period", ALL_PERIODS)
        frames += [overall, by_period]
    out = pd.concat(frames, ignore_index=True)
    out["tp"] = out["tp"].astype("int64")
    return out


def _stage_rows(person: ibis.Table, members: ibis.Table, k_stages: int, grain: str) -> pd.DataFrame:
    import ibis
    import pandas as pd

    parts = []
    for k in range(k_stages):
        later = ibis.greatest(*[person[f"l{m}"] for m in range(k + 1, k_stages)] or [None])
        parts.append(
            person.filter(person[f"f{k}"].notnull()).select(
                "person_id",
                "value",
                stage_index=ibis.literal(k, "int64"),
                converted=(person.last_goal_seq > person[f"f{k}"]).fill_null(False),
                to_next=(later > person[f"f{k}"]).fill_null(False)
                if k < k_stages - 1
                else ibis.literal(False),
                period=person[f"ft{k}"]
                .truncate("W" if grain == "week" else "M")
                .date()
                .cast("string"),
            )
        )
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part)
    j = rows.join(members, "person_id")
    metrics = {
        "people": j.count(),
        "converted": _i64(j.converted).sum(),
        "to_next": _i64(j.to_next).sum(),
        "value_sum": j.value.sum(),
    }
    by_period = j.group_by("persona", "period", "stage_index").agg(**metrics).to_pandas()
    overall = j.group_by("persona", "stage_index").agg(**metrics).to_pandas()
    overall.insert(1, "period", ALL_PERIODS)
    return pd.concat([overall, by_period], ignore_index=True)


def _baseline(pt: ibis.Table, plan: Plan) -> pd.DataFrame:
    """Per stage: mature people who reached an action, contact or error of it that is no goal."""
    from ibis import _

    kinds = ("action", "contact", "error")
    chosen = [
        i for i, tp in enumerate(plan.touchpoints) if tp.kind in kinds and not plan.is_goal_tp(i)
    ]
    t = pt.filter(pt.tp.isin(chosen) & pt.mature)
    per = t.group_by("person_id", "tp_stage").agg(
        converted=t.converted.argmin(t.first_seq), value=t.value.max()
    )
    return (
        per.group_by("tp_stage")
        .agg(
            people=_.count(),
            converted=_i64(_.converted).sum(),
            value_sum=_.value.sum(),
            value_sq=(_.value * _.value).sum(),
        )
        .to_pandas()
    )


def _channels(groups: ibis.Table, pt: ibis.Table, plan: Plan) -> pd.DataFrame:
    """Per touchpoint and channel: events, people (who had its first event there), and the
    people whose first touch was there with how many of them converted."""
    from ibis import _

    t = groups.filter(groups.tp.notnull())
    opener = t.tp.cases(*[(i, tp.events[0]) for i, tp in enumerate(plan.touchpoints)])
    mix = t.group_by("tp", "channel").agg(events=_.n.sum(), people=_i64(_.event == opener).sum())
    conv = pt.group_by("tp", channel=pt.first_channel).agg(
        first_people=_.count(), converted=_i64(_.converted).sum()
    )
    keys = {"tp": "int64", "channel": object}
    out = (
        mix.to_pandas()
        .astype(keys)
        .merge(conv.to_pandas().astype(keys), on=["tp", "channel"], how="outer")
    )
    return out.fillna({"events": 0, "people": 0, "first_people": 0, "converted": 0})


def _breakdowns(pt: ibis.Table, keys: tuple[str, ...], contact: list[int]) -> pd.DataFrame:
    """Conversion per touchpoint and value of each breakdown (mature first touches).

    Keys: ``channel`` (of the first touch), each property in ``keys`` (its value at the first
    touch), and for contact touchpoints ``wait`` (``long`` / ``short``) and ``contacts``
    (``repeat`` / ``once``).
    """
    import ibis
    import pandas as pd
    from ibis import _

    is_contact = pt.tp.isin(contact) if contact else ibis.literal(False)
    pt = pt.mutate(
        k_wait=ibis.cases(
            (is_contact & pt.max_wait.notnull() & pt.long_wait, "long"),
            (is_contact & pt.max_wait.notnull(), "short"),
            else_=ibis.null("string"),
        ),
        k_contacts=ibis.cases(
            (is_contact & (pt.contacts >= 2), "repeat"),
            (is_contact, "once"),
            else_=ibis.null("string"),
        ),
    )
    metrics = {
        "people": _.count(),
        "converted": _i64(_.converted).sum(),
        "value_sum": _.value.sum(),
        "value_sq": (_.value * _.value).sum(),
    }
    columns = [
        ("channel", "first_channel"),
        *[(k, f"b_{k}") for k in keys],
        ("wait", "k_wait"),
        ("contacts", "k_contacts"),
    ]
    rows = []
    for key, col in columns:
        t = pt.filter(pt[col].notnull() & pt.mature)
        agg = t.group_by("tp", value=t[col].cast("string")).agg(**metrics).to_pandas()
        agg.insert(1, "key", key)
        rows.append(agg)
    return pd.concat(rows, ignore_index=True)


def _weekly(pt: ibis.Table, keys: tuple[str, ...]) -> pd.DataFrame:
    """Per touchpoint, week of the first touch and breakdown value: people and conversions.

    Mature touches only; key "" holds the whole touchpoint.
    """
    import pandas as pd
    from ibis import _

    w = pt.filter(pt.mature).mutate(week=pt.first_ts.truncate("W").date())
    metrics = {"people": _.count(), "converted": _i64(_.converted).sum()}
    frames = []
    for key, col in [("channel", "first_channel"), *[(k, f"b_{k}") for k in keys]]:
        v = w.filter(w[col].notnull())
        agg = v.group_by("tp", "week", value=v[col].cast("string")).agg(**metrics).to_pandas()
        agg.insert(1, "key", key)
        frames.append(agg)
    whole = w.group_by("tp", "week").agg(**metrics).to_pandas()
    whole.insert(1, "key", "")
    whole["value"] = ""
    frames.append(whole)
    out = pd.concat(frames, ignore_index=True)
    out["week"] = pd.to_datetime(out["week"]).dt.strftime("%Y-%m-%d")
    return out


def _waits(groups: ibis.Table, plan: Plan, thr: float) -> pd.DataFrame:
    """Waits at contact touchpoints (each person's longest wait in a week counts once)."""
    from ibis import _

    w = groups.filter(groups.max_wait.notnull() & groups.tp.notnull())
    return (
        w.group_by("tp")
        .agg(
            contacts=_.count(),
            median_wait=_.max_wait.quantile(0.5),
            p90_wait=_.max_wait.quantile(0.9),
            long_contacts=_i64(_.max_wait >= thr).sum(),
        )
        .to_pandas()
    )


def _moves(ws: Workspace, plan: Plan, person: ibis.Table) -> pd.DataFrame:
    """Moves between touchpoint states, by bucket of people, before and after the first goal.

    States are touchpoints by event name (the first touchpoint listing it), ``(other)`` for
    names no touchpoint lists, ``(start)`` before a person's first event. ``pre`` moves run up
    to the first goal event (which leads to ``(convert)``); a person who never converts leaves
    from their last event to ``(exit)``. The engine counts moves by event names; names become
    states on the small result.
    """
    import pandas as pd
    from ibis import _

    from journeykit.journey.markov import CONVERT, EXIT, OTHER, START

    raw = ws.table("events").select("person_id", "seq", "event", "prev_event")
    people = ws.table("people").select("person_id", max_seq=_.n_events)
    firsts = people.join(
        person.select("person_id", "first_goal_seq"), "person_id", how="left"
    ).select("person_id", "max_seq", "first_goal_seq")
    # people are dealt into buckets once (a hash per person, not per event)
    firsts = firsts.mutate(bucket=(firsts.person_id.hash() % _BUCKETS + _BUCKETS) % _BUCKETS)
    j = raw.join(firsts, "person_id", how="left")
    counts = (
        j.group_by(
            "bucket",
            "prev_event",
            "event",
            first=j.seq == 1,
            conv=(j.seq == j.first_goal_seq).fill_null(False),
            pre=(j.first_goal_seq.isnull() | (j.seq <= j.first_goal_seq)),
            ended=(j.first_goal_seq.isnull() & (j.seq == j.max_seq)).fill_null(False),
        )
        .agg(n=_.count())
        .to_pandas()
    )
    names = {name: plan.touchpoints[i].name for name, i in plan.name_tp.items()}

    def state(col: pd.Series) -> pd.Series:
        return col.map(names).fillna(OTHER)

    moves = pd.DataFrame(
        {
            "bucket": counts.bucket,
            "src": state(counts.prev_event).where(~counts["first"].astype(bool), START),
            "dst": state(counts.event).where(~counts.conv.astype(bool), CONVERT),
            "journey": counts.pre.astype(bool).map({True: "pre", False: "post"}),
            "n": counts.n,
        }
    )
    ends = counts[counts.ended.astype(bool)]
    exits = pd.DataFrame(
        {
            "bucket": ends.bucket,
            "src": state(ends.event),
            "dst": EXIT,
            "journey": "pre",
            "n": ends.n,
        }
    )
    both = pd.concat([moves, exits], ignore_index=True)
    both = both.dropna(subset=["bucket"]).astype({"bucket": "int64", "n": "int64"})
    return both.groupby(["bucket", "src", "dst", "journey"], as_index=False).n.sum()
