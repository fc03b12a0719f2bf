"""Path analytics agree cell for cell with how retentioneering and pm4py read the same log.

Both tools take a log as it is: every row is an event (identical rows too) and a case's events
are sorted by time with a stable sort, so events in the same second keep the file's order.
Neither tool is a dependency (pm4py is AGPL), so the expected values are computed here with
plain pandas, following their definitions:

- transitions (retentioneering's transition graph, pm4py's directly-follows graph): how often
  one event directly follows another in a case; pm4py adds start and end activities;
- step matrix (retentioneering): the share of cases at each event at step k, cases whose path
  is shorter counted as ended;
- variants (pm4py): the sequence of activities of a case, and how many cases have it.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeykit
from journeykit import analytics as an
from journeykit.analytics._common import END, START
from journeykit.ingest import load

EVENTS = ["Viewed", "Added", "Clicked", "Bought", "Asked"]


def make_log(seed: int) -> pd.DataFrame:
    """A log where ties are the rule: few distinct seconds, many identical rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(40):
        for _ in range(int(rng.integers(1, 9))):
            second = int(rng.integers(0, 4))
            rows.append(
                {
                    "ts": f"2026-03-01 10:00:0{second}",
                    "event": EVENTS[int(rng.integers(0, len(EVENTS)))],
                    "user_id": f"u{person:02d}",
                }
            )
            if rng.random() < 0.25:  # an identical row: a double click, two equal order lines
                rows.append(dict(rows[-1]))
    frame = pd.DataFrame(rows)
    # the file is not sorted: people interleave, and ties appear in the file's own order
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def reference_paths(log: pd.DataFrame) -> dict[str, list[str]]:
    """Each case's events, sorted by time with a stable sort (file order within a second)."""
    ordered = log.assign(ts=pd.to_datetime(log["ts"])).sort_values(["user_id", "ts"], kind="stable")
    return {user: list(group["event"]) for user, group in ordered.groupby("user_id", sort=True)}


def reference_transitions(paths: dict[str, list[str]], ends: bool) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for path in paths.values():
        steps = [START, *path, END] if ends else path
        for a, b in pairwise(steps):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return counts


def reference_step_matrix(paths: dict[str, list[str]], max_steps: int) -> dict[tuple, float]:
    cells: dict[tuple[int, str], float] = {}
    for path in paths.values():
        for k in range(1, max_steps + 1):
            event = path[k - 1] if k <= len(path) else END
            cells[(k, event)] = cells.get((k, event), 0) + 1 / len(paths)
    return cells


def reference_variants(paths: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in paths.values():
        key = " > ".join(path)
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_transitions_steps_dfg_and_variants_equal_the_peers(tmp_path: Path, seed: int) -> None:
    log = make_log(seed)
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    ws = journeykit.open(tmp_path / "ws")
    report = load(ws, path)
    assert (report.loaded, report.duplicates, report.rejected) == (len(log), 0, 0)
    paths = reference_paths(log)
    assert sum(len(p) for p in paths.values()) == len(log)

    got = an.transition_matrix(ws).table
    assert {(r.source, r.target): r.transitions for r in got.itertuples()} == reference_transitions(
        paths, ends=False
    )

    dfg = an.flow_graph(ws).edges
    assert {(r.source, r.target): r.transitions for r in dfg.itertuples()} == reference_transitions(
        paths, ends=True
    )

    max_steps = 9
    steps = an.step_matrix(ws, max_steps=max_steps)
    want = reference_step_matrix(paths, max_steps)
    assert set(zip(steps["step"], steps["event"], strict=True)) == set(want)
    for row in steps.itertuples():
        assert row.share == pytest.approx(want[(row.step, row.event)])

    variants = an.variants(ws, top=None)
    assert dict(zip(variants["variant"], variants["units"], strict=True)) == reference_variants(
        paths
    )
    ws.close()


def test_same_second_events_keep_file_order_in_every_analytic(tmp_path: Path) -> None:
    # written in an order that neither names nor ids would give
    path = tmp_path / "log.csv"
    path.write_text(
        "ts,event,user_id\n"
        "2026-03-01 10:00:00,Zoom,u\n"
        "2026-03-01 10:00:00,Add,u\n"
        "2026-03-01 10:00:00,Add,u\n"
        "2026-03-01 10:00:00,Buy,u\n"
    )
    ws = journeykit.open(tmp_path / "ws")
    load(ws, path)
    assert an.variants(ws)["variant"].tolist() == ["Zoom > Add > Add > Buy"]
    table = an.transition_matrix(ws).table
    assert sorted(zip(table["source"], table["target"], table["transitions"], strict=True)) == [
        ("Add", "Add", 1),
        ("Add", "Buy", 1),
        ("Zoom", "Add", 1),
    ]
    ws.close()


def reference_variants_cut(
    paths: dict[str, list[str]], max_length: int, top: int | None
) -> list[tuple[str, int]]:
    """pandas: cut each journey after max_length events, count, then take the top."""
    cut = pd.Series(
        {
            user: " > ".join(p[:max_length]) + (" > …" if len(p) > max_length else "")
            for user, p in paths.items()
        }
    )
    counts = cut.value_counts().rename_axis("variant").reset_index(name="units")
    counts = counts.sort_values(["units", "variant"], ascending=[False, True])
    if top is not None:
        counts = counts.head(top)
    return list(zip(counts["variant"], counts["units"], strict=True))


def test_variants_merge_cut_journeys_before_taking_the_top(tmp_path: Path) -> None:
    # 21 people start A > B and go on differently; 8 people do X > Y and stop
    rows = []
    for i in range(21):
        for k, event in enumerate(["A", "B", f"C{i}"]):
            rows.append({"ts": f"2026-03-01 10:0{k}:00", "event": event, "user_id": f"a{i}"})
    for i in range(8):
        for k, event in enumerate(["X", "Y"]):
            rows.append({"ts": f"2026-03-01 10:0{k}:00", "event": event, "user_id": f"x{i}"})
    log = pd.DataFrame(rows)
    ws = journeykit.open(tmp_path / "ws")
    load(ws, log)
    paths = reference_paths(log)
    got = an.variants(ws, top=1, max_length=2)
    assert list(zip(got["variant"], got["units"], strict=True)) == [("A > B > …", 21)]
    assert got["share"].tolist() == [21 / 29]
    for top in (None, 1, 2, 5):
        for max_length in (1, 2, 3):
            got = an.variants(ws, top=top, max_length=max_length)
            want = reference_variants_cut(paths, max_length, top)
            assert list(zip(got["variant"], got["units"], strict=True)) == want
    ws.close()


@pytest.mark.parametrize("seed", [4, 5])
def test_cut_variants_equal_a_pandas_reference_on_a_tied_log(tmp_path: Path, seed: int) -> None:
    log = make_log(seed)
    ws = journeykit.open(tmp_path / "ws")
    load(ws, log)
    paths = reference_paths(log)
    for top, max_length in ((3, 2), (10, 3), (None, 4)):
        got = an.variants(ws, top=top, max_length=max_length)
        assert list(zip(got["variant"], got["units"], strict=True)) == reference_variants_cut(
            paths, max_length, top
        )
    ws.close()
