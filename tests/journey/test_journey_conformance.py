"""Designed versus actual journeys on hand-built deviations."""

from __future__ import annotations

from collections.abc import Callable

from journeykit.journey.conformance import conformance
from journeykit.journey.spec import SpecBuilder
from journeykit.store import Workspace

SPEC = (
    SpecBuilder()
    .stage("s1")
    .touchpoint("A", events=["A"])
    .stage("s2")
    .touchpoint("B", events=["B"])
    .stage("s3")
    .touchpoint("C", events=["C"])
    .stage("s4")
    .touchpoint("D", events=["D"])
    .goal("C")
    .build()
)


def rows(table, kind: str) -> list[tuple[str, str, int]]:
    t = table[table.kind == kind].sort_values(["from_stage", "to_stage"])
    return list(zip(t.from_stage, t.to_stage, t.people, strict=True))


def test_deviations_are_counted_where_they_happen(journeys: Callable[..., Workspace]) -> None:
    ws = journeys(
        {
            "fine": ["A", "B", "C", "D"],
            "short": ["A", "A", "B"],  # stops early: still conforming
            "skipper": ["A", "C", "D"],  # skips s2
            "late": ["B", "C"],  # starts at s2
            "back": ["A", "B", "C", "B", "C"],  # regression C->B, loops into B and C
            "jumper": ["A", "D", "B"],  # skip A->D, regression D->B (B is new: no loop)
        }
    )
    c = conformance(ws, SPEC)
    assert (c.journeys, c.conforming, c.completed) == (6, 2, 1)
    assert c.share_conforming == 2 / 6
    assert rows(c.table, "skip") == [("s1", "s3", 1), ("s1", "s4", 1)]
    assert rows(c.table, "late_entry") == [("(start)", "s2", 1)]
    assert rows(c.table, "regression") == [("s3", "s2", 1), ("s4", "s2", 1)]
    assert rows(c.table, "loop") == [("s2", "s3", 1), ("s3", "s2", 1)]
    by_kind = c.by_kind.set_index("kind")
    assert by_kind.loc["skip", "people"] == 2 and by_kind.loc["skip", "moves"] == 2
    assert by_kind.loc["loop", "moves"] == 2
    assert abs(by_kind.loc["regression", "share"] - 2 / 6) < 1e-12


def test_nobody_means_no_journeys(ws: Workspace) -> None:
    c = conformance(ws, SPEC)
    assert (c.journeys, c.conforming, c.share_conforming) == (0, 0, 0.0)
    assert c.table.empty
    assert c.by_kind.people.sum() == 0
