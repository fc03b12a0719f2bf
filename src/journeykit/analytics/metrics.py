"""Journey KPIs for a date range and a segment.

Definitions (range ``[start, end)``, default the whole data; ``segment`` restricts people).
A *purchase* is a conversion event and its value the revenue field, both named by the
workspace's journey spec unless given (``purchase_event``, ``revenue_field``):

- **active**: people with an event in the range. **customers**: people with a purchase in it.
- **overall conversion**: customers / active.
- **stage conversion**: an ordered funnel whose steps are the stages (each stage matches any
  of its events; default: the spec's stages and the events of the touchpoints that move people
  into them), attempts starting in the range; see :func:`journeykit.analytics.funnels.funnel`.
- **new customers**: people whose first purchase ever falls in the range.
- **CAC by channel**: the range's spend on a channel / the new customers credited to it.
  The credit goes to one marketing touch: a touch event (the spec's marketing touches, its
  channel read from the spec's channel field) on a channel that has spend; without named
  touches, any event on a channel that has spend. With
  ``attribution="first_touch"`` the person's earliest touch (before or at the first purchase),
  with ``"last_touch"`` the latest touch at or before the first purchase. New customers with
  no touch are credited to ``(none)``. Spend is not split by segment.
- **average order value**: revenue / orders in the range. **purchase frequency**: orders /
  customers in the range.
- **historical CLV**: mean revenue, from their first purchase to the end of the range, of
  the new customers.
- **time to first purchase**: median days from a new customer's first event to their first
  purchase.
- **churn rate**: of the people active in the ``inactivity`` before ``start``, the share with
  no activity in the ``inactivity`` before ``end``; **retention rate** = 1 - churn rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from journeykit.analytics import vocabulary as vocab
from journeykit.analytics._common import (
    US_PER_DAY,
    TableSource,
    check_choice,
    engine,
    epoch_us,
    left_join,
    parse_duration,
    parse_time,
    to_frame,
)
from journeykit.analytics.cohorts import event_predicate, purchase_events
from journeykit.analytics.filters import person_table
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd

Attribution = Literal["first_touch", "last_touch"]


@dataclass(frozen=True)
class Kpis:
    """KPIs of one range and segment.

    Attributes:
        table: ``metric``, ``value``, ``description`` (one row per KPI).
        stages: ``stage``, ``units``, ``conversion`` (from the previous stage),
            ``conversion_from_start`` (empty without stages).
        cac: ``channel``, ``spend``, ``new_customers``, ``cac``.
        start, end: the range used.
    """

    table: pd.DataFrame
    stages: pd.DataFrame
    cac: pd.DataFrame
    start: datetime
    end: datetime

    def value(self, metric: str) -> float:
        """One KPI's value by name."""
        hit = self.table[self.table["metric"] == metric]
        if hit.empty:
            raise InputError(f"no KPI {metric!r}", field="metric")
        return float(hit["value"].iloc[0])


def kpis(
    ws: TableSource,
    *,
    stages: Mapping[str, Sequence[str]] | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    segment: Any = None,
    purchase_event: str | Sequence[str] | None = None,
    revenue_field: str | None = None,
    attribution: Attribution = "first_touch",
    inactivity: str | timedelta = "30d",
    activity: Any = None,
    touch_events: str | Sequence[str] | None = None,
    channel_field: str | None = None,
) -> Kpis:
    """Compute the journey KPIs (see the module documentation for each definition).

    Args:
        ws: the workspace.
        stages: ``{stage: [event names]}`` in journey order (default: the spec's stages).
        start, end: the range (default: all data).
        segment: only these people (a filter, or a table of ``person_id``).
        purchase_event: the purchase event(s) (default: the spec's conversion events).
        revenue_field: where a purchase's value is, ``revenue`` or ``properties.<key>``
            (default: the spec's).
        attribution: ``first_touch`` or ``last_touch`` for CAC.
        inactivity: how long without activity makes a person churned.
        activity: what counts as activity for churn (default: any event).
        touch_events: the marketing touches CAC credits (default: the spec's).
        channel_field: where a touch's channel is (default: the spec's).

    Raises:
        NoSpec: a name is left out and the workspace has no journey spec.
    """
    import pandas as pd

    check_choice(attribution, ("first_touch", "last_touch"), "attribution")
    purchases = vocab.conversion_events(ws, purchase_event)
    value_field = vocab.revenue_field(ws, revenue_field)
    spec = vocab.maybe_spec(ws)
    if stages is None and spec is not None:
        stages = spec_stages(spec)
    if touch_events is None and spec is not None:
        touch_events = spec.touch_events
    touches = vocab.names(touch_events, "touch_events") if touch_events else None
    channel_at = vocab.channel_field(ws, channel_field)
    backend = engine(ws)
    ev = ws.table("events")
    if segment is not None:
        people = person_table(ws, segment).rename(_s_person_id="person_id")
        ev = ev.semi_join(people, ev.person_id == people._s_person_id)
    ev = ev.mutate(
        _us=epoch_us(ev.ts, backend),
        _buy=ev.event.isin(list(purchases)),
        _value=vocab.field_number(ev, value_field),
    )
    lo, hi = _range(ev, start, end)
    in_range = ev.filter(ev.ts >= lo, ev.ts < hi)
    basics = to_frame(
        in_range.agg(
            active=in_range.person_id.nunique(),
            customers=in_range.person_id.nunique(where=in_range._buy),
            orders=in_range._buy.cast("int64").sum(),
            revenue=in_range._value.sum(where=in_range._buy).fill_null(0.0),
        )
    ).iloc[0]
    firsts = _first_purchases(ev)
    new = firsts.filter(firsts._fts >= lo, firsts._fts < hi)
    lifetime = ev.filter(ev._buy, ev.ts < hi)
    life = lifetime.group_by("person_id").agg(_rev=lifetime._value.sum())
    first_seen = ev.group_by("person_id").agg(_seen=ev._us.min())
    newc = left_join(left_join(new, life, ["person_id"]), first_seen, ["person_id"])
    nstats = to_frame(
        newc.agg(
            new_customers=newc.count(),
            clv=newc._rev.fill_null(0).mean(),
            ttfp=((newc._fus - newc._seen) / US_PER_DAY).cast("float64").median(),
        )
    ).iloc[0]
    churn_rate = _churn(ws, ev, lo, hi, inactivity, activity, purchase_event)
    active = int(basics["active"] or 0)
    customers = int(basics["customers"] or 0)
    n_orders = int(basics["orders"] or 0)
    revenue = float(basics["revenue"] or 0.0)
    rows = [
        ("active_people", active, "people with an event in the range"),
        ("customers", customers, "people with a purchase in the range"),
        ("orders", n_orders, "purchases in the range"),
        ("revenue", revenue, "revenue of the purchases in the range"),
        ("conversion_rate", _div(customers, active), "customers / active people"),
        ("new_customers", int(nstats["new_customers"] or 0), "first purchase ever in the range"),
        ("average_order_value", _div(revenue, n_orders), "revenue / orders"),
        ("purchase_frequency", _div(n_orders, customers), "orders / customers"),
        ("historical_clv", _num(nstats["clv"]), "mean revenue of new customers up to the end"),
        (
            "time_to_first_purchase_days",
            _num(nstats["ttfp"]),
            "median, first event to first purchase",
        ),
        ("churn_rate", churn_rate, f"active in the {inactivity} before start, not before end"),
        (
            "retention_rate",
            1 - churn_rate if churn_rate == churn_rate else float("nan"),
            "1 - churn rate",
        ),
    ]
    table = pd.DataFrame(rows, columns=["metric", "value", "description"])
    table["value"] = table["value"].astype("float64")
    stage_df = (
        _stages(ws, stages, lo, hi, segment)
        if stages
        else pd.DataFrame(columns=["stage", "units", "conversion", "conversion_from_start"])
    )
    cac = _cac(ws, ev, new, lo, hi, attribution, touches, channel_at)
    return Kpis(table=table, stages=stage_df, cac=cac, start=lo, end=hi)


def spec_stages(spec: Any) -> dict[str, list[str]]:
    """``{stage: [event names]}`` of a journey spec, in stage order: the events of the
    touchpoints that move a person into each stage (stages without one are left out)."""
    out: dict[str, list[str]] = {}
    for stage in spec.normalised().stages:
        events = sorted({e for tp in stage.touchpoints if tp.moves for e in tp.events})
        if events:
            out[stage.name] = events
    return out


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _num(v: Any) -> float:
    return float("nan") if v is None or v != v else float(v)


def _range(ev: ibis.Table, start: Any, end: Any) -> tuple[datetime, datetime]:
    lo, hi = parse_time(start, field="start"), parse_time(end, field="end")
    if lo is None or hi is None:
        span = to_frame(ev.agg(lo=ev.ts.min(), hi=ev.ts.max())).iloc[0]
        if lo is None:
            lo = span["lo"].to_pydatetime() if span["lo"] == span["lo"] else datetime(1970, 1, 1)
        if hi is None:
            top = span["hi"]
            hi = top.to_pydatetime() + timedelta(microseconds=1) if top == top else lo
    if hi < lo:
        raise InputError("end is before start", field="end")
    return lo, hi


def _first_purchases(ev: ibis.Table) -> ibis.Table:
    p = ev.filter(ev._buy)
    return p.group_by("person_id").agg(_fseq=p.seq.min(), _fus=p._us.min(), _fts=p.ts.min())


def _churn(
    ws: TableSource,
    ev: ibis.Table,
    lo: datetime,
    hi: datetime,
    inactivity: Any,
    activity: Any,
    purchase_event: Any,
) -> float:
    td = parse_duration(inactivity, field="inactivity")
    assert td is not None
    purchase = purchase_events(ws, purchase_event, activity)
    act = ev.filter(event_predicate(ev, activity, purchase=purchase))
    before = act.filter(act.ts >= lo - td, act.ts < lo).select("person_id").distinct()
    late = act.filter(act.ts >= hi - td, act.ts < hi).select(_l_person_id=act.person_id).distinct()
    base = before.count()
    gone = before.anti_join(late, before.person_id == late._l_person_id).count()
    n_base = int(base.execute())
    return int(gone.execute()) / n_base if n_base else float("nan")


def _stages(
    ws: TableSource,
    stages: Mapping[str, Sequence[str]],
    lo: datetime,
    hi: datetime,
    segment: Any,
) -> pd.DataFrame:
    from journeykit.analytics.funnels import Step, funnel

    steps = []
    for name, events in stages.items():
        names = tuple(events)
        if not names:
            raise InputError(f"stage {name!r} names no events", field="stages")
        steps.append(Step(event=names, name=str(name)))
    if len(steps) < 2:
        raise InputError("give at least two stages", field="stages")
    result = funnel(ws, steps, segment=segment, start=lo, end=hi)
    df = result.table.rename(columns={"name": "stage"})
    return df[["stage", "units", "conversion", "conversion_from_start"]]


def _cac(
    ws: TableSource,
    ev: ibis.Table,
    new: ibis.Table,
    lo: datetime,
    hi: datetime,
    attribution: str,
    touch_events: tuple[str, ...] | None,
    channel_field: str,
) -> pd.DataFrame:
    spend_t = ws.table("spend")
    spend = to_frame(
        spend_t.filter(spend_t.date >= lo.date(), spend_t.date < _end_date(hi))
        .group_by("channel")
        .agg(spend=spend_t.amount.sum())
    )
    channels = sorted(to_frame(spend_t.select("channel").distinct())["channel"].tolist())
    if channels:
        marked = ev.mutate(_touch_channel=vocab.field_text(ev, channel_field))
        keep = marked._touch_channel.isin(channels)
        if touch_events:
            keep &= marked.event.isin(list(touch_events))
        touches = marked.filter(keep).select(
            _t_person_id=marked.person_id, seq=marked.seq, channel=marked._touch_channel
        )
        j = new.join(touches, new.person_id == touches._t_person_id)
        j = j.filter(j.seq <= j._fseq)
        pick = j.channel.argmin(j.seq) if attribution == "first_touch" else j.channel.argmax(j.seq)
        credit = j.group_by("person_id").agg(channel=pick)
        credited = left_join(new.select("person_id"), credit, ["person_id"])
        counts = to_frame(credited.group_by("channel").agg(new_customers=credited.count()))
    else:
        counts = to_frame(new.agg(new_customers=new.count()))
        counts["channel"] = None
    counts["channel"] = counts["channel"].astype(object).where(counts["channel"].notna(), "(none)")
    df = spend.merge(counts, on="channel", how="outer")
    # a channel with no spend recorded (people credited to "(none)", or to a channel the
    # spend table does not list) has no acquisition cost to divide: its CAC is unknown, not 0
    priced = df["spend"].notna().tolist()
    df["spend"] = df["spend"].fillna(0.0).astype("float64")
    df["new_customers"] = df["new_customers"].fillna(0).astype("int64")
    df["cac"] = [
        s / n if n and known else float("nan")
        for s, n, known in zip(df["spend"], df["new_customers"], priced, strict=True)
    ]
    df = df[(df["spend"] > 0) | (df["new_customers"] > 0)]
    return df.sort_values("channel").reset_index(drop=True)[
        ["channel", "spend", "new_customers", "cac"]
    ]


def _end_date(hi: datetime) -> date:
    """The first day not in the range (a range ending mid-day includes that day's spend)."""
    d = hi.date()
    return d if hi == datetime(d.year, d.month, d.day) else d + timedelta(days=1)
