"""Designed versus actual: how many journeys follow the designed stage order, and how others deviate.

A journey *conforms* when its stage visits follow the designed order one step at a time from
the first stage (it may stop anywhere). Deviations, counted per move between two visits:

* ``late_entry``: the first visit is not the first stage (``from`` is ``(start)``);
* ``skip``: a move forward over one or more stages (awareness -> purchase);
* ``regression``: a move back to an earlier stage (retention -> consideration);
* ``loop``: a return to a stage visited before (``to`` is the stage returned to). A loop
  always follows a regression somewhere, but not always right before it.

Everything is a group-by over the stage visits (:func:`journeykit.journey.stages.stage_visits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from journeykit.journey.spec import JourneySpec
from journeykit.journey.stages import START, Journeys, TimeArg, prepare, stage_visits

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace

KINDS: tuple[str, ...] = ("late_entry", "skip", "regression", "loop")


@dataclass(frozen=True)
class Conformance:
    """Designed versus actual journeys.

    Attributes:
        journeys: people with at least one stage visit.
        conforming: people whose journey follows the designed order.
        completed: conforming people who reached the last stage.
        by_kind: one row per deviation kind: ``kind``, ``people`` (with at least one such
            move), ``share`` (of journeys), ``moves``.
        table: one row per deviation kind and move: ``kind``, ``from_stage``, ``to_stage``,
            ``people``, ``share`` (of journeys), ``moves``; largest first.
    """

    journeys: int
    conforming: int
    completed: int
    by_kind: pd.DataFrame
    table: pd.DataFrame

    @property
    def share_conforming(self) -> float:
        """Share of journeys that follow the designed order."""
        return self.conforming / self.journeys if self.journeys else 0.0


def conformance(
    ws: Workspace,
    spec: JourneySpec | str | Path | Journeys | None = None,
    *,
    start: TimeArg = None,
    end: TimeArg = None,
) -> Conformance:
    """Compare the journeys people take with the designed stage order.

    >>> import journeykit, tempfile
    >>> from journeykit.ingest import load
    >>> from journeykit.journey.spec import SpecBuilder
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> rows = [("a", "A"), ("a", "B"), ("a", "C"), ("b", "A"), ("b", "C"), ("c", "B")]
    >>> _ = load(ws, [{"ts": f"2026-01-01T10:0{i}:00", "event": e, "user_id": u}
    ...     for i, (u, e) in enumerate(rows)])
    >>> spec = (SpecBuilder().stage("s1").touchpoint("A", events=["A"])
    ...     .stage("s2").touchpoint("B", events=["B"])
    ...     .stage("s3").touchpoint("C", events=["C"]).goal("C").build())
    >>> c = conformance(ws, spec)
    >>> c.journeys, c.conforming, c.completed
    (3, 1, 1)
    >>> c.table[["kind", "from_stage", "to_stage", "people"]].values.tolist()
    [['late_entry', '(start)', 's2', 1], ['skip', 's1', 's3', 1]]
    """
    import ibis
    import pandas as pd
    from ibis import _

    j = prepare(ws, spec, start=start, end=end)
    last = len(j.plan.stages) - 1
    v = stage_visits(ws, j)
    w = ibis.window(group_by=["person_id", "stage_index"], order_by="visit")
    v = v.mutate(_nth=ibis.row_number().over(w))
    prev = v.prev_stage_index
    kind = ibis.cases(
        ((v.visit == 1) & (v.stage_index != 0), "late_entry"),
        (prev.notnull() & (v.stage_index > prev + 1), "skip"),
        (prev.notnull() & (v.stage_index < prev), "regression"),
        else_=ibis.null("string"),
    )
    v = v.mutate(_kind=kind, _loop=v._nth > 0)
    deviations = v.filter(v._kind.notnull()).select(
        "person_id", kind=v._kind, frm=prev, to=v.stage_index
    )
    loops = v.filter(v._loop).select(
        "person_id", kind=ibis.literal("loop"), frm=prev, to=v.stage_index
    )
    moves = deviations.union(loops)
    per_move = moves.group_by("kind", "frm", "to").agg(
        people=_.person_id.nunique(), moves=_.count()
    )
    per_kind = moves.group_by("kind").agg(people=_.person_id.nunique(), moves=_.count())
    people = v.group_by("person_id").agg(
        bad=(v._kind.notnull() | v._loop).any(), top=v.stage_index.max()
    )
    totals = people.agg(
        journeys=people.count(),
        conforming=(~people.bad).cast("int64").sum(),
        completed=((~people.bad) & (people.top == last)).cast("int64").sum(),
    ).to_pandas()
    journeys = int(totals.journeys.iloc[0] or 0)
    names = list(j.plan.stages)

    def label(code: object) -> str:
        return START if code is None or pd.isna(code) else names[int(code)]  # type: ignore[call-overload]

    table = per_move.to_pandas()
    table = pd.DataFrame(
        {
            "kind": table["kind"].astype(str),
            "from_stage": [label(c) for c in table["frm"]],
            "to_stage": [label(c) for c in table["to"]],
            "people": table["people"].astype("int64"),
            "share": table["people"] / journeys if journeys else 0.0,
            "moves": table["moves"].astype("int64"),
        }
    )
    table = table.sort_values(["people", "kind", "from_stage"], ascending=[False, True, True])
    kinds = per_kind.to_pandas().set_index("kind")
    by_kind = pd.DataFrame(
        {
            "kind": list(KINDS),
            "people": [int(kinds["people"].get(k, 0)) for k in KINDS],
            "moves": [int(kinds["moves"].get(k, 0)) for k in KINDS],
        }
    )
    by_kind.insert(2, "share", by_kind["people"] / journeys if journeys else 0.0)
    return Conformance(
        journeys=journeys,
        conforming=int(totals.conforming.iloc[0] or 0),
        completed=int(totals.completed.iloc[0] or 0),
        by_kind=by_kind,
        table=table.reset_index(drop=True),
    )
