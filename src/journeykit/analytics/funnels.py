"""Funnels: how many people (or sessions) go through ordered steps, and where they drop.

Semantics (the same in every mode, and the ones the flows in :mod:`.paths` agree with):

- **Attempt.** A unit (a person, or a session when ``per="session"``) starts its attempt at
  the *first* event matching step 1 (in ``mode="any"``: the first event matching any step).
  Later occurrences of step 1 never start a new attempt. Journey order is the stored ``seq``
  (time, then event id), so two events at the same instant keep a fixed order.
- **ordered**: each later step is matched at its first occurrence after the previous matched
  step (greedy, earliest); other events may come between.
- **strict**: each later step must be the very next event of the unit's journey.
- **any**: steps may happen in any order; row *k* counts the units that did steps 1..*k*
  (each at least once) within the window from the attempt start. One event may serve two
  steps that describe it.
- **window** (overall): every matched step happens at most this long after the attempt start.
  **within** (per step): at most this long after the previous required step. Both inclusive.
- **Optional steps** do not hold up the funnel: units skipping them count in later steps.
  In ordered mode an optional step counts when done between the previous required step and
  the next one (or, if that is never reached, after the previous one within the window);
  in strict mode it may sit between its neighbours and is taken unless the event matches the
  next required step. The first step cannot be optional.
- **Exclusions** remove a unit entirely when an excluded event happens after its step *i*
  and before its step *j* (``between=(i, j)``, 1-based, default the whole funnel); a unit that
  never reached *j* is checked up to the end of the window (or of its journey). In any mode
  the whole attempt is checked.
- **Conversion** of a step is its units over the previous required step's units; the overall
  conversion is the last required step over the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from journeykit.analytics._common import (
    US_PER_SECOND,
    Per,
    TableSource,
    check_choice,
    duration_us,
    engine,
    epoch_us,
    left_join,
    parse_time,
    unit_keys,
    with_sessions,
)
from journeykit.analytics.breakdown import Breakdown, By, parse_by
from journeykit.analytics.filters import Filter, parse_filter, person_table
from journeykit.analytics.funnel_result import (
    FunnelResult,
    _prev_required,
    aggregate,
)
from journeykit.analytics.vocabulary import session_gap as vocab_session_gap
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis

Mode = Literal["ordered", "strict", "any"]
MAX_STEPS = 64


@dataclass(frozen=True)
class Step:
    """One funnel step.

    Attributes:
        event: an event name, or several (any of them matches).
        where: a condition on the event (e.g. ``'properties.platform == "ios"'``).
        name: the label in results (default: the event name and condition).
        optional: units may skip the step.
        within: at most this long after the previous required step (``"1h"``, ``"7d"``).
    """

    event: str | tuple[str, ...] | None = None
    where: str | Filter | None = None
    name: str | None = None
    optional: bool = False
    within: str | timedelta | float | None = None

    @property
    def label(self) -> str:
        """The step's name in results."""
        if self.name:
            return self.name
        names = self.event if isinstance(self.event, tuple) else (self.event,)
        base = " | ".join(n for n in names if n) or "any event"
        where = self.where.text if isinstance(self.where, Filter) else self.where
        return f"{base} [{where}]" if where else base

    def predicate(self, events: ibis.Table) -> Any:
        """Whether each event matches the step (event-level fields only)."""
        import ibis

        cond = ibis.literal(True)
        if self.event is not None:
            names = self.event if isinstance(self.event, tuple) else (self.event,)
            cond = events.event.isin(list(names)) if len(names) > 1 else events.event == names[0]
        if self.where is not None:
            flt = parse_filter(self.where)
            if flt.needs_people or any(
                type(n).__name__ in ("Count", "Cohort") for n in _nodes(flt)
            ):
                raise InputError(
                    f"step {self.label!r}: a step condition reads the event only; "
                    "restrict people with segment= instead",
                    field="steps",
                )
            cond = cond & flt.predicate(events)
        return cond


@dataclass(frozen=True)
class Exclusion:
    """Units doing this between two steps are left out of the funnel.

    Attributes:
        event: the excluded event name (or names).
        where: a condition on it.
        between: 1-based steps (i, j); default the whole funnel.
    """

    event: str | tuple[str, ...] | None = None
    where: str | Filter | None = None
    between: tuple[int, int] | None = None


def _nodes(flt: Filter) -> list[Any]:
    from journeykit.analytics.filters import walk

    return list(walk(flt.root))


def as_step(spec: str | Step | Mapping[str, Any] | Filter) -> Step:
    """A :class:`Step` from a name, a mapping of Step fields, a filter, or a Step."""
    if isinstance(spec, Step):
        step = spec
    elif isinstance(spec, str):
        step = Step(event=spec)
    elif isinstance(spec, Filter):
        step = Step(where=spec)
    elif isinstance(spec, Mapping):
        unknown = set(spec) - {"event", "where", "name", "optional", "within"}
        if unknown:
            raise InputError(f"unknown step field(s) {', '.join(sorted(unknown))}", field="steps")
        step = Step(**dict(spec))
    else:
        raise InputError(f"a step is a name, a mapping or a Step, not {spec!r}", field="steps")
    if isinstance(step.event, list):
        step = Step(tuple(step.event), step.where, step.name, step.optional, step.within)
    if step.event is None and step.where is None:
        raise InputError("a step needs an event or a condition", field="steps")
    return step


def funnel(
    ws: TableSource,
    steps: Sequence[str | Step | Mapping[str, Any] | Filter],
    *,
    mode: Mode = "ordered",
    window: str | timedelta | float | None = None,
    per: Per = "person",
    session_gap: str | timedelta | float | None = None,
    exclude: Sequence[Exclusion | str] = (),
    by: By = None,
    by_step: int = 1,
    segment: str | Filter | Any | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
) -> FunnelResult:
    """Compute a funnel over the workspace's events.

    Args:
        ws: the workspace (DuckDB or Spark).
        steps: two or more steps: event names, :class:`Step` objects or mappings of Step
            fields (``{"event": "checkout", "where": 'properties.platform == "ios"'}``).
        mode: ``ordered`` (other events may come between), ``strict`` (consecutive) or ``any``
            (any order). See the module documentation for the exact semantics.
        window: the overall conversion window, measured from the attempt start.
        per: count ``person`` s or ``session`` s (a session ends after ``session_gap`` of
            inactivity).
        session_gap: the inactivity that ends a session (default: the journey spec's
            ``session_gap``, else 30 minutes).
        exclude: :class:`Exclusion` s (or event names) that remove units.
        by: a breakdown (see :mod:`journeykit.analytics.breakdown`); event fields and time
            buckets are read on the event matched at step ``by_step``.
        by_step: which step's event event-level dimensions are read from (1-based).
        segment: only people in this segment (a filter, or a table of ``person_id``).
        start, end: only attempts starting in ``[start, end)``.

    Returns:
        A :class:`FunnelResult` with ``table`` and ``overall`` DataFrames.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [
    ...     {"ts": "2026-01-05T10:00:00", "event": "product_view", "user_id": "a"},
    ...     {"ts": "2026-01-05T10:05:00", "event": "purchase", "user_id": "a"},
    ...     {"ts": "2026-01-05T11:00:00", "event": "product_view", "user_id": "b"}])
    >>> funnel(ws, ["product_view", "purchase"]).table[["step", "units"]].values.tolist()
    [[1, 2], [2, 1]]
    """
    check_choice(mode, ("ordered", "strict", "any"), "mode")
    check_choice(per, ("person", "session"), "per")
    spec = [as_step(s) for s in steps]
    if len(spec) < 2:
        raise InputError("a funnel needs at least two steps", field="steps")
    if len(spec) > MAX_STEPS:
        raise InputError(f"at most {MAX_STEPS} steps", field="steps")
    if spec[0].optional:
        raise InputError("the first step cannot be optional", field="steps")
    if mode == "any" and any(s.within is not None for s in spec):
        raise InputError("per-step windows need an ordered or strict funnel", field="within")
    if not 1 <= by_step <= len(spec):
        raise InputError(f"by_step must be 1..{len(spec)}", field="by_step")
    exclusions = [Exclusion(event=x) if isinstance(x, str) else x for x in exclude]
    for x in exclusions:
        if x.between is not None:
            i, j = x.between
            if not 1 <= i < j <= len(spec):
                raise InputError(
                    f"between={x.between}: need 1 <= i < j <= {len(spec)}", field="exclude"
                )
    breakdown = parse_by(by)
    plan = _Plan(
        ws=ws,
        steps=spec,
        mode=mode,
        window=duration_us(window),
        within=[duration_us(s.within, field="within") for s in spec],
        per=per,
        gap=duration_us(vocab_session_gap(ws, session_gap), field="session_gap") or 0,
        exclusions=exclusions,
        breakdown=breakdown,
        by_step=by_step - 1,
        segment=segment,
        start=parse_time(start, field="start"),
        end=parse_time(end, field="end"),
    )
    units = plan.units()
    table, overall = aggregate(plan, units)
    return FunnelResult(
        steps=tuple(spec),
        mode=mode,
        per=per,
        group_columns=tuple(breakdown.columns),
        table=table,
        overall=overall,
        _units=plan.units,
        _breakdown=breakdown,
    )


@dataclass
class _Plan:
    ws: TableSource
    steps: list[Step]
    mode: str
    window: int | None
    within: list[int | None]
    per: Per
    gap: int
    exclusions: list[Exclusion]
    breakdown: Breakdown
    by_step: int
    segment: Any
    start: datetime | None
    end: datetime | None

    @property
    def keys(self) -> list[str]:
        return unit_keys(self.per)

    def candidates(self) -> ibis.Table:
        """Events matching any step or exclusion, with one flag column per step."""
        import ibis

        ws = self.ws
        backend = engine(ws)
        ev = ws.table("events")
        if self.segment is not None:
            people = person_table(ws, self.segment).rename(_s_person_id="person_id")
            ev = ev.semi_join(people, ev.person_id == people._s_person_id)
        if self.per == "session":
            ev = with_sessions(ev, self.gap, backend)
        flags = {f"_m{k}": s.predicate(ev).fill_null(False) for k, s in enumerate(self.steps)}
        for j, x in enumerate(self.exclusions):
            flags[f"_x{j}"] = Step(event=x.event, where=x.where).predicate(ev).fill_null(False)
        any_flag = ibis.or_(*flags.values())
        # raw columns only when a breakdown reads them on the anchor event
        extra = {"ts", "event", "channel", "properties"} if self.breakdown.needs_anchor else set()
        cols = [*self.keys, "seq", *sorted(extra)]
        return ev.filter(any_flag).select(*cols, _us=epoch_us(ev.ts, backend), **flags)

    def units(self) -> ibis.Table:
        """One row per unit: ``_r<k>`` reached, ``_t<k>`` when (µs), ``_t0`` start, groups."""
        cand = self.candidates()
        units = self._any(cand) if self.mode == "any" else self._sequential(cand)
        units = self._exclude(units, cand)
        return self._groups(units, cand)

    # --- matching -------------------------------------------------------------------------

    def _first(self, cand: ibis.Table, flag: Any) -> ibis.Table:
        hits = cand.filter(flag)
        first = hits.group_by(self.keys).agg(_s0=hits.seq.min(), _u0=hits._us.min())
        if self.start is not None:
            first = first.filter(first._u0 >= _us_literal(self.start))
        if self.end is not None:
            first = first.filter(first._u0 < _us_literal(self.end))
        return first

    def _sequential(self, cand: ibis.Table) -> ibis.Table:
        """Greedy matching, one join per step.

        Each step reads only the previous step's *frontier* (the units still going, with their
        cursor), never the growing unit table, so the query stays linear in the steps.
        """
        keys = self.keys
        first = self._first(cand, cand._m0)
        steps = self.steps
        # frontier: keys, _c (cursor seq), _pu (time of the last required step), _u0 (start)
        frontier = first.select(*keys, _c=first._s0, _pu=first._u0, _u0=first._u0)
        matched: dict[int, ibis.Table] = {}
        for k in range(1, len(steps)):
            if steps[k].optional:
                if self.mode == "strict":
                    frontier, matched[k] = self._strict_optional(frontier, cand, k)
                continue
            frontier = self._advance(frontier, cand, k)
            matched[k] = frontier.select(*keys, **{f"_s{k}": frontier._c, f"_u{k}": frontier._pu})
        if self.mode == "ordered":
            for k in range(1, len(steps)):
                if steps[k].optional:
                    matched[k] = self._ordered_optional(first, matched, cand, k)
        units = first.mutate(_s0_=first._s0)
        for k in sorted(matched):
            units = left_join(units, matched[k], keys)
        out: dict[str, Any] = {"_r0": units._s0.notnull(), "_t0": units._u0}
        for k in range(1, len(steps)):
            out[f"_r{k}"] = units[f"_s{k}"].notnull()
            out[f"_t{k}"] = units[f"_u{k}"]
        return units.mutate(**out, _start=units._u0).drop("_s0_")

    def _bounds(self, j: ibis.Table, k: int, prev_u: str) -> list[Any]:
        conds = []
        if self.window is not None:
            conds.append(j._us - j._u0 <= self.window)
        if self.within[k] is not None:
            conds.append(j._us - j[prev_u] <= self.within[k])
        return conds

    def _hits(self, cand: ibis.Table, **extra: Any) -> ibis.Table:
        hits = cand.select(*self.keys, "seq", "_us", **extra)
        return hits.rename({f"_h_{c}": c for c in self.keys})

    def _advance(self, frontier: ibis.Table, cand: ibis.Table, k: int) -> ibis.Table:
        keys = self.keys
        hits = self._hits(cand.filter(cand[f"_m{k}"]))
        preds = [frontier[c] == hits[f"_h_{c}"] for c in keys]
        if self.mode == "strict":
            preds.append(hits.seq == frontier._c + 1)
        j = frontier.join(hits, preds)
        conds = [] if self.mode == "strict" else [j.seq > j._c]
        conds += self._bounds(j, k, "_pu")
        j = j.filter(*conds) if conds else j
        # seq and time grow together, so the first match has both minima
        return j.group_by([*keys, "_u0"]).agg(_c=j.seq.min(), _pu=j._us.min())

    def _strict_optional(
        self, frontier: ibis.Table, cand: ibis.Table, k: int
    ) -> tuple[ibis.Table, ibis.Table]:
        import ibis

        keys = self.keys
        nxt = next((i for i in range(k + 1, len(self.steps)) if not self.steps[i].optional), None)
        hits = self._hits(
            cand,
            _mk=cand[f"_m{k}"],
            _mq=cand[f"_m{nxt}"] if nxt is not None else ibis.literal(False),
        )
        preds = [frontier[c] == hits[f"_h_{c}"] for c in keys] + [hits.seq == frontier._c + 1]
        j = frontier.left_join(hits, preds)
        ok = j._mk.fill_null(False) & ~j._mq.fill_null(False)
        for cond in self._bounds(j, k, "_pu"):
            ok = ok & cond.fill_null(False)
        j = j.mutate(_take=ok)
        taken = j.filter(j._take).select(*keys, **{f"_s{k}": j.seq, f"_u{k}": j._us})
        moved = j.select(*keys, _c=ibis.ifelse(j._take, j.seq, j._c), _pu=j._pu, _u0=j._u0)
        return moved, taken

    def _ordered_optional(
        self, first: ibis.Table, matched: dict[int, ibis.Table], cand: ibis.Table, k: int
    ) -> ibis.Table:
        keys = self.keys
        prev = _prev_required(self.steps, k)
        nxt = next((i for i in range(k + 1, len(self.steps)) if not self.steps[i].optional), None)
        if prev == 0:
            live = first.select(*keys, _c=first._s0, _pu=first._u0, _u0=first._u0)
        else:
            m = matched[prev]
            live = left_join(first.select(*keys, "_u0"), m, keys)
            live = live.filter(live[f"_s{prev}"].notnull()).select(
                *keys, _c=live[f"_s{prev}"], _pu=live[f"_u{prev}"], _u0=live._u0
            )
        if nxt is not None:
            n = matched[nxt].select(*keys, _n=matched[nxt][f"_s{nxt}"])
            live = left_join(live, n, keys)
        hits = self._hits(cand.filter(cand[f"_m{k}"]))
        j = live.join(hits, [live[c] == hits[f"_h_{c}"] for c in keys])
        conds = [j.seq > j._c, *self._bounds(j, k, "_pu")]
        if nxt is not None:
            conds.append(j._n.isnull() | (j.seq < j._n))
        j = j.filter(*conds)
        return j.group_by(keys).agg(**{f"_s{k}": j.seq.min(), f"_u{k}": j._us.min()})

    def _any(self, cand: ibis.Table) -> ibis.Table:
        import ibis

        keys = self.keys
        n = len(self.steps)
        anyflag = ibis.or_(*[cand[f"_m{k}"] for k in range(n)])
        first = self._first(cand, anyflag)
        hits = cand.rename({f"_h_{c}": c for c in keys})
        j = first.join(hits, [first[c] == hits[f"_h_{c}"] for c in keys])
        conds = [j.seq >= j._s0]
        if self.window is not None:
            conds.append(j._us - j._u0 <= self.window)
        j = j.filter(*conds)
        agg = j.group_by([*keys, "_s0", "_u0"]).agg(
            **{f"_v{k}": j._us.min(where=j[f"_m{k}"]) for k in range(n)},
            **{f"_q{k}": j.seq.min(where=j[f"_m{k}"]) for k in range(n)},
        )
        out: dict[str, Any] = {}
        done: list[str] = []
        last_req_reached: Any = None
        for k, step in enumerate(self.steps):
            did = agg[f"_v{k}"].notnull()
            if step.optional:
                out[f"_r{k}"] = did & (last_req_reached if last_req_reached is not None else did)
                out[f"_t{k}"] = agg[f"_v{k}"]
                continue
            done.append(f"_v{k}")
            reached = ibis.and_(*[agg[c].notnull() for c in done])
            out[f"_r{k}"] = reached
            out[f"_t{k}"] = ibis.ifelse(reached, _greatest([agg[c] for c in done]), None)
            last_req_reached = reached
        # the last matched event of a completed attempt bounds its exclusion window
        req = [k for k, s in enumerate(self.steps) if not s.optional]
        end_seq = _greatest([agg[f"_q{k}"] for k in req])
        agg = agg.mutate(
            **out, _start=agg._u0, _endseq=ibis.ifelse(out[f"_r{req[-1]}"], end_seq, None)
        )
        return agg

    def _exclude(self, units: ibis.Table, cand: ibis.Table) -> ibis.Table:
        import ibis

        keys = self.keys
        n = len(self.steps)
        bad_sets = []
        for j, x in enumerate(self.exclusions):
            hits = self._hits(cand.filter(cand[f"_x{j}"]))
            if self.mode == "any":
                live = units.select(*keys, _lo=units._s0, _hi=units._endseq, _u0=units._u0)
                lo_inclusive = True
            else:
                i, k = (x.between[0] - 1, x.between[1] - 1) if x.between else (0, n - 1)
                live = units.filter(units[f"_s{i}"].notnull()).select(
                    *keys, _lo=units[f"_s{i}"], _hi=units[f"_s{k}"], _u0=units._u0
                )
                lo_inclusive = False
            jn = live.join(hits, [live[c] == hits[f"_h_{c}"] for c in keys])
            upper = jn.seq < jn._hi
            open_end = (
                jn._us - jn._u0 <= self.window if self.window is not None else ibis.literal(True)
            )
            lower = (jn.seq >= jn._lo) if lo_inclusive else (jn.seq > jn._lo)
            jn = jn.filter(lower, (jn._hi.isnull() & open_end) | (jn._hi.notnull() & upper))
            bad_sets.append(jn.select(*keys))
        if not bad_sets:
            return units
        bad = bad_sets[0]
        for more in bad_sets[1:]:
            bad = bad.union(more)
        bad = bad.distinct().rename({f"_b_{c}": c for c in keys})
        return units.anti_join(bad, [units[c] == bad[f"_b_{c}"] for c in keys])

    def _groups(self, units: ibis.Table, cand: ibis.Table) -> ibis.Table:
        if not self.breakdown.columns:
            return units
        # in any mode the matched seq of step k is ``_q<k>`` (``_s0`` is the attempt start)
        anchor_col = f"_q{self.by_step}" if self.mode == "any" else f"_s{self.by_step}"
        units = units.mutate(_anchor_seq=units[anchor_col])
        anchor = None
        if self.breakdown.needs_anchor:
            anchor = cand
            if self.per == "session":
                anchor = cand.drop("session")
        return self.breakdown.apply(self.ws, units, anchor)


def _us_literal(value: datetime) -> int:
    from journeykit.analytics._common import US_PER_DAY

    epoch = datetime(1970, 1, 1)
    delta = value - epoch
    return delta.days * US_PER_DAY + delta.seconds * US_PER_SECOND + delta.microseconds


def _greatest(values: list[Any]) -> Any:
    """``greatest`` of one or more values (Spark's needs two arguments at least)."""
    import ibis

    return values[0] if len(values) == 1 else ibis.greatest(*values)
