"""Pain points, found in the map's numbers, each with its evidence and its impact.

Kinds of pain point (``z`` is the significance threshold, 3 by default):

* ``drop_off``: a touchpoint whose drop-off (no goal after the first touch) is at least 10
  points above its stage's baseline (the people who reached any action, contact or error
  touchpoint of the stage), with ``z``;
* ``error``: an error touchpoint (``kind: error``) whose people drop off more than the stage's;
  the evidence says where the errors concentrate (a platform, weeks);
* ``segment``: one value of a breakdown (a platform, a channel) dropping off more than the rest
  of its touchpoint, either by a lot (15 points) or concentrated in weeks: weeks whose drop-off
  is above the segment's other weeks, together significant at ``z + 1`` (the extra margin
  pays for looking at many weeks);
* ``negative_emotion``: answers about a touchpoint markedly below all other answers (0.15 on
  the -1..1 scale, Welch's t at ``z``); ``emotion_dip``: a week or two of consecutive weeks in
  which a touchpoint's answers turn negative (share of negative answers, 15 points, ``z``);
* ``long_waits``: contacts that waited long (``long_wait_seconds``) against the others: lower
  emotion or lower conversion afterwards;
* ``repeat_contacts``: people who had to get in touch twice or more converting less.

Impact = people lost x the expected value of a conversion (revenue per converting person).
People lost are measured directly when the pain is a drop-off (excess drop-off x people, with
Newcombe's interval); for emotion pains they are inferred: excess negative answers x the gap in
later conversion between negative and other answers (bootstrap over people, 95%).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from journeykit.journey.stats import newcombe

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.markov import WhatIf
    from journeykit.journey.measure import Measures

PainKind = Literal[
    "drop_off",
    "error",
    "segment",
    "negative_emotion",
    "emotion_dip",
    "comment_burst",
    "long_waits",
    "repeat_contacts",
]
_KINDS_DROP = ("action", "contact", "error")


@dataclass(frozen=True)
class PainPoint:
    """One pain point.

    Attributes:
        id: ``p1``, ``p2``, ... by rank.
        kind: see the module docstring.
        title: one line for the map.
        stage, touchpoint: where.
        segment: breakdown values it is limited to, e.g. ``(("platform", "ios"),)``.
        weeks: Mondays of the weeks it is concentrated in (ISO dates), if any.
        people: people affected.
        rate, baseline: the pain's rate (drop-off, or share of negative answers) and what it
            is compared with.
        people_lost, people_lost_low, people_lost_high: conversions lost, with a 95% interval.
        impact, impact_low, impact_high: the same in money (times the expected value).
        interval: how the interval was made.
        evidence: lines of evidence, for people.
        excess, excess_se, share: the excess drop-off among the affected people, its standard
            error, and the affected share of the touchpoint's people (for what-if).
        what_if: answers to "if this drop-off fell by 10/25/50/100 %".
        people_sample: some affected people.
        paths: the most common paths of affected people from the touchpoint on, with counts.
    """

    id: str
    kind: PainKind
    title: str
    stage: str
    touchpoint: str
    segment: tuple[tuple[str, str], ...]
    weeks: tuple[str, ...]
    people: int
    rate: float
    baseline: float
    people_lost: float
    people_lost_low: float
    people_lost_high: float
    impact: float
    impact_low: float
    impact_high: float
    interval: str
    evidence: tuple[str, ...]
    excess: float
    excess_se: float
    share: float
    what_if: tuple[WhatIf, ...] = ()
    people_sample: tuple[str, ...] = ()
    paths: tuple[tuple[str, int], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _day(value: Any) -> str:
    """An ISO date from a date, a timestamp or their text."""
    return str(value)[:10]


class _Finder:
    """Holds the tables one detection run reads."""

    def __init__(self, m: Measures, answers: pd.DataFrame, z: float) -> None:
        from journeykit.journey.measure import ALL, ALL_PERIODS

        self.m, self.answers, self.z = m, answers, z
        self.plan = m.plan
        self.min_n = m.plan.spec.settings.min_people
        c = m.cells
        self.cells = c[(c.persona == ALL) & (c.period == ALL_PERIODS)].set_index("tp")
        self.base = m.baseline.set_index("tp_stage")
        self.goal = " or ".join(m.plan.goal_events)
        self.value = m.value
        from journeykit.journey.pain_feelings import Resampler, negative_gap

        self.resampler = Resampler(answers)
        self.gap, self.gap_draws = negative_gap(answers, resampler=self.resampler)
        self._bags: list[frozenset[str]] | None = None

    def bags(self) -> list[frozenset[str]]:
        """The words of each answer's comment (computed once)."""
        if self._bags is None:
            from journeykit.journey.emotion import words_of

            self._bags = [frozenset(words_of(t)) if isinstance(t, str) else frozenset()
                          for t in self.answers.comment]  # fmt: skip
        return self._bags

    def tp(self, i: int) -> Any:
        return self.plan.touchpoints[i]

    def stage(self, i: int) -> str:
        return self.plan.stages[self.plan.tp_stage[i]]

    def eligible(self, i: int) -> bool:
        return self.tp(i).kind in _KINDS_DROP and not self.plan.is_goal_tp(i)

    def drop_pain(
        self,
        kind: PainKind,
        i: int,
        title: str,
        k1: float,
        n1: float,
        k0: float,
        n0: float,
        evidence: list[str],
        segment: tuple[tuple[str, str], ...] = (),
        weeks: tuple[str, ...] = (),
        share: float = 1.0,
    ) -> PainPoint:
        """A pain measured as excess drop-off: ``k1/n1`` against ``k0/n0``."""
        rate, base = k1 / n1, k0 / n0
        lo, hi = newcombe(k1, n1, k0, n0)
        lost = n1 * (rate - base)
        se = (hi - lo) / (2 * 1.96)
        return PainPoint(
            id="",
            kind=kind,
            title=title,
            stage=self.stage(i),
            touchpoint=self.tp(i).name,
            segment=segment,
            weeks=weeks,
            people=int(n1),
            rate=rate,
            baseline=base,
            people_lost=lost,
            people_lost_low=n1 * lo,
            people_lost_high=n1 * hi,
            impact=lost * self.value,
            impact_low=n1 * lo * self.value,
            impact_high=n1 * hi * self.value,
            interval="95% Newcombe-Wilson interval of the excess drop-off",
            evidence=tuple(evidence),
            excess=rate - base,
            excess_se=se,
            share=share,
        )


def detect_pains(m: Measures, answers: pd.DataFrame, *, z: float = 3.0) -> list[PainPoint]:
    """Every pain point found (see the module docstring), biggest impact first, with ids.

    A pain point is kept when its signal is significant (drop-off, emotion or wait); its
    impact interval may still reach zero when the loss is inferred from emotion.
    """
    from journeykit.journey.pain_drops import contacts, drop_offs, segments
    from journeykit.journey.pain_feelings import emotions

    f = _Finder(m, answers, z)
    found: list[PainPoint] = [*drop_offs(f), *segments(f), *emotions(f), *contacts(f)]
    found.sort(key=lambda p: -p.impact)
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    out: list[PainPoint] = []
    for p in found:
        key = (p.kind, p.touchpoint, p.segment)
        if key in seen:
            continue
        seen.add(key)
        out.append(_with_id(p, f"p{len(out) + 1}"))
    return out


def _with_id(p: PainPoint, pid: str) -> PainPoint:
    from dataclasses import replace

    return replace(p, id=pid)
