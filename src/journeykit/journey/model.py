"""The journey map: every stage and touchpoint measured, with pain points and opportunities.

:func:`build_map` runs the queries of :mod:`journeykit.journey.measure`, reads the survey
answers (:mod:`journeykit.journey.emotion`), finds pain points and opportunities, fits the
Markov model for what-if questions, and returns a :class:`JourneyMap` of plain tables that
:mod:`journeykit.render` draws.

``touchpoints`` (one row per persona, period and touchpoint):

============== ==================================================================================
persona        "All people" or a persona of the spec
period         "all" or the first day of a month (or week), by the first touch
stage          the touchpoint's stage; ``stage_index`` its position
touchpoint     the touchpoint; ``kind`` its kind
people         people who reached it; ``events`` their events there
conversion     share who reached a goal after their first touch; ``drop_off`` the rest
next_stage     share who reached a later stage after it
hours_next     median hours to that later stage
emotion        mean emotion (-1..1) of answers about it; ``answers``, ``negative`` (share),
               ``score_emotion`` and ``comment_emotion`` (the two sources)
ces            mean CES score (1-7) of answers about it
repeat_rate    share of people who got in touch twice or more (contacts)
long_wait      share of people who waited long (contacts); ``median_wait`` in seconds
channel        the channel with most of its events; ``channel_mix`` "web 60%, app 40%"
============== ==================================================================================

``stages`` (one row per persona, period and stage): ``people`` who entered it, ``conversion``,
``next_stage``, ``emotion``, ``answers``, and for the "all" view ``median_hours`` in stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from journeykit.journey.conformance import Conformance
from journeykit.journey.markov import JourneyChain, WhatIf
from journeykit.journey.opportunities import Opportunity
from journeykit.journey.pains import PainPoint
from journeykit.journey.spec import JourneySpec

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.emotion import Scorer
    from journeykit.journey.measure import Measures
    from journeykit.journey.stages import Journeys
    from journeykit.journey.touches import Plan
    from journeykit.store import Workspace

#: The what-if reductions every pain point is answered for.
REDUCTIONS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class JourneyMap:
    """A measured journey map (see the module docstring for the tables).

    Attributes:
        spec: the spec it was built from.
        people, converters, revenue: people with a touchpoint event, people who reached a
            goal, and the revenue of goal events.
        value: the expected value of one conversion (revenue per converting person).
        first_event, last_event: the time range covered.
        emotion_source: where emotion comes from ("survey scores", or "survey scores and
            comment sentiment").
        personas, periods: the views (persona names; period starts).
        stages, touchpoints: per view.
        kpis: the spec's KPIs: ``stage``, ``kpi``, ``metric``, ``touchpoint``, ``value``,
            ``target``, ``met``.
        actions: the commonest moves between touchpoints of a stage: ``stage``, ``src``,
            ``dst``, ``moves``, ``share`` (of the moves out of ``src``).
        channels: per touchpoint and channel: ``events``, ``people``.
        breakdowns: per touchpoint, key and value: ``people``, ``conversion``.
        transitions: the stage transition matrix; ``time_in_stage``; ``conformance``.
        pains, opportunities: found, most valuable first.
        chain: the Markov model behind :meth:`what_if`.
        timings: seconds spent in each step of building the map.
    """

    spec: JourneySpec
    people: int
    converters: int
    revenue: float
    value: float
    first_event: datetime | None
    last_event: datetime | None
    emotion_source: str
    personas: tuple[str, ...]
    periods: tuple[str, ...]
    stages: pd.DataFrame
    touchpoints: pd.DataFrame
    kpis: pd.DataFrame
    actions: pd.DataFrame
    channels: pd.DataFrame
    breakdowns: pd.DataFrame
    transitions: pd.DataFrame
    time_in_stage: pd.DataFrame
    conformance: Conformance
    pains: tuple[PainPoint, ...]
    opportunities: tuple[Opportunity, ...]
    chain: JourneyChain
    timings: dict[str, float] = field(default_factory=dict)

    def pain(self, pain_id: str) -> PainPoint:
        """The pain point with this id (``p1``, ...)."""
        for p in self.pains:
            if p.id == pain_id:
                return p
        from journeykit.errors import NotFound

        raise NotFound("pain point", pain_id, [p.id for p in self.pains])

    def what_if(self, pain_id: str, reduction: float, *, replicates: int = 200) -> WhatIf:
        """Extra conversions and revenue if this pain point's drop-off fell by ``reduction``."""
        p = self.pain(pain_id)
        return self.chain.what_if(  # type: ignore[return-value]
            p.touchpoint,
            reduction,
            excess=p.excess,
            share=p.share,
            excess_se=p.excess_se,
            replicates=replicates,
        )


def build_map(
    ws: Workspace,
    spec: JourneySpec | str | Path | None = None,
    *,
    sentiment: Scorer | None = None,
    reductions: Sequence[float] = REDUCTIONS,
    top: int = 12,
    replicates: int = 200,
    sample_people: int = 20,
    z: float = 3.0,
) -> JourneyMap:
    """Measure the journey of a workspace against a spec.

    Args:
        ws: the workspace.
        spec: the spec, or a path to its YAML; ``None``: the workspace's spec
            (:func:`~journeykit.journey.current_spec`).
        sentiment: scores comments in [-1, 1] (e.g. ``journeykit.voc.sentiment``); without it
            emotion comes from survey scores only.
        reductions: the what-if reductions to answer for each pain point.
        top: how many pain points to keep (biggest impact first).
        replicates: bootstrap replicates of each what-if.
        sample_people: affected people listed per pain point.
        z: significance threshold of pain points and opportunities.

    >>> import journeykit, tempfile
    >>> from journeykit.journey.spec import SpecBuilder
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> spec = (SpecBuilder().stage("visit").touchpoint("Visit", events=["visit"])
    ...     .stage("buy").touchpoint("Order", events=["order"])
    ...     .goal("order").build())
    >>> build_map(ws, spec).people
    0
    """
    from journeykit.journey.measure import measure
    from journeykit.journey.stages import with_visits
    from journeykit.journey.touches import compile_plan
    from journeykit.journey.workspace_spec import spec_or_current

    clock = _Clock()
    plan = compile_plan(spec_or_current(ws, spec))
    m = measure(ws, plan)
    clock.lap("measures")
    journeys = with_visits(ws, m.journeys)
    clock.lap("stage visits")
    try:
        return _assemble(ws, plan, m, journeys, sentiment, reductions, top, replicates,
                         sample_people, z, clock)  # fmt: skip
    finally:
        journeys.release()
        m.release()


def _assemble(
    ws: Workspace,
    plan: Plan,
    m: Measures,
    journeys: Journeys,
    sentiment: Scorer | None,
    reductions: Sequence[float],
    top: int,
    replicates: int,
    sample_people: int,
    z: float,
    clock: _Clock,
) -> JourneyMap:
    from dataclasses import replace

    from journeykit.journey.conformance import conformance
    from journeykit.journey.emotion import emotion_table, survey_answers
    from journeykit.journey.evidence import paths_from, people_behind
    from journeykit.journey.markov import OTHER, START
    from journeykit.journey.opportunities import find_opportunities
    from journeykit.journey.pains import detect_pains
    from journeykit.journey.stages import time_in_stage, transition_matrix
    from journeykit.journey.views import (
        actions_table,
        breakdown_table,
        kpi_table,
        stage_table,
        touchpoint_table,
    )

    answers = survey_answers(ws, m, sentiment=sentiment)
    clock.lap("survey answers")
    members = None
    if plan.spec.personas and len(answers):
        import ibis
        import pandas as pd

        people = ibis.memtable(pd.DataFrame({"person_id": answers.person_id.unique()}))
        mem = m.members.filter(m.members.persona != "All people")
        members = mem.join(people, "person_id").select("person_id", "persona").to_pandas()
    emotions = emotion_table(answers, members)
    clock.lap("emotion")
    states = (START, *[tp.name for tp in plan.touchpoints], OTHER)
    pre = m.moves[m.moves.journey == "pre"]
    chain = JourneyChain.from_frame(pre, states, m.value)
    pains = detect_pains(m, answers, z=z)[:top]
    clock.lap("pain points")
    starts = {p.id: people_behind(ws, m, p, answers, limit=max(sample_people, 50)) for p in pains}
    paths = paths_from(ws, starts)
    clock.lap("people and paths")
    detailed = []
    for p in pains:
        answers_of = chain.what_if(
            p.touchpoint, list(reductions), excess=p.excess, share=p.share,
            excess_se=p.excess_se, replicates=replicates,
        )  # fmt: skip
        detailed.append(
            replace(
                p,
                what_if=tuple(answers_of),  # type: ignore[arg-type]
                people_sample=tuple(starts[p.id].person_id.head(sample_people)),
                paths=tuple(paths.get(p.id, [])),
            )
        )
    clock.lap("what-if")
    opportunities = find_opportunities(m, answers, detailed, z=z)
    clock.lap("opportunities")
    stage_rows = stage_table(m, emotions)
    tis = time_in_stage(ws, journeys)
    stage_rows = stage_rows.merge(
        tis[["stage", "median_hours"]].assign(period="all", persona="All people"),
        on=["stage", "period", "persona"],
        how="left",
    )
    touchpoints = touchpoint_table(m, emotions)
    has_comments = bool(answers["sentiment"].notna().any()) if len(answers) else False
    transitions = transition_matrix(ws, journeys)
    conf = conformance(ws, journeys)
    clock.lap("stages and conformance")
    return JourneyMap(
        spec=plan.spec,
        people=m.people,
        converters=m.converters,
        revenue=m.revenue,
        value=m.value,
        first_event=m.first_event,
        last_event=m.last_event,
        emotion_source="survey scores and comment sentiment" if has_comments else "survey scores",
        personas=m.personas,
        periods=m.periods,
        stages=stage_rows,
        touchpoints=touchpoints,
        kpis=kpi_table(m, touchpoints, stage_rows, answers, tis),
        actions=actions_table(m),
        channels=m.channels.assign(
            touchpoint=[plan.touchpoints[int(i)].name for i in m.channels.tp]
        ).drop(columns="tp"),
        breakdowns=breakdown_table(m),
        transitions=transitions,
        time_in_stage=tis,
        conformance=conf,
        pains=tuple(detailed),
        opportunities=tuple(opportunities),
        chain=chain,
        timings=clock.laps,
    )


class _Clock:
    """Seconds per step."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._now()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now
