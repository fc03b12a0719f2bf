"""The rules a journey spec must keep beyond its shape: names, stages, overlaps, filters.

Each rule yields ``(reason, location)``; :mod:`journeykit.journey.spec` turns the first into an
:class:`~journeykit.errors.InvalidSpec` with the field and the YAML line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from journeykit.errors import InputError, InvalidFilter
from journeykit.journey.spec import KPI, JourneySpec, Loc, Touchpoint
from journeykit.schema.events import EVENT_COLUMNS

_PROPERTY = re.compile(r"^properties\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


def problems(spec: JourneySpec) -> Iterator[tuple[str, Loc]]:
    """Every semantic problem of a structurally valid spec, as (reason, location)."""
    stages = spec.stage_names
    yield from _duplicates(
        [(s.name, ("stages", i, "name")) for i, s in enumerate(spec.stages)], "stage"
    )
    placed: list[tuple[Touchpoint, str, Loc]] = []
    for i, stage in enumerate(spec.stages):
        for j, tp in enumerate(stage.touchpoints):
            loc: Loc = ("stages", i, "touchpoints", j)
            if tp.stage is not None and tp.stage != stage.name:
                yield (
                    f"touchpoint {tp.name!r} sits in stage {stage.name!r} but says stage {tp.stage!r}",
                    (*loc, "stage"),
                )
            placed.append((tp, stage.name, loc))
    for j, tp in enumerate(spec.touchpoints):
        loc = ("touchpoints", j)
        if tp.stage is None:
            yield (f"touchpoint {tp.name!r} needs a stage (one of {', '.join(stages)})", loc)
        elif tp.stage not in stages:
            yield (f"unknown stage {tp.stage!r}; stages are {', '.join(stages)}", (*loc, "stage"))
        else:
            placed.append((tp, tp.stage, loc))
    # matching order is stage order, then the order touchpoints are listed in
    placed.sort(key=lambda item: stages.index(item[1]))
    yield from _duplicates([(tp.name, (*loc, "name")) for tp, _, loc in placed], "touchpoint")
    for tp, _, loc in placed:
        seen: set[str] = set()
        for k, ev in enumerate(tp.events):
            if ev in seen:
                yield (
                    f"event {ev!r} is listed twice in touchpoint {tp.name!r}",
                    (*loc, "events", k),
                )
            seen.add(ev)
        if tp.where is not None:
            yield from _filter_problem(tp.where, (*loc, "where"), event_level=True)
    yield from _overlaps(placed)
    for i, stage in enumerate(spec.stages):
        if not stage.touchpoints and not any(s == stage.name for _, s, _ in placed):
            yield (
                f"stage {stage.name!r} has no touchpoints; add one or remove the stage",
                ("stages", i, "name"),
            )
    names = {tp.name for tp, _, _ in placed}
    kpis: list[tuple[KPI, str, Loc]] = [
        (k, s.name, ("stages", i, "kpis", j))
        for i, s in enumerate(spec.stages)
        for j, k in enumerate(s.kpis)
    ]
    for j, kpi in enumerate(spec.kpis):
        if kpi.stage is None or kpi.stage not in stages:
            what = "needs a stage" if kpi.stage is None else f"names an unknown stage {kpi.stage!r}"
            yield (f"KPI {kpi.name!r} {what}; stages are {', '.join(stages)}", ("kpis", j, "stage"))
        kpis.append((kpi, kpi.stage or "", ("kpis", j)))
    for stage_name in stages:
        yield from _duplicates(
            [(kpi.name, (*loc, "name")) for kpi, s, loc in kpis if s == stage_name], "KPI"
        )
    for kpi, s, loc in kpis:
        if kpi.touchpoint is not None:
            if kpi.touchpoint not in names:
                yield (f"unknown touchpoint {kpi.touchpoint!r}", (*loc, "touchpoint"))
            elif spec.touchpoint(kpi.touchpoint).stage != s:
                yield (f"touchpoint {kpi.touchpoint!r} is not in stage {s!r}", (*loc, "touchpoint"))
    yield from _duplicates(
        [(g.name, ("goals", i, "name")) for i, g in enumerate(spec.goals)], "goal"
    )
    for i, g in enumerate(spec.goals):
        if g.where is not None:
            yield from _filter_problem(g.where, ("goals", i, "where"), event_level=True)
    yield from _duplicates(
        [(p.name, ("personas", i, "name")) for i, p in enumerate(spec.personas)], "persona"
    )
    for i, p in enumerate(spec.personas):
        yield from _filter_problem(p.where, ("personas", i, "where"), event_level=False)
    for i, key in enumerate(spec.settings.breakdowns):
        if not key.replace("_", "").replace("-", "").isalnum():
            yield (f"{key!r} is not a property name", ("settings", "breakdowns", i))
    yield from _semantic_problems(spec)


def _semantic_problems(spec: JourneySpec) -> Iterator[tuple[str, Loc]]:
    """The sections that say what the data means: fields exist, names are names."""
    lists: list[tuple[tuple[str, ...] | None, Loc]] = [
        (spec.contacts, ("contacts",)),
        (spec.messages, ("messages",)),
    ]
    if spec.conversions is not None:
        lists.append((spec.conversions.events, ("conversions", "events")))
        yield from _field_problem(
            spec.conversions.revenue, ("conversions", "revenue"), columns=("revenue",)
        )
    if spec.marketing is not None:
        lists.append((spec.marketing.events, ("marketing", "events")))
        yield from _field_problem(spec.marketing.channel, ("marketing", "channel"))
    for names, loc in lists:
        seen: set[str] = set()
        for k, name in enumerate(names or ()):
            if not name.strip():
                yield ("event names cannot be empty", (*loc, k))
            elif name in seen:
                yield (f"event {name!r} is listed twice", (*loc, k))
            seen.add(name)
    yield from _duplicates(
        [(s.event, ("surveys", i, "event")) for i, s in enumerate(spec.survey_section or ())],
        "survey event",
    )
    for i, survey in enumerate(spec.survey_section or ()):
        loc = ("surveys", i)
        for key in ("score", "comment", "metric_field"):
            value = getattr(survey, key)
            if value is not None:
                yield from _field_problem(value, (*loc, key))
        if survey.metric is None and survey.metric_field is None:
            yield (
                f"survey {survey.event!r} needs a metric (nps, csat or ces) or a metric_field "
                "whose value names the metric of each answer",
                loc,
            )
    if spec.session_gap is not None:
        from journeykit.analytics._common import parse_duration

        try:
            parse_duration(spec.session_gap, field="session_gap")
        except InputError as exc:
            yield (exc.reason, ("session_gap",))


def _field_problem(
    text: str, loc: Loc, *, columns: Sequence[str] | None = None
) -> Iterator[tuple[str, Loc]]:
    """A field is an event column (``channel``) or a property (``properties.key``)."""
    allowed = tuple(EVENT_COLUMNS) if columns is None else tuple(columns)
    if text in allowed or _PROPERTY.match(text):
        return
    yield (
        f"{text!r} is not a field: give {' or '.join(repr(c) for c in allowed[:3])}"
        + (", another event column" if len(allowed) > 3 else "")
        + " or properties.<key>",
        loc,
    )


def _duplicates(items: Sequence[tuple[str, Loc]], what: str) -> Iterator[tuple[str, Loc]]:
    seen: set[str] = set()
    for name, loc in items:
        if name in seen:
            yield (f"duplicate {what} name {name!r}", loc)
        seen.add(name)


def _filter_problem(text: str, loc: Loc, *, event_level: bool) -> Iterator[tuple[str, Loc]]:
    from journeykit.journey.filtering import check_filter

    try:
        check_filter(text, event_level=event_level)
    except InvalidFilter as exc:
        yield (f"bad filter: {exc.reason}", loc)


def _overlaps(placed: Sequence[tuple[Touchpoint, str, Loc]]) -> Iterator[tuple[str, Loc]]:
    """An earlier touchpoint without ``where`` shadows a later one on a shared event and channel."""
    for a_i, (a, _, _) in enumerate(placed):
        if a.where is not None:
            continue
        for b, _, b_loc in placed[a_i + 1 :]:
            shared = [e for e in b.events if e in a.events]
            if not shared:
                continue
            if a.channels is None or b.channels is None:
                common: set[str] | None = (
                    None
                    if a.channels is None and b.channels is None
                    else set(a.channels or b.channels or ())
                )
            else:
                common = set(a.channels) & set(b.channels)
                if not common:
                    continue
            on = "any channel" if common is None else "channel " + ", ".join(sorted(common))
            k = b.events.index(shared[0])
            yield (
                f"overlapping touchpoints {a.name!r} and {b.name!r}: both take {shared[0]!r} on "
                f"{on}; narrow one with channel or where (an event goes to the first match)",
                (*b_loc, "events", k),
            )
