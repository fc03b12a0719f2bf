"""Real exports: foreign time layouts, the identifier names people use, and edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from journeykit.errors import InputError
from journeykit.ingest import load
from journeykit.ingest.segment import message_to_row, parse_time


def times(ws) -> list[str]:
    return [str(r[0]) for r in ws.store.fetchall("SELECT ts FROM events ORDER BY src_row")]


def test_ts_format_reads_a_foreign_layout(tmp_path: Path, ws) -> None:
    path = tmp_path / "pos.csv"
    path.write_text("ts,event,user_id\n01|03|2024 10h21,A,u1\n02|03|2024 09h00,B,u1\n")
    report = load(ws, path, ts_format="%d|%m|%Y %Hh%M")
    assert report.loaded == 2
    assert times(ws) == ["2024-03-01 10:21:00", "2024-03-02 09:00:00"]


def test_ts_format_with_zone_and_time_zone_option(tmp_path: Path, ws) -> None:
    rows = [{"ts": "01/03/2024 10:21 +0200", "event": "A", "user_id": "u"}]
    load(ws, rows, ts_format="%d/%m/%Y %H:%M %z")
    rows = [{"ts": "01/03/2024 10:21", "event": "B", "user_id": "u"}]
    load(ws, rows, ts_format="%d/%m/%Y %H:%M", tz="Europe/Paris")
    assert times(ws) == ["2024-03-01 08:21:00", "2024-03-01 09:21:00"]


def test_a_bad_ts_format_is_one_clear_error(ws) -> None:
    with pytest.raises(InputError, match="ts-format"):
        load(ws, [{"ts": "x", "event": "A", "user_id": "u"}], ts_format="%Q")


@pytest.mark.parametrize(
    ("values", "order", "want"),
    [
        (["13/03/2024 10:21", "01/03/2024 10:00"], "day-first", "2024-03-13 10:21:00"),
        (["13.03.2024", "2.3.2024"], "day-first", "2024-03-13 00:00:00"),
        (["03/13/2024 10:21", "03/01/2024 10:00"], "month-first", "2024-03-13 10:21:00"),
    ],
)
def test_unambiguous_dates_are_read_and_the_order_is_said(ws, values, order, want) -> None:
    report = load(ws, [{"ts": v, "event": "A", "user_id": "u"} for v in values])
    assert report.loaded == 2
    assert times(ws)[0] == want
    assert any(order in n for n in report.notices), report.notices
    # the ambiguous second date is read the same way
    second = times(ws)[1]
    assert second.startswith("2024-03-01") or second.startswith("2024-03-02")


def test_ambiguous_dates_ask_for_the_format(ws) -> None:
    rows = [{"ts": "01/03/2024 10:21", "event": "A", "user_id": "u"}]
    with pytest.raises(InputError, match="--ts-format") as info:
        load(ws, rows)
    assert "day-first or month-first" in str(info.value)
    assert ws.store.scalar("SELECT count(*) FROM events") == 0
    mixed = [{"ts": v, "event": "A", "user_id": "u"} for v in ("13/03/2024", "03/13/2024")]
    with pytest.raises(InputError, match="mixes"):
        load(ws, mixed)


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("person_id", "user_id"),
        ("Customer", "user_id"),
        ("client_id", "user_id"),
        ("member_id", "user_id"),
        ("account_id", "user_id"),
        ("visitor_id", "anonymous_id"),
        ("session_id", "anonymous_id"),
        ("Email Address", "email"),
    ],
)
def test_common_identifier_names_are_recognised_and_said(tmp_path, ws, column, kind) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"ts,event,{column}\n2026-03-01 10:00,A,ID-1\n2026-03-01 11:00,B,ID-1\n")
    report = load(ws, path)
    assert (report.loaded, report.rejected) == (2, 0)
    value = "id-1" if kind == "email" else "ID-1"
    assert ws.store.scalar(f"SELECT count(*) FROM events WHERE {kind} = ?", [value]) == 2
    assert f"{column!r} as {kind}" in " ".join(report.notices)


def test_session_id_is_weaker_than_any_other_identifier(tmp_path, ws) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ts,event,customer_id,session_id\n2026-03-01 10:00,A,c1,s1\n")
    load(ws, path)
    row = ws.store.fetchall("SELECT user_id, anonymous_id, properties FROM events")[0]
    assert row[:2] == ("c1", None)
    assert '"session_id":"s1"' in row[2]


def test_a_file_without_identifier_is_refused_once(tmp_path, ws) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ts,event,shopper\n2026-03-01 10:00,A,s1\n2026-03-01 11:00,B,s2\n")
    with pytest.raises(InputError) as info:
        load(ws, path)
    message = str(info.value)
    assert "ts, event, shopper" in message and "--map user_id=COLUMN" in message
    assert load(ws, path, mapping={"user_id": "shopper"}).loaded == 2


def test_rejects_are_grouped_by_reason(tmp_path, ws) -> None:
    path = tmp_path / "x.csv"
    lines = [f"yesterday {i},A,u1" for i in range(30)] + ["2026-03-01 10:00,,u1"]
    path.write_text("ts,event,user_id\n" + "\n".join(lines) + "\n")
    report = load(ws, path)
    assert report.failed and report.loaded == 0
    groups = [(g.field, g.reason, g.count, g.rows) for g in report.reject_groups]
    assert groups == [
        ("ts", "cannot parse timestamp", 30, [2, 3, 4, 5, 6]),
        ("event", "missing event name", 1, [32]),
    ]


# --- edge gaps ---------------------------------------------------------------------------


def test_segment_received_at_and_context_channel_are_kept() -> None:
    row = message_to_row(
        {
            "type": "track",
            "event": "Opened",
            "userId": "u1",
            "timestamp": "2026-03-01T10:00:00Z",
            "receivedAt": "2026-03-01T10:00:05Z",
            "context": {"channel": "Email"},
        },
        received_at=None,
    )
    assert row["received_at"] == "2026-03-01T10:00:05"
    assert row["channel"] == "email"
    browser = message_to_row(
        {"event": "A", "userId": "u", "timestamp": 1772359200, "context": {"channel": "browser"}}
    )
    assert browser["channel"] == "web"


@pytest.mark.parametrize("value", [1e20, -1e20, math.inf, "9999999-01-01T00:00:00"])
def test_parse_time_out_of_range_is_an_input_error(value) -> None:
    with pytest.raises(InputError) as info:
        parse_time(value, "timestamp")
    assert info.value.field == "timestamp"


def test_nul_characters_in_names_and_values_load(ws) -> None:
    rows = [{"ts": "2026-03-01T10:00:00", "event": "A\x00B", "user_id": "u\x001", "x\x00y": "1'2"}]
    report = load(ws, rows)
    assert report.loaded == 1, report.rejects
    assert ws.store.fetchall("SELECT event, properties FROM events")[0] == (
        "A\x00B",
        '{"xy":"1\'2"}',
    )
    report = load(ws, [{"ts": "2026-03-01T10:00:00", "event": "A", "user_id": "u", "q'\x00": "v"}])
    assert report.loaded == 1
