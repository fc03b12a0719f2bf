"""The background loader on a real workspace and spool (no HTTP)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from journeykit.errors import InputError, StoreError
from journeykit.server.loader import Loader, _systemic
from journeykit.server.messages import Bounds, check_messages, encode_record, expand, parse_body
from journeykit.server.spool import Spool

BOUNDS = Bounds(max_future=timedelta(hours=24), max_past=timedelta(days=3650))


def _record(messages: list[dict]) -> bytes:
    body = json.dumps({"batch": messages}).encode()
    received = datetime.now().replace(microsecond=0)
    checked = check_messages(
        expand(parse_body(body), None), received, BOUNDS, body=body, max_message_bytes=32768
    )
    return encode_record(body, None, received, checked, "k")


def test_loader_stores_records_and_sets_undecodable_ones_aside(ws):
    spool = Spool(ws.path / "spool")
    spool.start()
    spool.append_sync(_record([{"event": "A", "userId": "u1"}, {"event": "B", "userId": "u1"}]))
    spool.append_sync(b"not a record at all")
    spool.append_sync(_record([{"event": "C", "userId": "u2"}, {"userId": "no event"}]))
    loader = Loader(ws, spool, linger_seconds=0.05)
    loader.start()
    assert loader.flush(60)
    assert sorted(r[0] for r in ws.store.fetchall("SELECT event FROM events")) == ["A", "B", "C"]
    assert loader.stats.loaded == 3 and loader.stats.dead_letters == 1
    dead = (ws.path / "spool" / "dead" / "records.jsonl").read_text().splitlines()
    assert json.loads(dead[0])["record"] == "not a record at all"
    assert spool.committed == spool.durable
    loader.stop(10)
    spool.close()


def test_loading_again_after_a_lost_commit_stores_nothing_twice(ws):
    spool = Spool(ws.path / "spool")
    spool.start()
    spool.append_sync(_record([{"event": "A", "userId": "u1"}]))  # no messageId: one is given
    loader = Loader(ws, spool, linger_seconds=0.05)
    loader.start()
    assert loader.flush(60)
    loader.stop(10)
    spool.close()
    (ws.path / "spool" / "committed").write_text(f"{spool.committed.segment} 0\n")
    again = Spool(ws.path / "spool")
    again.start()
    second = Loader(ws, again, linger_seconds=0.05)
    second.start()
    assert second.flush(60)
    assert second.stats.duplicates == 1 and second.stats.loaded == 0
    assert ws.store.scalar("SELECT count(*) FROM events") == 1
    second.stop(10)
    again.close()


def test_store_failures_are_not_blamed_on_the_data():
    assert _systemic(StoreError("store write failed: IO Error: No space left on device"))
    assert _systemic(OSError(28, "No space left on device"))
    assert not _systemic(InputError("bad", field="event"))
    assert not _systemic(StoreError("store query failed: Constraint Error: duplicate key"))


def _old_record(messages: list[dict], seconds_ago: float) -> bytes:
    received = datetime.now().replace(microsecond=0) - timedelta(seconds=seconds_ago)
    header = {"v": 1, "r": received.isoformat(), "t": None, "k": "k", "n": len(messages)}
    return (
        json.dumps({**header, "skip": [], "ids": {}}).encode()
        + b"\n"
        + json.dumps({"batch": messages}).encode()
    )


def test_the_backlog_a_previous_run_left_is_counted_as_lag(ws):
    spool = Spool(ws.path / "spool")
    spool.start()
    spool.append_sync(_old_record([{"event": "A", "userId": "u1"}] * 3, 120))
    spool.append_sync(_old_record([{"event": "B", "userId": "u1"}] * 2, 10))
    spool.close()
    again = Spool(ws.path / "spool")  # a restart: nothing counted in memory
    loader = Loader(ws, again)
    assert loader.status().lag_events is None  # not counted yet
    loader._count_left()
    status = loader.status()
    assert status.lag_events == 5
    assert 119 <= status.lag_seconds <= 180  # the oldest record waiting
    again.start()
    loader.start()
    assert loader.flush(60)
    status = loader.status()
    assert (status.lag_events, status.lag_seconds, status.failing) == (0, 0.0, False)
    loader.stop(10)
    again.close()


def test_a_failing_store_shows_as_a_stuck_loader_until_it_heals(ws, monkeypatch):
    import duckdb

    import journeykit.ingest as ingest

    real = ingest.load_segment
    broken = {"on": True}

    def load_segment(*args, **kwargs):
        if broken["on"]:
            cause = duckdb.IOException("IO Error: could not write the file")
            raise StoreError("store write failed: IO Error: could not write the file", cause)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "load_segment", load_segment)
    spool = Spool(ws.path / "spool")
    spool.start()
    spool.append_sync(_old_record([{"event": "A", "userId": "u1", "messageId": "a1"}], 5), count=1)
    loader = Loader(ws, spool, linger_seconds=0.0)
    loader.start()
    deadline = time.monotonic() + 20
    while not loader.status().failing:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status = loader.status()
    assert status.alive and status.lag_events == 1 and status.lag_seconds >= 5
    assert "could not write" in status.last_error
    assert loader.stats.dead_letters == 0  # the data is not blamed: nothing set aside
    broken["on"] = False
    assert loader.flush(30)
    status = loader.status()
    assert not status.failing and status.lag_events == 0
    assert ws.store.scalar("SELECT count(*) FROM events WHERE event_id = 'a1'") == 1
    loader.stop(10)
    spool.close()


def test_a_value_quoting_disk_words_does_not_make_data_look_like_a_failing_store():
    import duckdb

    conversion = duckdb.ConversionException("Could not convert string 'IO Error: disk' to INT")
    assert not _systemic(StoreError(f"store query failed: {conversion}", conversion))
    assert _systemic(StoreError("x", duckdb.IOException("IO Error: No space left on device")))


def test_every_refused_message_is_dead_lettered_even_past_the_reports_first_hundred(ws):
    old = [
        {"event": "Old", "userId": f"o{i}", "messageId": f"old-{i}", "timestamp": "1900-01-01"}
        for i in range(120)
    ]
    bad = [{"event": "X", "userId": "b", "messageId": "bad-rev", "properties": {"revenue": "x"}}]
    good = [{"event": "New", "userId": "n", "messageId": f"new-{i}"} for i in range(5)]
    spool = Spool(ws.path / "spool")
    spool.start()
    messages = good[:2] + old + bad + good[2:]
    spool.append_sync(_old_record(messages, 1), count=len(messages))
    loader = Loader(ws, spool, linger_seconds=0.0)
    loader.start()
    assert loader.flush(60)
    loader.stop(10)
    spool.close()
    stored = {r[0] for r in ws.store.fetchall("SELECT event_id FROM events")}
    assert stored == {f"new-{i}" for i in range(5)}
    letters = [
        json.loads(line)
        for line in (ws.path / "spool" / "dead" / "records.jsonl").read_text().splitlines()
    ]
    by_id = {d["message_id"]: d for d in letters}
    assert set(by_id) == {f"old-{i}" for i in range(120)} | {"bad-rev"}
    assert all(d["reason"] for d in letters)
    assert by_id["bad-rev"]["field"] == "properties.revenue"
    assert [by_id[f"old-{i}"]["index"] for i in range(120)] == list(range(2, 122))
    assert loader.status().lag_events == 0
