"""Opportunities: where a fix pays most, and the moments that work and deserve more people.

* ``fix``: a pain point whose drop-off halved would bring the most conversions (the Markov
  what-if at 50%, with its bootstrap interval);
* ``amplify``: a touchpoint (or one value of a breakdown: a campaign, a channel) after which
  people convert clearly more than the rest of its stage, or are worth clearly more (revenue
  per person); its value is what 10% more people reaching it would bring;
* ``delight``: a touchpoint whose answers are clearly happier than the rest; its value is
  what the happier answers keep (their excess of non-negative answers, times the gap in later
  conversion between negative and other answers, times a conversion's value).

Value per person is only compared where people come in (stages before the goal's): later
touchpoints are reached by people who already bought, which says nothing about the touchpoint.

"Clearly": 10 points of conversion, 20% more revenue per person, or 0.15 of emotion, at the
spec's significance (z = 3 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from journeykit.journey.pains import PainPoint, _pct
from journeykit.journey.stats import mean_var, newcombe, welch, z_two

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.measure import Measures

_REACH = 0.10


@dataclass(frozen=True)
class Opportunity:
    """One opportunity.

    Attributes:
        id: ``o1``, ``o2``, ... by value.
        kind: ``fix``, ``amplify`` or ``delight``.
        title: one line for the map.
        stage, touchpoint, segment: where.
        value, value_low, value_high: money it would bring (95% interval); for ``delight``
            the value of the people it already keeps.
        evidence: lines of evidence.
        pain_id: the pain point a ``fix`` is about.
    """

    id: str
    kind: Literal["fix", "amplify", "delight"]
    title: str
    stage: str
    touchpoint: str
    segment: tuple[tuple[str, str], ...]
    value: float
    value_low: float
    value_high: float
    evidence: tuple[str, ...]
    pain_id: str | None = None


def find_opportunities(
    m: Measures, answers: pd.DataFrame, pains: list[PainPoint], *, z: float = 3.0
) -> list[Opportunity]:
    """Fixes for the pain points, and touchpoints to amplify, most valuable first."""
    out: list[Opportunity] = []
    for p in pains:
        half = next((w for w in p.what_if if abs(w.reduction - 0.5) < 1e-9), None)
        if half is None or half.extra_conversions < 1:
            continue
        where = "".join(f" on {k} {v}" for k, v in p.segment)
        out.append(
            Opportunity(
                id="",
                kind="fix",
                title=f"Halve the problem at {p.touchpoint}{where}: "
                f"+{half.extra_conversions:,.0f} conversions",
                stage=p.stage,
                touchpoint=p.touchpoint,
                segment=p.segment,
                value=half.revenue,
                value_low=half.revenue_low,
                value_high=half.revenue_high,
                evidence=(
                    f"if the excess drop-off of {p.id} fell by half, the journey model expects "
                    f"{half.extra_conversions:,.1f} more conversions "
                    f"({half.low:,.1f} to {half.high:,.1f})",
                    *p.evidence[:1],
                ),
                pain_id=p.id,
            )
        )
    out += _lifts(m, z)
    out += _delight(m, answers, z)
    out.sort(key=lambda o: -o.value)
    return [_with_id(o, f"o{k + 1}") for k, o in enumerate(out)]


def _with_id(o: Opportunity, oid: str) -> Opportunity:
    from dataclasses import replace

    return replace(o, id=oid)


def _lifts(m: Measures, z: float) -> list[Opportunity]:
    """Touchpoints and breakdown values after which people convert more, or are worth more."""
    from journeykit.journey.measure import ALL, ALL_PERIODS

    plan = m.plan
    cells = m.cells[(m.cells.persona == ALL) & (m.cells.period == ALL_PERIODS)]
    base = m.baseline.set_index("tp_stage")
    min_n = plan.spec.settings.min_people
    out = []
    for row in cells.itertuples(index=False):
        i = int(row.tp)
        tp = plan.touchpoints[i]
        s = plan.tp_stage[i]
        if plan.is_goal_tp(i) or s not in base.index or row.m_people < min_n:
            continue
        b = base.loc[s]
        people = float(row.m_people)
        found = _lift(
            m, i, (), people, float(row.m_converted), float(b.people), float(b.converted),
            float(row.value_sum), float(row.value_sq), float(row.people),
            float(b.value_sum), float(b.value_sq), f"the {plan.stages[s]} stage", z,
        )  # fmt: skip
        if found is not None and tp.kind in ("action", "contact", "message"):
            out.append(found)
    b = m.breakdowns
    for (tp, key), group in b[~b.key.isin(["wait", "contacts"])].groupby(["tp", "key"]):
        i = int(tp)  # type: ignore[call-overload]
        if plan.is_goal_tp(i) or len(group) < 2:
            continue
        total = group[["people", "converted", "value_sum", "value_sq"]].sum()
        for row in group.itertuples(index=False):
            n1 = float(row.people)
            n0 = float(total.people) - n1
            if n1 < min_n or n0 < min_n:
                continue
            found = _lift(
                m, i, ((str(key), str(row.value)),), n1, float(row.converted), n0,
                float(total.converted) - float(row.converted), float(row.value_sum),
                float(row.value_sq), n1, float(total.value_sum) - float(row.value_sum),
                float(total.value_sq) - float(row.value_sq), f"other {key} values", z,
            )  # fmt: skip
            if found is not None:
                out.append(found)
    return out


def _lift(
    m: Measures,
    i: int,
    segment: tuple[tuple[str, str], ...],
    n1: float,
    c1: float,
    n0: float,
    c0: float,
    v1: float,
    q1: float,
    reach: float,
    v0: float,
    q0: float,
    against: str,
    z: float,
) -> Opportunity | None:
    plan = m.plan
    name = plan.touchpoints[i].name + "".join(f" ({k} {v})" for k, v in segment)
    stage = plan.stages[plan.tp_stage[i]]
    if n0 <= 0 or n1 <= 0:
        return None
    zz = z_two(c1, n1, c0, n0)
    lift = c1 / n1 - c0 / n0
    if zz >= z and lift >= 0.10:
        lo, hi = newcombe(c1, n1, c0, n0)
        extra = _REACH * reach
        return Opportunity(
            id="",
            kind="amplify",
            title=f"{name}: {_pct(c1 / n1)} go on to convert, against {_pct(c0 / n0)}",
            stage=stage,
            touchpoint=plan.touchpoints[i].name,
            segment=segment,
            value=extra * lift * m.value,
            value_low=extra * lo * m.value,
            value_high=extra * hi * m.value,
            evidence=(
                f"{_pct(c1 / n1)} of {int(n1):,} people convert after it, against "
                f"{_pct(c0 / n0)} across {against} (z = {zz:.1f})",
                f"value: 10% more people reaching it ({extra:,.0f}) at that lift",
            ),
        )
    # worth more per person: only where people come in (stages before the goal's), as later
    # touchpoints are reached by people who already bought, which says nothing
    early = plan.tp_stage[i] < plan.goal_stage and plan.touchpoints[i].kind == "action"
    m1, var1 = mean_var(v1, q1, reach)
    m0, var0 = mean_var(v0, q0, n0)
    t = welch(m1, var1, reach, m0, var0, n0)
    if early and t >= z and m0 > 0 and m1 >= 1.2 * m0:
        se = (var1 / reach + var0 / n0) ** 0.5
        extra = _REACH * reach
        return Opportunity(
            id="",
            kind="amplify",
            title=f"{name}: worth {m1 / m0:.2f}x per person",
            stage=stage,
            touchpoint=plan.touchpoints[i].name,
            segment=segment,
            value=extra * (m1 - m0),
            value_low=extra * (m1 - m0 - 1.96 * se),
            value_high=extra * (m1 - m0 + 1.96 * se),
            evidence=(
                f"people who reach it bring {m1:,.2f} each, against {m0:,.2f} across {against} "
                f"(t = {t:.1f})",
                f"value: 10% more people reaching it ({extra:,.0f}) at that difference",
            ),
        )
    return None


def _delight(m: Measures, answers: pd.DataFrame, z: float) -> list[Opportunity]:
    """Touchpoints whose answers are clearly happier than the others."""
    plan = m.plan
    a = answers[answers.emotion.notna() & (answers.tp >= 0)]
    out = []
    for tp, group in a.groupby("tp"):
        i = int(tp)  # type: ignore[call-overload]
        if len(group) < plan.spec.settings.min_people:
            continue
        other = a.emotion[a.tp != i]
        e1 = group.emotion
        t = welch(e1.mean(), e1.var(), len(e1), other.mean(), other.var(), len(other))
        if t < z or e1.mean() - other.mean() < 0.15:
            continue
        # what the happy answers keep: their excess of non-negative answers, times the gap in
        # later conversion between negative and other answers, times a conversion's value
        from journeykit.journey.pain_feelings import negative_gap

        gap, _ = negative_gap(answers, draws=1)
        positive = 1 - float(group.negative.mean())
        base = 1 - float(a.negative[a.tp != i].mean())
        people = group.person_id.nunique()
        kept = max(positive - base, 0.0) * people * gap * m.value
        out.append(
            Opportunity(
                id="",
                kind="delight",
                title=f"{plan.touchpoints[i].name}: a moment of delight ({e1.mean():+.2f})",
                stage=plan.stages[plan.tp_stage[i]],
                touchpoint=plan.touchpoints[i].name,
                segment=(),
                value=kept,
                value_low=0.0,
                value_high=kept,
                evidence=(
                    f"emotion {e1.mean():+.2f} from {len(e1):,} answers, against "
                    f"{other.mean():+.2f} elsewhere (t = {t:.1f})",
                    f"{_pct(positive)} of its answers are not negative, against {_pct(base)} "
                    "elsewhere",
                ),
            )
        )
    return out
