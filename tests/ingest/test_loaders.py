"""Loaders: every format, mapping, time zones, ids, and bad input beside good input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeykit.errors import InputError, InvalidFile
from journeykit.ingest import load
from journeykit.ingest.stage import parse_mapping

ROWS = [
    {"ts": "2026-03-01T10:00:00Z", "event": "Page Viewed", "anonymous_id": "a1", "channel": "Web"},
    {
        "ts": "2026-03-01T12:30:00+02:00",
        "event": "Order Completed",
        "user_id": "u1",
        "revenue": 30.5,
        "properties": {"items": 2},
    },
]


def events(ws) -> pd.DataFrame:
    return ws.store.df("SELECT * FROM events ORDER BY ts, event_id")


def test_list_of_dicts_normalises_time_channel_and_properties(ws):
    report = load(ws, ROWS)
    assert (report.rows, report.loaded, report.rejected) == (2, 2, 0)
    frame = events(ws)
    assert list(frame["ts"].astype(str)) == ["2026-03-01 10:00:00", "2026-03-01 10:30:00"]
    assert frame["channel"].tolist()[0] == "web"
    assert json.loads(frame["properties"].iloc[1]) == {"items": 2}
    assert frame["revenue"].iloc[1] == 30.5
    assert frame["type"].unique().tolist() == ["track"]


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_dataframes(ws, kind):
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-03-01 10:00", "2026-03-02 11:00"]),
            "event": ["A", "B"],
            "user_id": ["u1", "u2"],
            "revenue": [1.0, None],
        }
    )
    source = {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "arrow": pa.Table.from_pandas(frame),
    }[kind]
    assert load(ws, source).loaded == 2
    assert ws.store.scalar("SELECT count(DISTINCT person_id) FROM events") == 2


def test_csv_parquet_jsonl_give_the_same_events(tmp_path, ws):
    frame = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "ts": ["2026-03-01 10:00:00"] * 3,
            "event": ["A", "B", "C"],
            "user_id": ["u1", "u1", "u2"],
        }
    )
    frame.to_csv(tmp_path / "x.csv", index=False)
    frame.to_parquet(tmp_path / "x.parquet")
    (tmp_path / "x.jsonl").write_text(
        "\n".join(json.dumps(r) for r in frame.to_dict("records")), encoding="utf-8"
    )
    for name in ("x.csv", "x.parquet", "x.jsonl"):
        report = load(ws, tmp_path / name)
        assert report.rows == 3
    assert ws.store.scalar("SELECT count(*) FROM events") == 3
    assert ws.store.scalar("SELECT count(*) FROM loads") == 3
    assert ws.store.fetchall("SELECT sum(n_duplicates) FROM loads")[0][0] == 6


def test_gzipped_jsonl_and_tsv(tmp_path, ws):
    lines = [json.dumps({"ts": "2026-03-01T10:00:00Z", "event": "A", "userId": "u9"})]
    (tmp_path / "x.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    (tmp_path / "y.tsv").write_text("ts\tevent\tuser_id\n2026-03-01 10:00\tB\tu9\n")
    assert load(ws, tmp_path / "x.jsonl.gz").loaded == 1
    assert load(ws, tmp_path / "y.tsv").loaded == 1
    assert ws.store.scalar("SELECT count(DISTINCT person_id) FROM events") == 1


def test_mapping_foreign_layout(tmp_path, ws):
    (tmp_path / "pos.csv").write_text(
        "when,customer_no,what,total\n2026-03-01 09:00,C-7,Order Completed,19.99\n"
    )
    mapping = parse_mapping("ts=when,person=customer_no,event=what,revenue=total")
    report = load(ws, tmp_path / "pos.csv", mapping=mapping, tz="Europe/Paris")
    assert report.loaded == 1
    row = ws.store.fetchall("SELECT ts, user_id, event, revenue FROM events")[0]
    assert str(row[0]) == "2026-03-01 08:00:00"  # Paris is UTC+1 in March
    assert row[1:] == ("C-7", "Order Completed", 19.99)


def test_mapping_names_a_missing_column(tmp_path, ws):
    (tmp_path / "a.csv").write_text("ts,event,user_id\n2026-03-01,A,u\n")
    with pytest.raises(InputError, match="nope"):
        load(ws, tmp_path / "a.csv", mapping={"user_id": "nope"})
    with pytest.raises(InputError, match="target"):
        parse_mapping("colour=x")


def test_epoch_seconds_and_milliseconds(ws):
    rows = [
        {"ts": "1772359200", "event": "A", "user_id": "u"},
        {"ts": "1772359200000", "event": "B", "user_id": "u"},
    ]
    load(ws, rows)
    assert {str(v[0]) for v in ws.store.fetchall("SELECT ts FROM events")} == {
        "2026-03-01 10:00:00"
    }


def test_stable_event_id_makes_reload_a_no_op(tmp_path, ws):
    path = tmp_path / "a.csv"
    path.write_text("ts,event,user_id\n2026-03-01 10:00,A,u1\n2026-03-01 11:00,B,u1\n")
    first = load(ws, path)
    before = events(ws)
    second = load(ws, path)
    assert (first.loaded, second.loaded, second.duplicates) == (2, 0, 2)
    pd.testing.assert_frame_equal(before, events(ws))


def test_duplicate_ids_in_one_source_are_stored_once(ws):
    rows = [{"event_id": "x", "ts": "2026-03-01T10:00:00Z", "event": "A", "user_id": "u"}] * 3
    report = load(ws, rows)
    assert (report.loaded, report.duplicates) == (1, 2)


def test_bad_rows_are_reported_and_good_rows_kept(tmp_path, ws):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "ts,event,user_id,revenue,properties\n"
        "2026-03-01 10:00,A,u1,,\n"  # line 2 good
        ",B,u1,,\n"  # line 3 missing ts
        "yesterday,C,u1,,\n"  # line 4 unparseable ts
        "2026-03-01 10:00,,u1,,\n"  # line 5 no event
        "2026-03-01 10:00,D,,,\n"  # line 6 no identifier
        "2026-03-01 10:00,E,u1,ten,\n"  # line 7 revenue not a number
        '2026-03-01 10:00,F,u1,,"[1,2]"\n'  # line 8 properties not an object
        "2099-01-01 10:00,G,u1,,\n"  # line 9 in the future
        "2026-03-01 11:00,H,u2,5,\n"  # line 10 good
    )
    report = load(ws, path)
    assert report.loaded == 2
    got = {(r.row, r.field) for r in report.rejects}
    assert got == {
        (3, "ts"),
        (4, "ts"),
        (5, "event"),
        (6, "user_id"),
        (7, "revenue"),
        (8, "properties"),
        (9, "ts"),
    }
    reasons = {r.row: r.reason for r in report.rejects}
    assert reasons[4] == "cannot parse timestamp: yesterday"
    assert "future" in reasons[9]
    rejects_file = Path(report.rejects_file)
    assert rejects_file.read_text().count("\n") == 8  # header + 7
    assert ws.store.scalar("SELECT count(*) FROM rejects") == 7


def test_non_utf8_and_ragged_lines_keep_line_numbers(tmp_path, ws):
    path = tmp_path / "bytes.csv"
    path.write_bytes(
        b"ts,event,user_id\n2026-03-01 10:00,A,u1\n2026-03-01 10:00,B\xff\xfe,u1\n"
        b"2026-03-01 10:00,C,u1,extra\n,D,u1\n2026-03-01 10:00,E,u1\n"
    )
    report = load(ws, path)
    assert report.loaded == 2
    assert {(r.row, r.reason.split(":")[0]) for r in report.rejects} >= {
        (3, "bytes that are not UTF-8")
    }
    assert {r.row for r in report.rejects} == {3, 4, 5}
    assert {r.row: r.field for r in report.rejects}[5] == "ts"


def test_jsonl_bad_lines(tmp_path, ws):
    path = tmp_path / "x.jsonl"
    path.write_bytes(
        b'{"ts": "2026-03-01T10:00:00Z", "event": "A", "userId": "u"}\n'
        b"{not json}\n[1]\n\xff\n"
        b'{"ts": "2026-03-01T11:00:00Z", "userId": "u"}\n'
        b'{"ts": "2026-03-01T12:00:00Z", "event": "B", "userId": "u"}\n'
    )
    report = load(ws, path)
    assert report.loaded == 2
    assert {r.row for r in report.rejects} == {2, 3, 4, 5}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("fake.parquet", b"ts,event\n2026-01-01,A\n", "Parquet"),
        ("notjson.jsonl", b"ts,event\n2026-01-01,A\n", "JSON"),
        ("x.xlsx", b"PK\x03\x04", "unknown file type"),
    ],
)
def test_unreadable_files_raise_a_clear_error(tmp_path, ws, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidFile, match=message) as info:
        load(ws, path)
    assert name in str(info.value)
    assert ws.store.scalar("SELECT count(*) FROM events") == 0


def test_no_timestamp_column(ws):
    with pytest.raises(InputError, match="no timestamp column"):
        load(ws, [{"event": "A", "user_id": "u"}])


def test_unknown_time_zone(ws):
    with pytest.raises(InputError, match="time zone"):
        load(ws, ROWS, tz="Mars/Olympus")


def test_list_of_parquet_files(tmp_path, ws):
    for i in range(3):
        pq.write_table(
            pa.table({"ts": ["2026-03-01 10:00:00"], "event": [f"E{i}"], "user_id": [f"u{i}"]}),
            tmp_path / f"p{i}.parquet",
        )
    report = load(ws, sorted(tmp_path.glob("*.parquet")))
    assert report.loaded == 3
