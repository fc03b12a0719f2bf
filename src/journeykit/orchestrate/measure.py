"""Measuring automations: entries, outcomes, conversion against the holdout, per-step funnel.

Conversion is intention-to-treat: a journey converts when its person does the goal event within
the goal window after entry, whatever happened in between; the holdout (people kept out of the
journey by hash) is measured the same way, so the difference is the automation's uplift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from journeykit.errors import NotFound

from .runtime import Compiled
from .spec import Automation
from .state import StateStore, automations_t, journeys_t, outbox_t, steps_t

if TYPE_CHECKING:
    import pandas as pd


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``x/n``.

    >>> [round(v, 4) for v in wilson_interval(56, 70)]
    [0.6918, 0.877]
    """
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``x1/n1 - x2/n2`` with Newcombe's hybrid score interval (method 10).

    >>> [round(v, 4) for v in newcombe_interval(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (d, low, high)


def wald_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two proportions with the Wald (normal approximation) interval.

    >>> [round(v, 4) for v in wald_interval(56, 70, 48, 80)]
    [0.2, 0.0575, 0.3425]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p1 - p2
    z = _z(confidence)
    return (d, d - z * se, d + z * se)


@dataclass(frozen=True)
class Uplift:
    """Treatment conversion minus holdout conversion, with its confidence interval."""

    treatment_rate: float
    holdout_rate: float
    uplift: float
    low: float
    high: float
    method: str
    confidence: float


@dataclass(frozen=True)
class AutomationReport:
    """Everything measured for one automation.

    ``groups`` has one row per group (``treatment``, ``holdout``, then ``treatment`` split arms
    as ``split:<step>=<arm>``) with columns entered, waiting, completed, converted, exited,
    conversion_rate, uplift, uplift_low, uplift_high. ``funnel`` has one row per step.
    """

    automation_id: str
    groups: pd.DataFrame
    uplift: Uplift | None
    funnel: pd.DataFrame


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
    method: Literal["newcombe", "wald"] = "newcombe",
) -> pd.DataFrame:
    """Per-group counts, conversion rates and uplift against the holdout (see AutomationReport)."""
    return report(state, automation_id, confidence=confidence, method=method).groups


def report(
    state: StateStore | str,
    automation_id: str,
    *,
    confidence: float = 0.95,
    method: Literal["newcombe", "wald"] = "newcombe",
) -> AutomationReport:
    """Measure one automation.

    Args:
        state: the state store or its URL.
        automation_id: a registered automation.
        confidence: of the uplift interval.
        method: ``newcombe`` (hybrid score; default) or ``wald``.
    """
    import pandas as pd

    store = _store(state)
    automation = load_automation(store, automation_id)
    j = journeys_t.c
    q = (
        sa.select(
            j.grp,
            j.variant,
            j.status,
            sa.func.count().label("n"),
            sa.func.count(j.converted_at).label("conv"),
        )
        .where(j.automation_id == automation_id)
        .group_by(j.grp, j.variant, j.status)
    )
    with store.begin() as conn:
        rows = list(conn.execute(q))
    groups: dict[str, dict[str, int]] = {}

    def add(name: str, status: str, n: int, conv: int) -> None:
        g = groups.setdefault(
            name, dict.fromkeys(("entered", "waiting", "completed", "converted", "exited"), 0)
        )
        g["entered"] += n
        g["converted"] += conv
        key = {"waiting": "waiting", "completed": "completed", "exited": "exited"}.get(status)
        if key:
            g[key] += n

    add("treatment", "", 0, 0)
    add("holdout", "", 0, 0)
    for grp, variant, status, n, conv in rows:
        add(grp, status, n, conv)
        if grp == "treatment" and variant:
            for part in variant.split(","):
                add(f"split:{part}", status, n, conv)
    fn = newcombe_interval if method == "newcombe" else wald_interval
    hold = groups["holdout"]
    records = []
    for name, g in groups.items():
        rate = g["converted"] / g["entered"] if g["entered"] else math.nan
        d = lo = hi = math.nan
        if name != "holdout" and hold["entered"] and g["entered"]:
            d, lo, hi = fn(
                g["converted"], g["entered"], hold["converted"], hold["entered"], confidence
            )
        records.append(
            {
                "group": name,
                **g,
                "conversion_rate": rate,
                "uplift": d,
                "uplift_low": lo,
                "uplift_high": hi,
            }
        )
    frame = pd.DataFrame.from_records(records).set_index("group")
    t = groups["treatment"]
    uplift = None
    if automation.goal is not None and t["entered"] and hold["entered"]:
        d, lo, hi = fn(t["converted"], t["entered"], hold["converted"], hold["entered"], confidence)
        uplift = Uplift(
            t["converted"] / t["entered"],
            hold["converted"] / hold["entered"],
            d,
            lo,
            hi,
            method,
            confidence,
        )
    return AutomationReport(automation_id, frame, uplift, funnel(store, automation_id, automation))


def funnel(
    state: StateStore | str, automation_id: str, automation: Automation | None = None
) -> pd.DataFrame:
    """Per step, in journey order: how many treated journeys reached it, and how many of those
    converted. Columns: step_id, kind, reached, share_of_entered, converted, conversion_rate;
    plus outcomes (queued, held, capped, failed, …) counted per step."""
    import pandas as pd

    store = _store(state)
    automation = automation or load_automation(store, automation_id)
    compiled = Compiled(automation)
    s, j = steps_t.c, journeys_t.c
    q = (
        sa.select(
            s.step_id,
            s.outcome,
            sa.func.count().label("n"),
            sa.func.count(j.converted_at).label("conv"),
        )
        .select_from(steps_t.join(journeys_t, s.journey_id == j.journey_id))
        .where(s.automation_id == automation_id)
        .group_by(s.step_id, s.outcome)
    )
    entered_q = sa.select(sa.func.count()).where(
        j.automation_id == automation_id, j.grp == "treatment"
    )
    with store.begin() as conn:
        rows = list(conn.execute(q))
        entered = conn.execute(entered_q).scalar() or 0
    reached: dict[str, int] = {}
    converted: dict[str, int] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for step_id, outcome, n, conv in rows:
        reached[step_id] = reached.get(step_id, 0) + n
        converted[step_id] = converted.get(step_id, 0) + conv
        outcomes.setdefault(step_id, {})[outcome] = n
    records = []
    for step_id, kind in compiled.step_kinds.items():
        n = reached.get(step_id, 0)
        records.append(
            {
                "step_id": step_id,
                "kind": kind,
                "reached": n,
                "share_of_entered": n / entered if entered else math.nan,
                "converted": converted.get(step_id, 0),
                "conversion_rate": converted.get(step_id, 0) / n if n else math.nan,
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
