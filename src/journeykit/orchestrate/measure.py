"""Measuring automations: people entered, conversion against the holdout, per-step funnel.

The unit is the person, not the journey. Each person's arm (treatment or holdout) is fixed at
their first entry, and held-out people walk the same waits and exits without being acted on, so
both arms re-enter on the same terms. A person counts once, in the arm of their first journey in
the period measured, and converts when they do the goal event within the goal window after
that entry (intention-to-treat: whatever happened in between). Both arms are thus measured over
the same exposure window, and the difference of the two rates is the automation's uplift, with
an interval from statsmodels (Newcombe's hybrid score by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from journeykit.errors import NotFound

from .clock import SystemClock
from .runtime import Compiled
from .spec import Automation
from .state import StateStore, automations_t, journeys_t, outbox_t, steps_t

if TYPE_CHECKING:
    import pandas as pd

Method = Literal["newcombe", "wald", "agresti-caffo", "score"]

#: interval methods: statsmodels' name and how the report names it
METHODS: dict[str, tuple[str, str]] = {
    "newcombe": ("newcomb", "Newcombe hybrid score"),
    "wald": ("wald", "Wald"),
    "agresti-caffo": ("agresti-caffo", "Agresti-Caffo"),
    "score": ("score", "Miettinen-Nurminen score"),
}

#: below these an arm is too small to say anything (the normal approximations behind every
#: interval here want at least this many people, conversions and non-conversions per arm)
MIN_PEOPLE = 30
MIN_OUTCOMES = 5


def diff_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95, method: Method = "newcombe"
) -> tuple[float, float, float]:
    """Difference ``x1/n1 - x2/n2`` and its interval (statsmodels ``confint_proportions_2indep``).

    >>> [round(v, 4) for v in diff_interval(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r} (use {', '.join(METHODS)})")
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(
        x1, n1, x2, n2, method=METHODS[method][0], compare="diff", alpha=1 - confidence
    )
    return (x1 / n1 - x2 / n2, float(lo), float(hi))


def rate_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of one proportion (statsmodels ``proportion_confint``).

    >>> [round(v, 4) for v in rate_interval(56, 70)]
    [0.6918, 0.877]
    """
    if n == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    return (float(lo), float(hi))


@dataclass(frozen=True)
class Uplift:
    """Treatment conversion minus holdout conversion (people), with its confidence interval."""

    treatment_rate: float
    holdout_rate: float
    uplift: float
    low: float
    high: float
    method: str
    confidence: float
    treatment_people: int = 0
    holdout_people: int = 0

    @property
    def method_label(self) -> str:
        """The interval's name as a report prints it."""
        return METHODS.get(self.method, (self.method, self.method))[1]


@dataclass(frozen=True)
class AutomationReport:
    """Everything measured for one automation.

    ``groups`` has one row per arm, indexed by group (``treatment``, ``holdout``, then
    ``split:<step>=<arm>`` for the treated people of each split arm), with columns ``arm`` (a
    label), ``entered`` (people, counted once, in the arm of their first journey in the
    period), ``converted`` (of them, those who reached the goal within its window after that
    entry), ``conversion_rate``, ``rate_low``/``rate_high`` (Wilson), ``in_window`` (people
    whose goal window is still open: their result may still change), ``waiting``,
    ``completed``, ``exited`` (status of that first journey), ``journeys`` (every journey,
    re-entries included), ``uplift``, ``uplift_low``, ``uplift_high`` (against the holdout).
    ``funnel`` has one row per step (see :func:`funnel`). ``warnings`` say when an arm is too
    small for its figures to mean anything.
    """

    automation_id: str
    groups: pd.DataFrame
    uplift: Uplift | None
    funnel: pd.DataFrame
    warnings: tuple[str, ...] = ()
    method: str = "newcombe"
    confidence: float = 0.95

    @property
    def method_label(self) -> str:
        """The interval's name as a report prints it."""
        return METHODS[self.method][1]


def _store(state: StateStore | str) -> StateStore:
    return state if isinstance(state, StateStore) else StateStore(state, create=False)


def load_automation(state: StateStore | str, automation_id: str) -> Automation:
    """The spec of a registered automation."""
    store = _store(state)
    with store.begin() as conn:
        spec = conn.execute(
            sa.select(automations_t.c.spec).where(automations_t.c.automation_id == automation_id)
        ).scalar()
        if spec is None:
            known = [r[0] for r in conn.execute(sa.select(automations_t.c.automation_id))]
            raise NotFound("automation", automation_id, known)
    return Automation.model_validate_json(spec)


def stats(
    state: StateStore | str,
    automation_id: str,
    *,
    confidence: float = 0.95,
    method: Method = "newcombe",
) -> pd.DataFrame:
    """Per-arm people, conversion rates and uplift against the holdout (see AutomationReport)."""
    return report(state, automation_id, confidence=confidence, method=method).groups


def _label(group: str) -> str:
    if group == "treatment":
        return "treatment (gets the journey)"
    if group == "holdout":
        return "holdout (kept out, measured alike)"
    step, _, arm = group.removeprefix("split:").partition("=")
    return f"split {step}: arm {arm}"


def _small(name: str, people: int, converted: int) -> str | None:
    if people < MIN_PEOPLE:
        return f"{name} has {people} people: too few to say anything (want {MIN_PEOPLE} or more)"
    if min(converted, people - converted) < MIN_OUTCOMES:
        which = "conversions" if converted < MIN_OUTCOMES else "non-conversions"
        return (
            f"{name} has {min(converted, people - converted)} {which} among {people} people: "
            f"too few for the interval to be trusted (want {MIN_OUTCOMES} or more)"
        )
    return None


def report(
    state: StateStore | str,
    automation_id: str,
    *,
    confidence: float = 0.95,
    method: Method = "newcombe",
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> AutomationReport:
    """Measure one automation, person by person.

    Args:
        state: the state store or its URL.
        automation_id: a registered automation.
        confidence: of the intervals.
        method: the uplift interval: ``newcombe`` (hybrid score; default), ``wald``,
            ``agresti-caffo`` or ``score`` (Miettinen-Nurminen), all from statsmodels.
        since: count people whose first journey in ``[since, until)`` started the exposure.
        until: see ``since``.
        now: the time that decides which goal windows are still open (default: the clock).
    """
    import pandas as pd

    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r} (use {', '.join(METHODS)})")
    store = _store(state)
    automation = load_automation(store, automation_id)
    now = now or SystemClock().now()
    j = journeys_t.c
    period = [j.automation_id == automation_id]
    if since is not None:
        period.append(j.entered_at >= since)
    if until is not None:
        period.append(j.entered_at < until)
    first = (
        sa.select(j.person_id, sa.func.min(j.entry).label("entry"))
        .where(*period)
        .group_by(j.person_id)
        .subquery()
    )
    open_window = sa.func.sum(sa.case((j.track_until > now, 1), else_=0))
    q = (
        sa.select(
            j.grp,
            j.variant,
            j.status,
            sa.func.count().label("n"),
            sa.func.count(j.converted_at).label("conv"),
            open_window.label("open"),
        )
        .select_from(
            journeys_t.join(
                first, sa.and_(j.person_id == first.c.person_id, j.entry == first.c.entry)
            )
        )
        .where(j.automation_id == automation_id)
        .group_by(j.grp, j.variant, j.status)
    )
    all_q = sa.select(j.grp, sa.func.count()).where(*period).group_by(j.grp)
    with store.begin() as conn:
        rows = list(conn.execute(q))
        journeys: dict[Any, int] = {row[0]: row[1] for row in conn.execute(all_q)}
    keys = ("entered", "converted", "in_window", "waiting", "completed", "exited")
    groups: dict[str, dict[str, int]] = {
        "treatment": dict.fromkeys(keys, 0),
        "holdout": dict.fromkeys(keys, 0),
    }

    def add(name: str, status: str, n: int, conv: int, still: int) -> None:
        g = groups.setdefault(name, dict.fromkeys(keys, 0))
        g["entered"] += n
        g["converted"] += conv
        g["in_window"] += int(still or 0)
        if status in ("waiting", "completed", "exited"):
            g[status] += n

    for grp, variant, status, n, conv, still in rows:
        add(grp, status, n, conv, still)
        if grp == "treatment" and variant:
            for part in variant.split(","):
                add(f"split:{part}", status, n, conv, still)
    hold = groups["holdout"]
    records = []
    for name, g in groups.items():
        n, x = g["entered"], g["converted"]
        rate = x / n if n else math.nan
        r_lo, r_hi = rate_interval(x, n, confidence)
        d = lo = hi = math.nan
        if name != "holdout" and hold["entered"] and n:
            d, lo, hi = diff_interval(x, n, hold["converted"], hold["entered"], confidence, method)
        records.append(
            {
                "group": name,
                "arm": _label(name),
                **g,
                "conversion_rate": rate,
                "rate_low": r_lo,
                "rate_high": r_hi,
                "journeys": int(journeys.get(name, 0))
                if name in ("treatment", "holdout")
                else g["entered"],
                "uplift": d,
                "uplift_low": lo,
                "uplift_high": hi,
            }
        )
    frame = pd.DataFrame.from_records(records).set_index("group")
    t = groups["treatment"]
    uplift = None
    warnings: list[str] = []
    if automation.goal is None:
        warnings.append("no goal: there is no conversion to compare")
    elif not automation.holdout and not hold["entered"]:
        warnings.append("no holdout: the uplift cannot be measured (set 'holdout' above 0)")
    if automation.goal is not None and t["entered"] and hold["entered"]:
        d, lo, hi = diff_interval(
            t["converted"], t["entered"], hold["converted"], hold["entered"], confidence, method
        )
        uplift = Uplift(
            t["converted"] / t["entered"],
            hold["converted"] / hold["entered"],
            d,
            lo,
            hi,
            method,
            confidence,
            t["entered"],
            hold["entered"],
        )
    if automation.goal is not None:
        for name, g in groups.items():
            if name == "holdout" and not automation.holdout and not g["entered"]:
                continue
            why = _small(_label(name).split(" (")[0], g["entered"], g["converted"])
            if why:
                warnings.append(why)
    return AutomationReport(
        automation_id,
        frame,
        uplift,
        funnel(store, automation_id, automation),
        tuple(warnings),
        method,
        confidence,
    )


def funnel(
    state: StateStore | str, automation_id: str, automation: Automation | None = None
) -> pd.DataFrame:
    """Per step, in journey order: how many treated people reached it, and how many of those
    converted. Columns: step_id, kind, reached (people), share_of_entered (of treated people),
    converted (people), conversion_rate; and outcomes (queued, held, capped, failed, …)
    counted per journey."""
    import pandas as pd

    store = _store(state)
    automation = automation or load_automation(store, automation_id)
    compiled = Compiled(automation)
    s, j = steps_t.c, journeys_t.c
    joined = steps_t.join(journeys_t, s.journey_id == j.journey_id)
    treated = sa.and_(s.automation_id == automation_id, j.grp == "treatment")
    people_q = (
        sa.select(
            s.step_id,
            sa.func.count(sa.distinct(j.person_id)).label("n"),
            sa.func.count(sa.distinct(sa.case((j.converted_at.is_not(None), j.person_id)))).label(
                "conv"
            ),
        )
        .select_from(joined)
        .where(treated)
        .group_by(s.step_id)
    )
    outcome_q = (
        sa.select(s.step_id, s.outcome, sa.func.count())
        .select_from(joined)
        .where(treated)
        .group_by(s.step_id, s.outcome)
    )
    entered_q = sa.select(sa.func.count(sa.distinct(j.person_id))).where(
        j.automation_id == automation_id, j.grp == "treatment"
    )
    with store.begin() as conn:
        people = {step: (n, conv) for step, n, conv in conn.execute(people_q)}
        outcomes: dict[str, dict[str, int]] = {}
        for step_id, outcome, n in conn.execute(outcome_q):
            outcomes.setdefault(step_id, {})[outcome] = n
        entered = conn.execute(entered_q).scalar() or 0
    records = []
    for step_id, kind in compiled.step_kinds.items():
        n, conv = people.get(step_id, (0, 0))
        records.append(
            {
                "step_id": step_id,
                "kind": kind,
                "reached": n,
                "share_of_entered": n / entered if entered else math.nan,
                "converted": conv,
                "conversion_rate": conv / n if n else math.nan,
                "outcomes": ", ".join(
                    f"{k}={v}" for k, v in sorted(outcomes.get(step_id, {}).items())
                ),
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "step_id",
            "kind",
            "reached",
            "share_of_entered",
            "converted",
            "conversion_rate",
            "outcomes",
        ],
    )


def dead_letters(state: StateStore | str, automation_id: str | None = None) -> pd.DataFrame:
    """Messages that will not be sent, with the reason: columns outbox_id, idem_key,
    automation_id, person_id, step_id, kind, channel, attempts, last_error, created_at."""
    import pandas as pd

    store = _store(state)
    o = outbox_t.c
    q = sa.select(
        o.outbox_id, o.idem_key, o.automation_id, o.person_id, o.step_id, o.kind, o.channel,
        o.attempts, o.last_error, o.created_at,
    ).where(o.status == "dead")  # fmt: skip
    if automation_id:
        q = q.where(o.automation_id == automation_id)
    with store.begin() as conn:
        return pd.DataFrame(
            list(conn.execute(q.order_by(o.outbox_id))), columns=list(q.selected_columns.keys())
        )


def list_automations(state: StateStore | str) -> pd.DataFrame:
    """Registered automations with live counts: automation_id, name, priority, enabled,
    version, trigger, entered, waiting, updated_at."""
    import pandas as pd

    store = _store(state)
    a, j = automations_t.c, journeys_t.c
    counts = (
        sa.select(
            j.automation_id,
            sa.func.count().label("entered"),
            sa.func.sum(sa.case((j.status == "waiting", 1), else_=0)).label("waiting"),
        )
        .group_by(j.automation_id)
        .subquery()
    )
    q = (
        sa.select(
            a.automation_id, a.name, a.priority, a.enabled, a.version, a.trigger,
            sa.func.coalesce(counts.c.entered, 0).label("entered"),
            sa.func.coalesce(counts.c.waiting, 0).label("waiting"),
            a.updated_at,
        )
        .select_from(automations_t.outerjoin(counts, counts.c.automation_id == a.automation_id))
        .order_by(a.priority.desc(), a.automation_id)
    )  # fmt: skip
    with store.begin() as conn:
        rows = list(conn.execute(q))
    frame = pd.DataFrame(rows, columns=list(q.selected_columns.keys()))
    return frame.astype({"entered": "int64", "waiting": "int64"})
