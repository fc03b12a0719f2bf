"""Event identity without message ids: where a row was read, so identical rows are real events,
a re-read stores nothing, a grown file stores only its new rows; ties keep source order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import journeykit
from journeykit.ingest import load

HEADER = "ts,event,user_id,revenue\n"
# two identical clicks in one second, and two identical order lines
BODY = (
    "2026-03-01 10:00:00,Clicked,u1,\n"
    "2026-03-01 10:00:00,Clicked,u1,\n"
    "2026-03-01 10:05:00,Order Line,u1,9.5\n"
    "2026-03-01 10:05:00,Order Line,u1,9.5\n"
    "2026-03-01 11:00:00,Clicked,u2,\n"
)


def stored(ws) -> list[tuple[str, str, int]]:
    return ws.store.fetchall("SELECT user_id, event, seq FROM events ORDER BY user_id, seq")


def test_identical_rows_are_distinct_events(tmp_path: Path, ws) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text(HEADER + BODY)
    report = load(ws, path)
    assert (report.rows, report.loaded, report.duplicates, report.already_stored) == (5, 5, 0, 0)
    assert ws.store.scalar("SELECT count(*) FROM events WHERE event = 'Order Line'") == 2
    assert ws.store.scalar("SELECT sum(revenue) FROM events") == 19.0


def test_reloading_a_source_stores_nothing_and_names_the_earlier_load(tmp_path: Path, ws) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text(HEADER + BODY)
    first = load(ws, path)
    before = stored(ws)
    again = load(ws, path)
    assert (again.loaded, again.already_stored, again.repeated) == (0, 5, 0)
    assert [(e.load_id, e.rows) for e in again.earlier_loads] == [(first.load_id, 5)]
    assert again.earlier_loads[0].source == str(path)
    assert stored(ws) == before


def test_a_grown_file_stores_only_its_new_rows(tmp_path: Path, ws) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text(HEADER + BODY)
    load(ws, path)
    # a third identical click, and a new row written at the top of the file
    path.write_text(
        HEADER + "2026-03-01 09:00:00,Opened,u1,\n" + BODY + "2026-03-01 10:00:00,Clicked,u1,\n"
    )
    report = load(ws, path)
    assert (report.loaded, report.already_stored) == (2, 5)
    assert ws.store.scalar("SELECT count(*) FROM events WHERE event = 'Clicked'") == 4
    assert stored(ws)[:5] == [
        ("u1", "Opened", 1),
        ("u1", "Clicked", 2),
        ("u1", "Clicked", 3),
        ("u1", "Clicked", 4),
        ("u1", "Order Line", 5),
    ]


def test_a_re_export_with_columns_reordered_is_the_same_rows(tmp_path: Path, ws) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text(HEADER + BODY)
    load(ws, path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame[["user_id", "revenue", "event", "ts"]].to_csv(path, index=False)
    report = load(ws, path)
    assert (report.loaded, report.already_stored) == (0, 5)


def test_the_same_rows_from_another_source_are_other_events(ws) -> None:
    rows = [{"ts": "2026-03-01T10:00:00", "event": "A", "user_id": "u1"}]
    assert load(ws, rows, source_name="shop").loaded == 1
    assert load(ws, rows, source_name="shop").loaded == 0
    assert load(ws, rows, source_name="app").loaded == 1


def test_row_dedupe_is_opt_in(tmp_path: Path, ws) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text(HEADER + BODY)
    report = load(ws, path, dedupe_rows=True)
    assert (report.loaded, report.repeated, report.duplicates) == (3, 2, 2)
    # with dedupe an identical row is the same event wherever it is read
    other = tmp_path / "overlap.csv"
    other.write_text(HEADER + BODY.splitlines(keepends=True)[-1] + "2026-03-02 10:00,New,u2,\n")
    report = load(ws, other, dedupe_rows=True)
    assert (report.loaded, report.already_stored) == (1, 1)


def test_ties_keep_source_order_then_load_order(tmp_path: Path) -> None:
    ws = journeykit.open(tmp_path / "ws")
    same = "2026-03-01T10:00:00"
    # names sort the other way round from the file, so a sort by name or id would show
    load(ws, [{"ts": same, "event": e, "user_id": "u"} for e in ("Zeta", "Mu", "Alpha")])
    load(ws, [{"ts": same, "event": "Beta", "user_id": "u"}])
    load(ws, [{"ts": "2026-03-01T09:59:59", "event": "Early", "user_id": "u"}])
    order = ws.store.fetchall("SELECT event, prev_event FROM events ORDER BY seq")
    assert order == [
        ("Early", None),
        ("Zeta", "Early"),
        ("Mu", "Zeta"),
        ("Alpha", "Mu"),
        ("Beta", "Alpha"),
    ]
    ws.close()


def test_message_ids_still_decide_identity(ws) -> None:
    rows = [{"event_id": "m1", "ts": "2026-03-01T10:00:00Z", "event": "A", "user_id": "u"}] * 2
    report = load(ws, rows)
    assert (report.loaded, report.repeated) == (1, 1)
    rows = [{"event_id": "m1", "ts": "2026-03-01T10:00:00Z", "event": "A", "user_id": "u"}]
    assert load(ws, rows, source_name="elsewhere").already_stored == 1


def test_workspaces_from_before_load_order_open_and_load(tmp_path: Path) -> None:
    ws = journeykit.open(tmp_path / "old")
    load(ws, [{"ts": "2026-03-01T10:00:00", "event": "A", "user_id": "u"}])
    # a workspace written before events knew their load and row
    ws.store.execute("UPDATE events SET load_no = NULL, src_row = NULL")
    ws.store.execute("ALTER TABLE events DROP COLUMN src_row")
    ws.store.execute("ALTER TABLE loads DROP COLUMN load_no")
    ws.close()
    ws = journeykit.open(tmp_path / "old")
    load(ws, [{"ts": "2026-03-01T10:00:00", "event": "B", "user_id": "u"}])
    assert ws.store.fetchall("SELECT event, seq FROM events ORDER BY seq") == [("A", 1), ("B", 2)]
    ws.close()
