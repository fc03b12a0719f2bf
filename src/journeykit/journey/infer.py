"""A starter spec inferred from the data, for a person to edit.

Each event name gets the median *relative position* of its first occurrence in the journeys
it occurs in (0 for a person's first event, 1 for the last: ``(seq - 1) / (n - 1)``); names are then cut into
stages by one-dimensional k-means on those medians (solved exactly by dynamic programming),
so events that come early in journeys land in the first stage and late ones in the last.
The goal is the event that carries the most revenue (else the most common event of the middle
stage). Kinds are guessed from names and channels (``... Failed`` -> error, chat and phone ->
contact, ``... Sent`` -> message, surveys and reviews -> feedback).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from journeykit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace

#: Stage names for five stages; other counts get "stage 1", "stage 2", ...
FIVE = ("awareness", "consideration", "purchase", "retention", "advocacy")
_ERROR = re.compile(r"(fail|error|declin|reject|timeout|crash)", re.IGNORECASE)
_MESSAGE = re.compile(r"\b(sent|delivered|notified|pushed)\b", re.IGNORECASE)


def event_positions(ws: Workspace) -> pd.DataFrame:
    """Per event name: ``events``, ``people``, ``position`` (median relative position of a
    person's first one), ``revenue``, ``channels`` (the names, most events first)."""
    from ibis import _

    ev = ws.table("events")
    people = ws.table("people").select("person_id", n=_.n_events)
    firsts = ev.group_by("person_id", "event").agg(
        first=ev.seq.min(), events=ev.count(), revenue=ev.revenue.sum()
    )
    j = firsts.join(people, "person_id")
    rel = ((j.first - 1) / (j.n - 1).nullif(0)).fill_null(0.0)
    stats = (
        j.mutate(rel=rel)
        .group_by("event")
        .agg(
            events=_.events.sum(),
            people=_.count(),
            position=_.rel.approx_median(),
            revenue=_.revenue.sum(),
        )
        .to_pandas()
    )
    chans = ev.group_by("event", "channel").agg(n=_.count()).to_pandas()
    chans = chans.dropna(subset=["channel"]).sort_values(["event", "n"], ascending=[True, False])
    by_event = chans.groupby("event").channel.apply(list).to_dict()
    stats["channels"] = stats.event.map(lambda e: by_event.get(e, []))
    stats["revenue"] = stats.revenue.fillna(0.0)
    return stats.sort_values(["position", "event"]).reset_index(drop=True)


def cut_positions(values: np.ndarray, k: int) -> np.ndarray:
    """Optimal 1-D k-means of sorted ``values``: the cluster (0..k-1) of each value.

    >>> cut_positions(np.array([0.0, 0.1, 0.5, 0.55, 0.9]), 3).tolist()
    [0, 0, 1, 1, 2]
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros(0, dtype=int)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])

    def cost(i: int, j: int) -> float:  # values i..j-1
        m = j - i
        mean = (s1[j] - s1[i]) / m
        return float((s2[j] - s2[i]) - m * mean * mean)

    inf = float("inf")
    best = np.full((k + 1, n + 1), inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                v = best[c - 1, i] + cost(i, j)
                if v < best[c, j]:
                    best[c, j], back[c, j] = v, i
    labels = np.zeros(n, dtype=int)
    j = n
    for c in range(k, 0, -1):
        i = back[c, j]
        labels[i:j] = c - 1
        j = i
    return labels


def _kind(event: str, channels: list[str]) -> str:
    main = channels[0] if channels else ""
    if _ERROR.search(event):
        return "error"
    if main in ("survey", "review") or "survey" in event.lower():
        return "feedback"
    if main in ("chat", "phone", "sms") and not _MESSAGE.search(event):
        return "contact"
    if _MESSAGE.search(event) and main in ("email", "sms", "push", "notification", "post"):
        return "message"
    return "action"


def _q(text: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted."""
    import json

    if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _\-./]*", text) and text.lower() not in (
        "yes", "no", "true", "false", "null", "on", "off",
    ):  # fmt: skip
        return text
    return json.dumps(text, ensure_ascii=False)


def init_spec(ws: Workspace, *, stages: int = 5, name: str = "My journey") -> str:
    """A starter journey spec (YAML text with comments) inferred from a workspace's events.

    Args:
        ws: the workspace.
        stages: how many stages to cut the events into.
        name: the journey's name.

    Raises:
        InputError: the workspace holds no events.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> _ = load(ws, [{"ts": f"2026-01-01T10:0{i}:00", "event": e, "user_id": "u1",
    ...     "revenue": 20.0 if e == "Order Completed" else None}
    ...     for i, e in enumerate(["Ad Clicked", "Product Viewed", "Order Completed"])])
    >>> from journeykit.journey.spec import load_spec
    >>> load_spec(init_spec(ws, stages=3)).stage_names
    ('stage 1', 'stage 2', 'stage 3')
    """
    stats = event_positions(ws)
    if stats.empty:
        raise InputError("the workspace holds no events to infer a journey from", field="events")
    k = max(1, min(stages, len(stats)))
    labels = cut_positions(stats.position.to_numpy(), k)
    names = list(FIVE) if k == 5 else [f"stage {i + 1}" for i in range(k)]
    stats["stage"] = [names[c] for c in labels]
    with_revenue = stats[stats.revenue > 0]
    if len(with_revenue):
        goal = str(with_revenue.sort_values("revenue", ascending=False).event.iloc[0])
        why = "the event with the most revenue"
    else:
        middle = stats[stats.stage == names[k // 2]]
        goal = str(middle.sort_values("events", ascending=False).event.iloc[0])
        why = "no event carries revenue: the commonest event of the middle stage"
    lines = [
        f"# A starter journey spec written by journeykit from {int(stats.events.sum()):,} events",
        "# of " + f"{len(stats)} names. Events are put into stages by where they usually come in",
        "# people's journeys (median relative position, 0 = first event, 1 = last). Rename the",
        "# stages, move touchpoints, merge events, add channels, filters, KPIs and personas.",
        f"name: {_q(name)}",
        "stages:",
    ]
    for stage in names:
        rows = stats[stats.stage == stage]
        lines.append(f"  - name: {_q(stage)}")
        if rows.empty:
            continue
        lines.append("    touchpoints:")
        for r in rows.itertuples(index=False):
            kind = _kind(str(r.event), list(r.channels))
            chans = ", ".join(str(c) for c in r.channels[:4]) or "none"
            lines.append(
                f"      # {int(r.events):,} events, {int(r.people):,} people, "
                f"position {float(r.position):.2f}, channels: {chans}"
            )
            entry = f"      - {{name: {_q(str(r.event))}, events: [{_q(str(r.event))}]"
            if kind != "action":
                entry += f", kind: {kind}"
            lines.append(entry + "}")
    lines += [
        f"# goal: {why}",
        "goals:",
        f"  - {{name: {_q(goal)}, event: {_q(goal)}}}",
        "# personas: groups of people by a filter, for example",
        "#   - {name: App users, where: 'channel == \"app\"'}",
        "personas: []",
        "",
    ]
    text = "\n".join(lines)
    from journeykit.journey.spec import JourneySpec

    JourneySpec.from_yaml(text)  # what we write must read back
    return text
