"""The people and the paths behind a pain point, for a person to look at.

For a pain point measured as drop-off, the affected people are those who reached its
touchpoint (in its segment and weeks) and never converted afterwards; for one measured in
emotion, the people whose answers about it were negative (in its weeks). Their paths run from
their first event at the touchpoint (in those weeks) onwards, a few steps long, ending in
``(end)`` when the journey stops there.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from journeykit.journey.pains import PainPoint

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from journeykit.journey.measure import Measures
    from journeykit.store import Workspace

_EMOTION_KINDS = ("negative_emotion", "emotion_dip", "comment_burst")
END = "(end)"


def _affected(m: Measures, pain: PainPoint) -> ibis.Table:
    """Rows (``person_id``, ``first_seq``) of the people a drop-off pain point lost."""
    from journeykit.journey.filtering import property_text

    i = m.plan.tp_index(pain.touchpoint)
    t = m.tables.pt
    t = t.filter(t.tp == i)
    if pain.weeks:
        week = t.first_ts.truncate("W").date().cast("string")
        t = t.filter(week.isin(list(pain.weeks)))
    for key, value in pain.segment:
        if key == "channel":
            t = t.filter(t.first_channel == value)
        elif key == "wait":
            t = t.filter(t.long_wait == (value == "long"))
        elif key == "contacts":
            t = t.filter((t.contacts >= 2) == (value == "repeat"))
        else:
            t = t.filter(property_text(t, key) == value)
    t = t.join(m.person.select("person_id", "last_goal_seq"), "person_id")
    lost = t.filter(t.last_goal_seq.isnull() | (t.last_goal_seq < t.first_seq))
    return lost.group_by("person_id").agg(first_seq=lost.first_seq.min())


def people_behind(
    ws: Workspace, m: Measures, pain: PainPoint, answers: pd.DataFrame, *, limit: int = 20
) -> pd.DataFrame:
    """Some affected people (``person_id``, ``first_seq``: where their path starts), by id."""
    import pandas as pd

    if pain.kind in _EMOTION_KINDS:
        i = m.plan.tp_index(pain.touchpoint)
        a = answers[(answers.tp == i) & answers.negative.astype(bool)]
        if pain.weeks:
            a = a[a.week.astype(str).isin(pain.weeks)]
        frame = (
            a.groupby("person_id", as_index=False).seq.min().rename(columns={"seq": "first_seq"})
        )
        frame = frame.sort_values("person_id").head(limit)
        return frame.reset_index(drop=True)
    frame = _affected(m, pain).order_by("person_id").limit(limit).to_pandas()
    return pd.DataFrame(frame, columns=["person_id", "first_seq"])


def paths_from(
    ws: Workspace, starts: dict[str, pd.DataFrame], *, steps: int = 5, top: int = 5
) -> dict[str, list[tuple[str, int]]]:
    """The most common paths (event names joined by " → ") of each group of people, with counts.

    ``starts`` maps a key (a pain point id) to rows of ``person_id`` and ``first_seq``; a path
    takes ``steps`` events from there and ends with ``(end)`` when the person's journey stops
    within them. One query serves every key.
    """
    import ibis
    import pandas as pd

    frames = [f.assign(key=k) for k, f in starts.items() if len(f)]
    if not frames:
        return {}
    both = pd.concat(frames, ignore_index=True)[["key", "person_id", "first_seq"]]
    both = both.astype({"first_seq": "int64", "key": str, "person_id": str})
    ev = ws.table("events")
    people = ibis.memtable(both)
    j = ev.join(people, "person_id").select("key", "person_id", "seq", "event", "first_seq")
    j = j.filter((j.seq >= j.first_seq) & (j.seq < j.first_seq + steps + 1))
    rows = j.order_by(["key", "person_id", "seq"]).to_pandas()
    out: dict[str, list[tuple[str, int]]] = {}
    for key, of_key in rows.groupby("key", sort=False):
        counts: Counter[str] = Counter()
        for _, group in of_key.groupby("person_id", sort=True):
            path = group.event.tolist()[: steps + 1]
            label = " → ".join(path[:steps]) + (f" → {END}" if len(path) <= steps else " → …")
            counts[label] += 1
        out[str(key)] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return out
