"""Flows and paths: transitions, step matrices, next/previous steps, variants, Sankey flows.

Every analytic here reads journey order from the columns the loader keeps (``seq``,
``prev_event``, ``prev_ts``), so transitions and step matrices are scans and group-bys. Only
sessions (``per="session"``) and collapsed repeats with positions need one window pass.

Shared options:

- ``per``: a journey is a person's whole history, or one session (split by ``session_gap``
  of inactivity); transitions never cross sessions.
- ``collapse_repeats``: consecutive repeats of one event count once (A A B -> A B).
- ``top_events`` / ``min_share``: events done by fewer people are grouped as ``(other)``
  (applied before collapsing, so ``(other) (other)`` collapses too).
- ``segment``: only people in this segment.

Agreement with funnels: for a step anchored at its first occurrence, ``next_steps`` at offset
1 counts exactly the units a strict two-step funnel converts; an ordered funnel's conversions
equal the people whose :func:`variants` path has step 1 followed later by step 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from journeykit.analytics._common import (
    END,
    OTHER,
    START,
    US_PER_SECOND,
    Per,
    TableSource,
    check_choice,
    duration_us,
    engine,
    epoch_us,
    left_join,
    to_frame,
    unit_keys,
    with_sessions,
)
from journeykit.analytics.filters import person_table
from journeykit.analytics.vocabulary import session_gap as vocab_session_gap
from journeykit.errors import InputError

if TYPE_CHECKING:
    from datetime import timedelta

    import ibis
    import pandas as pd
    import plotly.graph_objects as go

Direction = Literal["next", "previous"]


@dataclass(frozen=True)
class JourneyOptions:
    """How journeys are cut and simplified (see the module documentation)."""

    per: Per = "person"
    session_gap: str | timedelta | float | None = None  # None: the journey spec's (else 30m)
    collapse_repeats: bool = False
    top_events: int | None = None
    min_share: float | None = None
    segment: Any = None


def journeys(ws: TableSource, opts: JourneyOptions, *, positions: bool = False) -> ibis.Table:
    """Events in journey order: unit keys, ``seq``, ``event`` (grouped), ``prev`` (null at a
    journey's start), ``raw_event``, ``_us``, ``_pus`` and, with ``positions``, ``pos``
    (1-based place in the unit's simplified journey)."""
    import ibis

    check_choice(opts.per, ("person", "session"), "per")
    backend = engine(ws)
    ev = ws.table("events")
    if opts.segment is not None:
        people = person_table(ws, opts.segment).rename(_s_person_id="person_id")
        ev = ev.semi_join(people, ev.person_id == people._s_person_id)
    us = epoch_us(ev.ts, backend)
    pus = epoch_us(ev.prev_ts, backend)
    if opts.per == "session":
        gap = duration_us(vocab_session_gap(ws, opts.session_gap), field="session_gap") or 0
        ev = with_sessions(ev, gap, backend)
        at_start = ev.seq == ev.session_start
        prev = ibis.ifelse(at_start, ibis.null("string"), ev.prev_event)
        pus = ibis.ifelse(at_start, ibis.null("int64"), epoch_us(ev.prev_ts, backend))
        us = epoch_us(ev.ts, backend)
    else:
        prev = ev.prev_event
    keys = unit_keys(opts.per)
    t = ev.select(*keys, "seq", raw_event=ev.event, event=ev.event, prev=prev, _us=us, _pus=pus)
    kept = _kept_events(ws, opts)
    if kept is not None:
        other = ibis.literal(OTHER)
        t = t.mutate(
            event=ibis.ifelse(t.event.isin(kept), t.event, other),
            prev=ibis.ifelse(t.prev.isnull() | t.prev.isin(kept), t.prev, other),
        )
    if opts.collapse_repeats:
        t = t.filter(t.prev.isnull() | (t.event != t.prev))
    if positions:
        if opts.per == "person" and not opts.collapse_repeats:
            t = t.mutate(pos=t.seq)
        else:
            w = ibis.window(group_by=keys, order_by="seq")
            t = t.mutate(pos=(ibis.row_number().over(w) + 1).cast("int64"))
    return t


def _kept_events(ws: TableSource, opts: JourneyOptions) -> list[str] | None:
    """The event names kept by ``top_events`` / ``min_share`` (``None``: keep all)."""
    if opts.top_events is None and opts.min_share is None:
        return None
    ev = ws.table("events")
    counts = to_frame(ev.group_by("event").agg(people=ev.person_id.nunique()))
    total = to_frame(ev.agg(n=ev.person_id.nunique()))["n"].iloc[0]
    counts = counts.sort_values(["people", "event"], ascending=[False, True])
    if opts.min_share is not None:
        counts = counts[counts["people"] >= opts.min_share * total]
    if opts.top_events is not None:
        counts = counts.head(int(opts.top_events))
    return sorted(counts["event"].tolist())


def _unit_id(t: ibis.Table, per: Per) -> Any:
    if per == "person":
        return t.person_id
    return t.person_id.concat(":", t.session.cast("string"))


def _anchor_pred(t: ibis.Table, anchor: Any) -> Any:
    """Events (of a journeys table) that match an anchor: an event name or a step."""
    from journeykit.analytics.funnels import as_step

    step = as_step(anchor)
    if step.where is None:
        names = step.event if isinstance(step.event, tuple) else (step.event,)
        return t.raw_event.isin(list(names))
    raise InputError(
        "anchors here are event names; use a funnel for conditions on properties",
        field="anchor",
    )


# --- transitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Transitions:
    """Transitions between consecutive events.

    Attributes:
        table: one row per (``source``, ``target``): ``transitions`` (how often),
            ``units`` (distinct people or sessions making it), ``probability`` (share of the
            source's outgoing transitions), ``median_seconds`` (time between the two events;
            ``units`` and ``median_seconds`` are filled with ``detail=True``).
            With ends, ``(start)`` and ``(end)`` stand for a journey's start and end.
    """

    table: pd.DataFrame

    def matrix(self, values: str = "probability") -> pd.DataFrame:
        """The transition matrix: sources as rows, targets as columns (missing = 0)."""
        if values not in ("probability", "transitions", "units"):
            raise InputError("values is probability, transitions or units", field="values")
        m = self.table.pivot(index="source", columns="target", values=values)
        return m.fillna(0.0)


def transition_matrix(
    ws: TableSource, *, include_ends: bool = False, detail: bool = False, **options: Any
) -> Transitions:
    """Count transitions between consecutive events (a scan over ``prev_event``).

    Args:
        ws: the workspace.
        include_ends: add ``(start) -> first event`` and ``last event -> (end)`` rows.
        detail: also count distinct ``units`` and the ``median_seconds`` of each transition
            (costs a distinct count and a median per pair; otherwise those columns are null).
        **options: :class:`JourneyOptions` fields (per, session_gap, collapse_repeats,
            top_events, min_share, segment).

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": f"2026-01-05T10:0{i}:00", "event": e, "user_id": "a"}
    ...               for i, e in enumerate(["A", "B", "A", "C"])])
    >>> transition_matrix(ws).table[["source", "target", "transitions"]].values.tolist()
    [['A', 'B', 1], ['A', 'C', 1], ['B', 'A', 1]]
    """
    opts = JourneyOptions(**options)
    t = journeys(ws, opts)
    inner = t.filter(t.prev.notnull())
    unit = _unit_id(inner, opts.per)
    metrics: dict[str, Any] = {"transitions": inner.count()}
    if detail:
        metrics["units"] = unit.nunique()
        gap = ((inner._us - inner._pus) / US_PER_SECOND).cast("float64")
        metrics["median_seconds"] = gap.median()
    q = inner.group_by(source=inner.prev, target=inner.event).agg(**metrics)
    frames = [to_frame(q)]
    if include_ends:
        frames += _ends(t, opts.per)
    import pandas as pd

    df = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    df["transitions"] = df["transitions"].astype("int64")
    if detail:
        df["units"] = df["units"].astype("int64")
    else:
        df["units"] = float("nan")
        df["median_seconds"] = float("nan")
    out_total = df.groupby("source")["transitions"].transform("sum")
    df["probability"] = df["transitions"] / out_total
    df = df.sort_values(["source", "target"]).reset_index(drop=True)
    cols = ["source", "target", "transitions", "units", "probability", "median_seconds"]
    return Transitions(df[cols])


def _ends(t: ibis.Table, per: Per) -> list[pd.DataFrame]:
    """(start) -> first and last -> (end) transition counts."""
    import ibis

    keys = unit_keys(per)
    starts = t.filter(t.prev.isnull())
    s = starts.group_by(target=starts.event).agg(transitions=starts.count())
    lasts = t.group_by(keys).agg(last=t.event.argmax(t.seq))
    e = lasts.group_by(source=lasts["last"]).agg(transitions=lasts.count())
    s_df = to_frame(s.mutate(source=ibis.literal(START)))
    e_df = to_frame(e.mutate(target=ibis.literal(END)))
    for df in (s_df, e_df):
        df["units"] = df["transitions"]
        df["median_seconds"] = float("nan")
    return [s_df, e_df]


@dataclass(frozen=True)
class FlowGraph:
    """A directly-follows graph.

    Attributes:
        nodes: ``event``, ``units`` (people or sessions doing it), ``events`` (occurrences).
        edges: the :class:`Transitions` table with ``(start)`` and ``(end)`` included.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame

    def figure(self, **kwargs: Any) -> go.Figure:
        """A readable graph (see :func:`journeykit.analytics.figures.graph_figure`)."""
        from journeykit.analytics.figures import graph_figure

        return graph_figure(self, **kwargs)


def flow_graph(ws: TableSource, **options: Any) -> FlowGraph:
    """The directly-follows graph: events as nodes, transitions with median times as edges."""
    opts = JourneyOptions(**options)
    edges = transition_matrix(ws, include_ends=True, detail=True, **options).table
    t = journeys(ws, opts)
    unit = _unit_id(t, opts.per)
    nodes = to_frame(t.group_by("event").agg(units=unit.nunique(), events=t.count()))
    nodes = nodes.sort_values(["units", "event"], ascending=[False, True]).reset_index(drop=True)
    return FlowGraph(nodes=nodes, edges=edges)


# --- positions -------------------------------------------------------------------------------


def _relative(
    ws: TableSource,
    opts: JourneyOptions,
    anchor: Any | None,
    lo: int,
    hi: int,
) -> tuple[ibis.Table, ibis.Expr]:
    """Events at positions ``lo..hi`` relative to the anchor (``rel`` 0 = the anchor's first
    occurrence; without an anchor ``rel`` is the 1-based position), and the unit count."""
    t = journeys(ws, opts, positions=True)
    keys = unit_keys(opts.per)
    if anchor is None:
        rel = t.mutate(rel=t.pos)
        total = rel.filter(rel.pos == 1).count()
    else:
        hits = t.filter(_anchor_pred(t, anchor))
        first = hits.group_by(keys).agg(_a=hits.pos.min())
        rel = left_join(t, first, keys)
        rel = rel.filter(rel._a.notnull()).mutate(rel=rel.pos - rel._a)
        total = first.count()
    return rel.filter(rel.rel >= lo, rel.rel <= hi), total


def step_matrix(
    ws: TableSource, *, max_steps: int = 10, anchor: Any | None = None, **options: Any
) -> pd.DataFrame:
    """Share of units at each event at each step of their journeys.

    Args:
        ws: the workspace.
        max_steps: how many steps to show.
        anchor: start counting at the first occurrence of this event (step 1) instead of at
            the journey's start.
        **options: :class:`JourneyOptions` fields.

    Returns:
        A DataFrame ``step`` (1-based), ``event``, ``units``, ``share`` (of all units; each
        step's shares sum to 1, units whose journey ended counting as ``(end)``).
    """
    import pandas as pd

    if max_steps < 1:
        raise InputError("max_steps must be at least 1", field="max_steps")
    opts = JourneyOptions(**options)
    lo, hi = (1, max_steps) if anchor is None else (0, max_steps - 1)
    rel, total_expr = _relative(ws, opts, anchor, lo, hi)
    q = rel.group_by(step=rel.rel, event=rel.event).agg(units=rel.count())
    df = to_frame(q)
    total = int(total_expr.execute())
    if anchor is not None:
        df["step"] = df["step"] + 1
    rows = [df]
    at_step = df.groupby("step")["units"].sum() if not df.empty else pd.Series(dtype="int64")
    ended = [
        {"step": k, "event": END, "units": total - int(at_step.get(k, 0))}
        for k in range(1, max_steps + 1)
        if total - int(at_step.get(k, 0)) > 0
    ]
    if ended:
        rows.append(pd.DataFrame(ended))
    out = pd.concat(rows, ignore_index=True)
    out["units"] = out["units"].astype("int64")
    out["step"] = out["step"].astype("int64")
    out["share"] = out["units"] / total if total else float("nan")
    out = out.sort_values(["step", "units", "event"], ascending=[True, False, True])
    return out.reset_index(drop=True)


def next_steps(
    ws: TableSource,
    anchor: Any,
    *,
    steps: int = 3,
    direction: Direction = "next",
    **options: Any,
) -> pd.DataFrame:
    """What units do right after (or before) the first occurrence of an event.

    Returns:
        A DataFrame ``offset`` (1..steps, or -1..-steps backwards), ``event``, ``units``,
        ``share`` (of the units that did the anchor); ``(end)`` / ``(start)`` count the units
        with no event there.
    """
    import pandas as pd

    check_choice(direction, ("next", "previous"), "direction")
    if steps < 1:
        raise InputError("steps must be at least 1", field="steps")
    opts = JourneyOptions(**options)
    lo, hi = (1, steps) if direction == "next" else (-steps, -1)
    rel, total_expr = _relative(ws, opts, anchor, lo, hi)
    df = to_frame(rel.group_by(offset=rel.rel, event=rel.event).agg(units=rel.count()))
    total = int(total_expr.execute())
    at = df.groupby("offset")["units"].sum() if not df.empty else pd.Series(dtype="int64")
    offsets = range(1, steps + 1) if direction == "next" else range(-1, -steps - 1, -1)
    filler = END if direction == "next" else START
    extra = [
        {"offset": k, "event": filler, "units": total - int(at.get(k, 0))}
        for k in offsets
        if total - int(at.get(k, 0)) > 0
    ]
    out = pd.concat([df, pd.DataFrame(extra)], ignore_index=True) if extra else df
    if out.empty:
        return pd.DataFrame(columns=["offset", "event", "units", "share"])
    out["offset"] = out["offset"].astype("int64")
    out["units"] = out["units"].astype("int64")
    out["share"] = out["units"] / total if total else float("nan")
    key = out["offset"].abs()
    out = out.assign(_k=key).sort_values(["_k", "units", "event"], ascending=[True, False, True])
    return out.drop(columns="_k").reset_index(drop=True)


# --- variants --------------------------------------------------------------------------------


def variants(
    ws: TableSource,
    *,
    goal: str | None = None,
    top: int | None = 20,
    max_length: int | None = None,
    separator: str = " > ",
    **options: Any,
) -> pd.DataFrame:
    """The most common whole journeys (path variants), with counts and conversion.

    Args:
        ws: the workspace.
        goal: a goal event; each journey is then cut before its first goal event and
            ``converted`` says whether the goal followed. Without a goal the whole journey
            is the variant and conversion is not computed.
        top: how many variants to return (most common first; ``None``: all).
        max_length: keep only the first events of each journey: journeys longer than that
            are one variant ending in ``…`` (merged before ``top`` is applied).
        separator: what joins event names in ``variant``.
        **options: :class:`JourneyOptions` fields (``collapse_repeats=True`` is usual).

    Returns:
        A DataFrame ``variant``, ``length`` (events in it: ``max_length`` for cut ones),
        ``units``, ``share`` (of all units), ``converted`` and ``conversion`` (with a goal),
        most units first (then by variant).
    """
    import ibis

    if max_length is not None and max_length < 1:
        raise InputError("max_length must be at least 1", field="max_length")
    if top is not None and top < 1:
        raise InputError("top must be at least 1 (or None for all)", field="top")
    opts = JourneyOptions(**options)
    keys = unit_keys(opts.per)
    need_pos = max_length is not None and (opts.per == "session" or opts.collapse_repeats)
    t = journeys(ws, opts, positions=need_pos)
    keep = t.seq.notnull()
    if goal is not None:
        g = t.filter(t.raw_event == goal)
        g = g.group_by(keys).agg(_g=g.seq.min())
        t = left_join(t, g, keys)
        keep = t._g.isnull() | (t.seq < t._g)
    pos = t.pos if need_pos else t.seq
    within = keep & (pos <= max_length) if max_length is not None else keep
    item = ibis.struct({"seq": t.seq, "event": t.event})
    per_unit = t.group_by(keys).agg(
        _items=item.collect(where=within),
        length=keep.cast("int64").sum(),
        converted=(t._g.notnull() if goal is not None else t.seq.isnull()).any(),
    )
    path = per_unit._items.sort().map(lambda s: s.event).join(separator)
    per_unit = per_unit.mutate(variant=path.fill_null(""))
    if max_length is not None:
        # journeys cut after max_length events are one variant however they went on: merge
        # them before ranking, so top counts whole variants
        cut = per_unit.length > max_length
        per_unit = per_unit.mutate(
            variant=ibis.ifelse(cut, per_unit.variant.concat(separator + "…"), per_unit.variant),
            length=ibis.ifelse(cut, ibis.literal(max_length, "int64"), per_unit.length),
        )
    counts = per_unit.group_by("variant", "length").agg(
        units=per_unit.count(), converted=per_unit.converted.cast("int64").sum()
    )
    total = per_unit.count()
    ordered = counts.order_by([ibis.desc("units"), "variant", "length"])
    df = to_frame(ordered.limit(top) if top else ordered)
    n = int(total.execute())
    df["variant"] = df["variant"].where(df["variant"] != "", "(none)")
    df["share"] = df["units"] / n if n else float("nan")
    if goal is not None:
        df["conversion"] = df["converted"] / df["units"]
        cols = ["variant", "length", "units", "share", "converted", "conversion"]
    else:
        cols = ["variant", "length", "units", "share"]
    return df[cols].reset_index(drop=True)


# --- Sankey flows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Flows:
    """Layered flows for a Sankey diagram.

    Attributes:
        links: ``step`` (the link goes from step to step + 1), ``source``, ``target``,
            ``units``, ``share`` (of all units). Targets ``(end)`` close journeys.
        total: units in the flow (people or sessions; with an anchor, those who did it).
        anchor: the anchor event, if any, and the direction.
    """

    links: pd.DataFrame
    total: int
    anchor: str | None
    direction: str

    def figure(self, **kwargs: Any) -> go.Figure:
        """A Sankey diagram (see :func:`journeykit.analytics.figures.sankey_figure`)."""
        from journeykit.analytics.figures import sankey_figure

        return sankey_figure(self, **kwargs)


def flows(
    ws: TableSource,
    *,
    steps: int = 4,
    anchor: str | None = None,
    direction: Direction = "next",
    max_nodes: int = 8,
    **options: Any,
) -> Flows:
    """Flows through the first ``steps`` events of journeys (or around an anchor event).

    At each step only the ``max_nodes`` most frequent events keep their name; the rest are
    ``(other)``, so the diagram stays readable with hundreds of event names.
    """
    import pandas as pd

    check_choice(direction, ("next", "previous"), "direction")
    if steps < 2:
        raise InputError("steps must be at least 2", field="steps")
    opts = JourneyOptions(**options)
    if anchor is None:
        lo, hi = 1, steps
    else:
        lo, hi = (0, steps - 1) if direction == "next" else (-(steps - 1), 0)
    rel, total_expr = _relative(ws, opts, anchor, lo, hi)
    nodes = to_frame(rel.group_by(layer=rel.rel, event=rel.event).agg(units=rel.count()))
    inner = rel.filter(rel.rel > lo)
    links = to_frame(
        inner.group_by(layer=inner.rel, source=inner.prev, target=inner.event).agg(
            units=inner.count()
        )
    )
    total = int(total_expr.execute())
    # group rare events per layer
    keep: dict[int, set[str]] = {}
    for layer, grp in nodes.groupby("layer"):
        top = grp.sort_values(["units", "event"], ascending=[False, True]).head(max_nodes)
        keep[int(layer)] = set(top["event"])

    def name(layer: int, event: str) -> str:
        return event if event in keep.get(layer, set()) else OTHER

    if not links.empty:
        links["source"] = [
            name(int(k) - 1, s) for k, s in zip(links["layer"], links["source"], strict=True)
        ]
        links["target"] = [
            name(int(k), s) for k, s in zip(links["layer"], links["target"], strict=True)
        ]
        links = links.groupby(["layer", "source", "target"], as_index=False)["units"].sum()
    nodes["event"] = [name(int(k), e) for k, e in zip(nodes["layer"], nodes["event"], strict=True)]
    nodes = nodes.groupby(["layer", "event"], as_index=False)["units"].sum()
    ends = []
    if direction == "next" or anchor is None:
        out_sum = links.groupby(["layer", "source"])["units"].sum() if not links.empty else {}
        for row in nodes.itertuples():
            if row.layer >= hi:
                continue
            gone = int(row.units) - int(out_sum.get((row.layer + 1, row.event), 0))
            if gone > 0:
                ends.append(
                    {"layer": row.layer + 1, "source": row.event, "target": END, "units": gone}
                )
    if ends:
        links = pd.concat([links, pd.DataFrame(ends)], ignore_index=True)
    if links.empty:
        links = pd.DataFrame(columns=["layer", "source", "target", "units"])
    base = lo if anchor is not None else 1
    links["step"] = (links["layer"].astype("int64") - 1 - base + 1).astype("int64")
    links["units"] = links["units"].astype("int64")
    links["share"] = links["units"] / total if total else float("nan")
    links = links.sort_values(
        ["step", "units", "source", "target"], ascending=[True, False, True, True]
    )
    return Flows(
        links=links[["step", "source", "target", "units", "share"]].reset_index(drop=True),
        total=total,
        anchor=anchor,
        direction=direction,
    )
