"""Stage views for the overview: people by current stage, revenue by stage over time.

Both read each person's current stage from :func:`journeykit.journey.stages.current_stages`
(the stage of their latest event that moves people) under the workspace's journey spec.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace


def people_by_stage(ws: Workspace, spec: Any) -> pd.DataFrame:
    """People per current stage, in the spec's stage order (stages with nobody included).

    Returns:
        ``stage``, ``people`` (now in it), ``reached`` (whose furthest stage is it or a later
        one), ``converted`` (of the people now in it, those who reached a goal).
    """
    import pandas as pd

    from journeykit.journey.stages import current_stages

    cur = current_stages(ws, spec)
    counts = (
        cur.group_by("stage_index")
        .agg(people=cur.count(), converted=cur.converted.cast("int64").sum())
        .to_pandas()
    )
    furthest = cur.group_by("furthest_index").agg(n=cur.count()).to_pandas()
    got = {int(r.stage_index): r for r in counts.itertuples(index=False)}
    far = {int(r.furthest_index): int(r.n) for r in furthest.itertuples(index=False)}
    rows = [
        {
            "stage": name,
            "people": int(got[i].people) if i in got else 0,
            "reached": sum(n for j, n in far.items() if j >= i),
            "converted": int(got[i].converted) if i in got else 0,
        }
        for i, name in enumerate(spec.stage_names)
    ]
    return pd.DataFrame(rows, columns=["stage", "people", "reached", "converted"])


def revenue_by_stage(ws: Workspace, spec: Any, stop: datetime) -> pd.DataFrame:
    """Revenue (the spec's conversions at its revenue field) per 7-day window before ``stop``,
    split by the current stage of the people who spent it.

    Returns:
        ``week`` (first day of the window), ``stage``, ``revenue``, in stage order then week.
    """
    import ibis
    import pandas as pd

    from journeykit.journey.filtering import event_money
    from journeykit.journey.stages import current_stages

    cur = current_stages(ws, spec).select("person_id", "stage", "stage_index")
    cur = cur.rename(_c_person_id="person_id")
    ev = ws.table("events")
    ev = ev.filter(ev.event.isin(list(spec.conversion_events)), ev.ts < stop)
    ev = ev.mutate(revenue=event_money(ev, spec.revenue_field))
    paid = ev.filter(ev.revenue.notnull(), ev.revenue != 0)
    joined = paid.join(cur, paid.person_id == cur._c_person_id)
    frame = (
        joined.group_by(
            k=(ibis.literal(stop.date()).delta(joined.ts.date(), unit="day") - 1) // 7,
            stage=joined.stage,
            stage_index=joined.stage_index,
        )
        .agg(revenue=joined.revenue.sum())
        .to_pandas()
    )
    if frame.empty:
        return pd.DataFrame(columns=["week", "stage", "revenue"])
    frame["week"] = [stop.date() - timedelta(days=7 * (int(k) + 1)) for k in frame["k"]]
    frame = frame.sort_values(["stage_index", "week"])
    return frame[["week", "stage", "revenue"]].reset_index(drop=True)
