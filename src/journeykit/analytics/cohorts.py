"""Retention, churn, lifecycle and stickiness.

Periods are calendar buckets (``day``; ``week`` starting Monday; ``month``) in UTC. A
person's *period k* is the bucket k after the bucket of their cohort event.

- **Cohorts** start at each person's first event matching the cohort definition:
  ``"first_event"`` (any event), ``"first_purchase"`` (a conversion event: ``purchase_event``,
  else the journey spec's conversions), an event name, or a filter (text or
  :class:`~journeykit.analytics.filters.Filter`).
- **Returning** activity is any later event (``seq`` after the cohort event) matching
  ``returning`` (default: any event). So period 0 counts people who came back within their
  cohort's own bucket, and is not 100% by definition.
- **n_period** retention: the share of the cohort active in period k.
  **unbounded** (rolling) retention: active in period k or any later period.
- Periods that have not started by the last event of the workspace are left out; the
  ``complete`` column says whether a period had fully elapsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from journeykit.analytics._common import (
    US_PER_DAY,
    Grain,
    TableSource,
    check_choice,
    day_index,
    engine,
    epoch_us,
    left_join,
    parse_duration,
    parse_time,
    period_index,
    period_start,
    to_frame,
)
from journeykit.analytics.breakdown import By, parse_by
from journeykit.analytics.filters import Filter, parse_filter, person_table
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd
    import plotly.graph_objects as go

Kind = Literal["n_period", "unbounded"]
#: The cohort / activity definition that means "a conversion event".
FIRST_PURCHASE = "first_purchase"


def purchase_events(
    ws: TableSource, given: str | Sequence[str] | None, *definitions: Any
) -> tuple[str, ...] | None:
    """The conversion events, when one of ``definitions`` is ``first_purchase`` (else ``None``).

    ``given`` wins; otherwise the workspace's journey spec names them (``NoSpec`` without one).
    """
    if not any(isinstance(d, str) and d == FIRST_PURCHASE for d in definitions):
        return None
    from journeykit.analytics.vocabulary import conversion_events

    return conversion_events(ws, given)


def event_predicate(
    t: ibis.Table, spec: str | Filter | None, *, purchase: Sequence[str] | None
) -> Any:
    """Events matching a cohort / activity definition (``None``: every event).

    ``purchase`` names the conversion events ``first_purchase`` means (see
    :func:`purchase_events`).
    """
    if spec is None or spec in ("first_event", "any"):
        return t.seq.notnull()
    if spec == FIRST_PURCHASE:
        if not purchase:
            raise InputError("name the conversion events for first_purchase", field="cohort")
        return t.event.isin(list(purchase))
    if isinstance(spec, Filter) or (isinstance(spec, str) and _looks_like_filter(spec)):
        flt = parse_filter(spec)
        if flt.needs_people:
            raise InputError("cohort and activity conditions read events only", field="cohort")
        return flt.predicate(t)
    return t.event == spec


def _looks_like_filter(text: str) -> bool:
    return any(op in text for op in ("==", "!=", "<", ">", " in ", "(", " is "))


def _base_events(ws: TableSource, segment: Any) -> ibis.Table:
    ev = ws.table("events")
    if segment is not None:
        people = person_table(ws, segment).rename(_s_person_id="person_id")
        ev = ev.semi_join(people, ev.person_id == people._s_person_id)
    return ev


@dataclass(frozen=True)
class Retention:
    """A retention table.

    Attributes:
        table: one row per group, cohort and period: ``cohort`` (first day of the cohort's
            bucket), ``period`` (0, 1, ...), ``cohort_size``, ``retained``, ``rate``,
            ``complete``.
        grain, kind: the period length and the retention kind.
        group_columns: breakdown columns (first in ``table``).
    """

    table: pd.DataFrame
    grain: str
    kind: str
    group_columns: tuple[str, ...]

    def matrix(self, values: str = "rate") -> pd.DataFrame:
        """Cohorts as rows, periods as columns (ungrouped tables only)."""
        if self.group_columns:
            raise InputError("matrix() needs a retention without breakdown", field="by")
        return self.table.pivot(index="cohort", columns="period", values=values)

    def curve(self) -> pd.DataFrame:
        """Retention by period over all cohorts that reached it (weighted by cohort size).

        Returns:
            ``[groups,] period, cohort_size, retained, rate``.
        """
        g = [*self.group_columns, "period"]
        out = self.table.groupby(g, as_index=False)[["cohort_size", "retained"]].sum()
        out["rate"] = out["retained"] / out["cohort_size"]
        return out

    def figure(self, **kwargs: Any) -> go.Figure:
        """A heatmap (see :func:`journeykit.analytics.figures.retention_heatmap`)."""
        from journeykit.analytics.figures import retention_heatmap

        return retention_heatmap(self, **kwargs)


def retention(
    ws: TableSource,
    *,
    cohort: str | Filter = "first_event",
    returning: str | Filter | None = None,
    grain: Grain = "week",
    periods: int = 8,
    kind: Kind = "n_period",
    by: By = None,
    segment: Any = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    purchase_event: str | Sequence[str] | None = None,
) -> Retention:
    """Cohort retention (see the module documentation for the definitions).

    Args:
        ws: the workspace.
        cohort: what starts a cohort: ``first_event``, ``first_purchase``, an event name or
            a filter.
        returning: what counts as coming back (default: any event).
        grain: ``day``, ``week`` or ``month``.
        periods: periods after the cohort's own (0..periods).
        kind: ``n_period`` or ``unbounded``.
        by: a breakdown; event fields and time buckets read the cohort event.
        segment: only people in this segment.
        start, end: only cohort events in ``[start, end)``.
        purchase_event: the event(s) ``first_purchase`` means (default: the journey spec's
            conversion events).

    Raises:
        NoSpec: ``first_purchase`` is asked for, no ``purchase_event`` is given and the
            workspace has no journey spec.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": "2026-01-05T10:00:00", "event": "A", "user_id": "a"},
    ...               {"ts": "2026-01-13T10:00:00", "event": "A", "user_id": "a"}])
    >>> retention(ws, periods=1).table[["period", "retained"]].values.tolist()
    [[0, 0], [1, 1]]
    """
    import ibis

    check_choice(grain, ("day", "week", "month"), "grain")
    check_choice(kind, ("n_period", "unbounded"), "kind")
    if periods < 0:
        raise InputError("periods must be zero or more", field="periods")
    backend = engine(ws)
    breakdown = parse_by(by)
    groups = breakdown.columns
    purchase = purchase_events(ws, purchase_event, cohort, returning)
    ev = _base_events(ws, segment)
    ev = ev.mutate(_us=epoch_us(ev.ts, backend))
    hits = ev.filter(event_predicate(ev, cohort, purchase=purchase))
    first = hits.group_by("person_id").agg(
        _cseq=hits.seq.min(), _cus=hits._us.min(), _cts=hits.ts.min()
    )
    lo, hi = parse_time(start, field="start"), parse_time(end, field="end")
    if lo is not None:
        first = first.filter(first._cts >= lo)
    if hi is not None:
        first = first.filter(first._cts < hi)
    first = first.mutate(_c=period_index(first._cts, first._cus, grain))
    if groups:
        first = breakdown.apply(ws, first.mutate(_anchor_seq=first._cseq), hits)
    ret = ev.filter(event_predicate(ev, returning, purchase=purchase))
    ret = ret.select("person_id", "seq", _p=period_index(ret.ts, ret._us, grain))
    ret = ret.rename(_r_person_id="person_id")
    j = first.join(ret, first.person_id == ret._r_person_id)
    j = j.filter(j.seq > j._cseq).mutate(k=j._p - j._c)
    if kind == "n_period":
        j = j.filter(j.k <= periods)
    sizes = to_frame(first.group_by([*groups, "_c"]).agg(cohort_size=first.count()))
    if kind == "n_period":
        active = j.select(*groups, "_c", "person_id", "k").distinct()
        counts = to_frame(active.group_by([*groups, "_c", "k"]).agg(retained=active.count()))
    else:
        # a return after the last period shown still counts as retained in every period
        last = j.group_by([*groups, "_c", "person_id"]).agg(k=j.k.max())
        last = last.mutate(k=ibis.least(last.k, periods))
        counts = to_frame(last.group_by([*groups, "_c", "k"]).agg(retained=last.count()))
    last_idx = to_frame(ev.agg(_u=ev._us.max()))
    table = _assemble(sizes, counts, groups, periods, kind, grain, last_idx)
    table = breakdown.finish(table)
    return Retention(table=table, grain=grain, kind=kind, group_columns=tuple(groups))


def _last_period(last: pd.DataFrame, grain: Grain) -> int | None:
    """Bucket index of the workspace's latest event."""
    u = last["_u"].iloc[0]
    if u is None or u != u:
        return None
    days = int(u) // US_PER_DAY
    if grain == "day":
        return days
    if grain == "week":
        return (days + 3) // 7
    ts = datetime(1970, 1, 1) + timedelta(days=days)
    return (ts.year - 1970) * 12 + ts.month - 1


def _assemble(
    sizes: pd.DataFrame,
    counts: pd.DataFrame,
    groups: list[str],
    periods: int,
    kind: str,
    grain: Grain,
    last: pd.DataFrame,
) -> pd.DataFrame:
    import pandas as pd

    last_idx = _last_period(last, grain)
    key = [*groups, "_c"]
    rows = []
    lookup: dict[tuple[Any, ...], int] = {}
    for d in counts.to_dict("records"):
        lookup[(*[d[g] for g in key], int(d["k"]))] = int(d["retained"])
    for d in sizes.to_dict("records"):
        c = int(d["_c"])
        base = tuple(d[g] for g in key)
        running = 0
        cells = []
        for k in range(periods, -1, -1):
            running += lookup.get((*base, k), 0)
            cells.append((k, running))
        cum = dict(cells)
        for k in range(periods + 1):
            if last_idx is not None and c + k > last_idx:
                break
            retained = cum[k] if kind == "unbounded" else lookup.get((*base, k), 0)
            rows.append(
                {
                    **{g: d[g] for g in groups},
                    "cohort": period_start(c, grain),
                    "period": k,
                    "cohort_size": int(d["cohort_size"]),
                    "retained": int(retained),
                    "rate": retained / int(d["cohort_size"]),
                    "complete": last_idx is not None and c + k < last_idx,
                }
            )
    cols = [*groups, "cohort", "period", "cohort_size", "retained", "rate", "complete"]
    table = pd.DataFrame(rows, columns=cols)
    return table.sort_values([*groups, "cohort", "period"], kind="stable").reset_index(drop=True)


def _activity_days(ws: TableSource, activity: str | Filter | None, segment: Any) -> ibis.Table:
    """Distinct (person_id, day) of activity (day = days since 1970-01-01)."""
    backend = engine(ws)
    ev = _base_events(ws, segment)
    ev = ev.filter(event_predicate(ev, activity, purchase=purchase_events(ws, None, activity)))
    return ev.select("person_id", day=day_index(epoch_us(ev.ts, backend))).distinct()


def _boundaries(first_day: int, last_day: int, grain: Grain) -> list[int]:
    """Day indexes where periods start, from the bucket of ``first_day`` to after ``last_day``."""
    epoch = date(1970, 1, 1)
    out = []
    d = epoch + timedelta(days=first_day)
    if grain == "week":
        d -= timedelta(days=d.weekday())
    elif grain == "month":
        d = d.replace(day=1)
    while True:
        idx = (d - epoch).days
        out.append(idx)
        if idx > last_day:
            break
        if grain == "day":
            d += timedelta(days=1)
        elif grain == "week":
            d += timedelta(days=7)
        else:
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def churn(
    ws: TableSource,
    *,
    inactivity: str | timedelta = "30d",
    grain: Grain = "week",
    activity: str | Filter | None = None,
    segment: Any = None,
) -> pd.DataFrame:
    """Churn per period with a configurable inactivity definition.

    A person is *active* at a moment if they did an activity event in the ``inactivity``
    before it (whole days). A period's churned people were active at its start and are not
    at its end; churn rate = churned / active at start. Only periods that ended by the
    latest event's day are reported.

    Returns:
        ``period`` (first day), ``active_start``, ``churned``, ``churn_rate``,
        ``retention_rate``.
    """
    import ibis
    import pandas as pd

    check_choice(grain, ("day", "week", "month"), "grain")
    td = parse_duration(inactivity, field="inactivity")
    assert td is not None
    inactive_days = max(1, round(td.total_seconds() / 86_400))
    days = _activity_days(ws, activity, segment)
    span = to_frame(days.agg(lo=days.day.min(), hi=days.day.max()))
    cols = ["period", "active_start", "churned", "churn_rate", "retention_rate"]
    if span.empty or span["lo"].isna().iloc[0]:
        return pd.DataFrame(columns=cols)
    lo, hi = int(span["lo"].iloc[0]), int(span["hi"].iloc[0])
    bounds = _boundaries(lo, hi, grain)
    b = ibis.memtable(pd.DataFrame({"i": range(len(bounds)), "b": bounds}))
    # active at boundary b: an activity day d with b - inactivity <= d < b
    act = days.join(b, [days.day >= b.b - inactive_days, days.day < b.b])
    act = act.select("person_id", "i").distinct()
    nxt = act.select(_n_person_id=act.person_id, _n_i=act.i - 1)
    churned = act.anti_join(nxt, [act.person_id == nxt._n_person_id, act.i == nxt._n_i])
    base = to_frame(act.group_by("i").agg(active_start=act.count()))
    lost = to_frame(churned.group_by("i").agg(churned=churned.count()))
    df = base.merge(lost, on="i", how="left").fillna({"churned": 0})
    # period i runs from bound i to bound i + 1, which must lie within the data
    ok = {i for i in range(len(bounds) - 1) if bounds[i + 1] <= hi + 1}
    df = df[df["i"].isin(ok)]
    df = df.sort_values("i")
    epoch = date(1970, 1, 1)
    out = pd.DataFrame(
        {
            "period": [epoch + timedelta(days=bounds[int(i)]) for i in df["i"]],
            "active_start": df["active_start"].astype("int64").to_numpy(),
            "churned": df["churned"].astype("int64").to_numpy(),
        }
    )
    out["churn_rate"] = out["churned"] / out["active_start"]
    out["retention_rate"] = 1 - out["churn_rate"]
    return out[cols].reset_index(drop=True)


def lifecycle(
    ws: TableSource,
    *,
    grain: Grain = "week",
    activity: str | Filter | None = None,
    segment: Any = None,
) -> pd.DataFrame:
    """Active people per period by lifecycle state.

    ``new``: first active period ever; ``returning``: active in the previous period too;
    ``resurrecting``: active, not in the previous period, but before; ``dormant``: active in
    the previous period but not in this one (a positive count).

    Returns:
        ``period``, ``new``, ``returning``, ``resurrecting``, ``dormant``, ``active``.
    """
    import pandas as pd

    check_choice(grain, ("day", "week", "month"), "grain")
    backend = engine(ws)
    ev = _base_events(ws, segment)
    ev = ev.filter(event_predicate(ev, activity, purchase=purchase_events(ws, None, activity)))
    p = ev.select("person_id", p=period_index(ev.ts, epoch_us(ev.ts, backend), grain)).distinct()
    first = p.group_by("person_id").agg(f=p.p.min())
    prev = p.select(_q_person_id=p.person_id, _q=p.p + 1)
    t = left_join(p, first, ["person_id"])
    t = t.left_join(prev, [t.person_id == prev._q_person_id, t.p == prev._q])
    state = t.mutate(
        new=(t.p == t.f).cast("int64"),
        returning=((t.p != t.f) & t._q.notnull()).cast("int64"),
        resurrecting=((t.p != t.f) & t._q.isnull()).cast("int64"),
    )
    counts = to_frame(
        state.group_by("p").agg(
            new=state.new.sum(),
            returning=state.returning.sum(),
            resurrecting=state.resurrecting.sum(),
            active=state.count(),
        )
    )
    gone = p.select(_g_person_id=p.person_id, _g=p.p + 1)
    dormant = gone.anti_join(p, [gone._g_person_id == p.person_id, gone._g == p.p])
    dorm = to_frame(dormant.group_by(p=dormant._g).agg(dormant=dormant.count()))
    cols = ["period", "new", "returning", "resurrecting", "dormant", "active"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    last = int(counts["p"].max())
    df = counts.merge(dorm[dorm["p"] <= last], on="p", how="outer").fillna(0)
    df = df.sort_values("p")
    out = pd.DataFrame({"period": [period_start(int(i), grain) for i in df["p"]]})
    for c in cols[1:]:
        out[c] = df[c].astype("int64").to_numpy()
    return out


def stickiness(
    ws: TableSource,
    *,
    window_days: int = 30,
    activity: str | Filter | None = None,
    segment: Any = None,
) -> pd.DataFrame:
    """Daily stickiness: DAU over the people active in the trailing ``window_days`` (MAU).

    Returns:
        ``day``, ``dau``, ``mau``, ``stickiness`` (dau / mau), from the first active day
        to the last.
    """
    import ibis
    import numpy as np
    import pandas as pd

    if window_days < 1:
        raise InputError("window_days must be at least 1", field="window_days")
    days = _activity_days(ws, activity, segment)
    w = ibis.window(group_by="person_id", order_by="day")
    d = days.mutate(_prev=days.day.lag().over(w))
    # each active day covers [day, day + window - 1]; count a person once per covered day
    start = ibis.ifelse(d._prev.isnull(), d.day, ibis.greatest(d.day, d._prev + window_days))
    d = d.mutate(_s=start, _e=d.day + window_days)
    dau = to_frame(d.group_by("day").agg(dau=d.count()))
    cols = ["day", "dau", "mau", "stickiness"]
    if dau.empty:
        return pd.DataFrame(columns=cols)
    cov = d.filter(d._s < d._e)
    plus = to_frame(cov.group_by(at=cov._s).agg(n=cov.count()))
    minus = to_frame(cov.group_by(at=cov._e).agg(n=cov.count()))
    lo, hi = int(dau["day"].min()), int(dau["day"].max())
    idx = np.arange(lo, hi + 1)
    delta = np.zeros(len(idx) + window_days + 1, dtype=np.int64)
    for frame, sign in ((plus, 1), (minus, -1)):
        for at, n in zip(frame["at"], frame["n"], strict=True):
            if lo <= at <= hi:
                delta[int(at) - lo] += sign * int(n)
    mau = np.cumsum(delta)[: len(idx)]
    dau_full = pd.Series(0, index=idx, dtype="int64")
    dau_full.loc[dau["day"].astype("int64").to_numpy()] = dau["dau"].astype("int64").to_numpy()
    epoch = date(1970, 1, 1)
    out = pd.DataFrame(
        {
            "day": [epoch + timedelta(days=int(i)) for i in idx],
            "dau": dau_full.to_numpy(),
            "mau": mau,
        }
    )
    out["stickiness"] = out["dau"] / out["mau"].where(out["mau"] > 0)
    return out[cols]
