"""No message can stop the pipeline: depth limits at the edge, a poison message already in the
spool, readiness and metrics that show a lagging loader, a prompt graceful stop."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime

import httpx

import journeykit
from journeykit.server.spool import Spool


def nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_deep_messages_are_refused_at_the_edge_naming_the_field(write, uid):
    user = uid()
    body = json.dumps({"event": "E", "userId": user, "properties": {"x": "DEEP"}})
    body = body.replace('"DEEP"', nested(1000))
    r = write.post("/v1/track", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_message"
    assert r.json()["field"] == "properties"
    assert "64 levels" in r.json()["message"]
    # in a batch, the deep one is listed and the others are kept
    good = {"event": "Kept", "userId": user, "messageId": f"{user}-ok"}
    shallow = {"event": "Kept", "userId": user, "properties": json.loads(nested(60))}
    deep = {"event": "E", "userId": user, "context": "DEEP"}
    batch = json.dumps({"batch": [good, deep, shallow]}).replace('"DEEP"', nested(300))
    r = write.post("/v1/batch", content=batch, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"] == [
        {
            "index": 1,
            "field": "context",
            "reason": "nested more than 64 levels deep (objects and arrays)",
        }
    ]
    # deeper than any parser goes: the body is refused as a whole, with the reason
    r = write.post("/v1/track", content=nested(5000), headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "body", r.text


def test_a_poison_message_in_the_spool_is_set_aside_and_the_rest_is_stored(launch, tmp_path):
    """What an older collector (without the limit) acknowledged: a message nested 1000 levels
    deep between good ones. The loader sets it aside, stores everything after it, and a
    graceful stop loads the whole spool within seconds."""
    folder = tmp_path / "ws"
    journeykit.open(folder).close()
    spool = Spool(folder / "spool")
    spool.start()
    stamp = datetime.now().replace(microsecond=0).isoformat()
    batch = json.dumps(
        {
            "batch": [
                {"event": "Before", "userId": "p1", "messageId": "m-before"},
                {"event": "Poison", "userId": "p1", "messageId": "m-poison", "properties": "DEEP"},
                {"event": "After", "userId": "p1", "messageId": "m-after"},
            ]
        }
    ).replace('"DEEP"', nested(1000))
    header = {"v": 1, "r": stamp, "t": None, "k": "k", "n": 3, "skip": [], "ids": {}}
    spool.append_sync(json.dumps(header).encode() + b"\n" + batch.encode(), count=3)
    spool.close()

    srv = launch(folder)
    with srv.client("write") as w:
        later = [{"event": "Later", "userId": "p2", "messageId": f"m-later-{i}"} for i in range(50)]
        assert w.post("/v1/batch", json={"batch": later}).status_code == 200
    status = srv.flush()
    assert status["dead_letters"] == 1
    ready = httpx.get(f"{srv.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["loader"]["lag_events"] == 0
    with srv.client("write") as w:  # acknowledged just before the stop: loaded by the stop
        assert w.post("/v1/track", json={"event": "Last", "userId": "p2", "messageId": "m-last"})
    started = time.monotonic()
    assert srv.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 15

    with journeykit.open(folder) as ws:
        stored = {r[0] for r in ws.store.fetchall("SELECT event_id FROM events")}
    assert {"m-before", "m-after", "m-last"} | {f"m-later-{i}" for i in range(50)} == stored
    letters = [
        json.loads(x) for x in (folder / "spool/dead/records.jsonl").read_text().splitlines()
    ]
    assert len(letters) == 1
    assert letters[0]["message_id"] == "m-poison"
    assert letters[0]["field"] == "properties" and "levels deep" in letters[0]["reason"]
    # it nests too deeply to write back as JSON: the record it came in is kept as text
    assert "m-poison" in letters[0].get("record", json.dumps(letters[0].get("message")))
    reopened = Spool(folder / "spool")  # the stop loaded the whole spool: nothing waits
    assert reopened.backlog_bytes() == 0
    reopened.close()


def test_readiness_and_metrics_report_a_lagging_loader(launch):
    # the loader waits 30 s for a fuller batch; readiness wants the lag under a second
    srv = launch(
        env={
            "JOURNEYKIT_SERVER_LOAD_LINGER_SECONDS": "30",
            "JOURNEYKIT_SERVER_READY_MAX_LAG_SECONDS": "1",
        }
    )
    ready = httpx.get(f"{srv.url}/readyz")
    assert ready.status_code == 200 and ready.json()["loader"]["lag_events"] == 0
    with srv.client("write") as w:
        batch = [{"event": "E", "userId": f"lag-{i}"} for i in range(7)]
        assert w.post("/v1/batch", json={"batch": batch}).status_code == 200
    time.sleep(1.5)
    ready = httpx.get(f"{srv.url}/readyz")
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["checks"]["loader_lag"] is False and body["checks"]["loader"] is True
    assert body["loader"]["lag_events"] == 7
    assert body["loader"]["lag_seconds"] >= 1.0
    metrics = httpx.get(f"{srv.url}/metrics")
    assert metrics.status_code == 200
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.text.splitlines()
        if line and not line.startswith("#")
    }
    assert values["journeykit_loader_lag_events"] == 7
    assert values["journeykit_loader_lag_seconds"] >= 1.0
    assert values["journeykit_loader_up"] == 1
    assert values["journeykit_collector_accepted_total"] == 7
    srv.flush()
    ready = httpx.get(f"{srv.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["loader"]["lag_events"] == 0
    assert ready.json()["loader"]["lag_seconds"] == 0
    values = httpx.get(f"{srv.url}/metrics").text
    assert "journeykit_loader_lag_events 0.0" in values
