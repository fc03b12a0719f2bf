"""Erasure to the byte: after forget, no file in the workspace folder holds the person's
identifiers, name or address, in any form they were sent in."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path

import journeykit
from journeykit.ingest import forget, load
from journeykit.server.spool import Spool

EMAIL = "Zelda.Quixote@Example.org"
PHONE = "+1 (555) 010-9999"
USER = "zq-user-7731"
NAME = "Zelda Quixote"
STREET = "12 Wobblebottom Lane"
CITY = "Gnomeville-upon-Tweed"

#: every form the person's data may take on disk
NEEDLES = [
    EMAIL.lower(),
    PHONE.lower(),
    "+15550109999",
    "15550109999",
    USER,
    NAME.lower(),
    STREET.lower(),
    CITY.lower(),
]


def scan(folder: Path) -> dict[str, list[str]]:
    """Which needles each file under ``folder`` holds in its raw bytes (any case)."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            hits = [n for n in NEEDLES if n.encode() in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def _files(tmp_path: Path) -> Path:
    """A CRM export: the person's row, a row of theirs refused for its time (which keeps
    the phone only as written), and someone else."""
    csv = tmp_path / "crm.csv"
    csv.write_text(
        "ts,event,user_id,email,phone\n"
        f"2026-03-01 10:00,Account Opened,{USER},{EMAIL},{PHONE}\n"
        f'not a time,Call Logged,,,"{PHONE}"\n'
        "2026-03-01 11:00,Account Opened,other-user,other@example.net,+44 20 7946 0958\n",
        encoding="utf-8",
    )
    return csv


def _poison_record() -> bytes:
    """What an older collector acknowledged: a message nested too deeply, with the e-mail."""
    deep = '{"a":' * 100 + "1" + "}" * 100
    body = (
        (
            '{"batch": [{"type": "track", "event": "Deep", "userId": "%s", "messageId": "zq-deep",'
            ' "context": {"traits": {"email": "%s"}}, "properties": %s}]}'
        )
        .replace("%s", USER, 1)
        .replace("%s", EMAIL, 1)
        .replace("%s", deep, 1)
    )
    stamp = datetime.now().replace(microsecond=0).isoformat()
    header = {"v": 1, "r": stamp, "t": None, "k": "k", "n": 1, "skip": [], "ids": {}}
    return json.dumps(header).encode() + b"\n" + body.encode()


def _sdk_batch() -> dict:
    """An analytics-python style batch: identify with name and address, then track calls."""
    library = {"name": "analytics-python", "version": "2.3.3"}
    sent = datetime.now().isoformat() + "Z"
    return {
        "batch": [
            {
                "type": "identify",
                "userId": USER,
                "traits": {
                    "email": EMAIL,
                    "phone": PHONE,
                    "name": NAME,
                    "address": {"street": STREET, "city": CITY},
                },
                "messageId": "zq-identify",
                "timestamp": sent,
                "context": {"library": library},
            },
            {
                "type": "track",
                "event": "Delivery Booked",
                "userId": USER,
                "properties": {"shipping_address": f"{STREET}, {CITY}", "recipient": NAME},
                "messageId": "zq-track",
                "timestamp": sent,
                "context": {"library": library},
            },
            {
                "type": "track",
                "event": "Delivery Booked",
                "userId": "other-user",
                "properties": {"shipping_address": "1 Other Street"},
                "messageId": "other-track",
                "timestamp": sent,
                "context": {"library": library},
            },
        ],
        "sentAt": sent,
    }


def test_forget_leaves_nothing_readable_in_any_file_of_the_workspace(launch, tmp_path):
    folder = tmp_path / "ws"
    with journeykit.open(folder) as ws:
        report = load(ws, _files(tmp_path))
        assert report.loaded == 2 and report.rejected == 1
    spool = Spool(folder / "spool")
    spool.start()
    spool.append_sync(_poison_record(), count=1)
    spool.close()

    srv = launch(folder)
    with srv.client("write") as w:
        r = w.post("/v1/batch", json=_sdk_batch())
        assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    status = srv.flush()
    assert status["dead_letters"] == 1
    before = scan(folder)
    # the scan sees what is there: the rejects CSV (raw phone), the dead letters (e-mail),
    # and the store's files
    assert PHONE.lower() in before[next(k for k in before if k.startswith("rejects/"))]
    assert EMAIL.lower() in before["spool/dead/records.jsonl"]
    assert any(k.startswith("journeykit.duckdb") for k in before), before

    with srv.client("admin") as a:
        r = a.post("/v1/admin/people/forget", json={"identifier": f"email:{EMAIL}"})
        assert r.status_code == 200, r.text
        report = r.json()
    assert report["removed"]["rejects"] == 1  # the row that held only the phone as written
    assert report["store_rewritten"] is True
    assert len(report["files_rewritten"]) == 2
    assert scan(folder) == {}

    # the server goes on: the other person is whole, new events are stored
    with srv.client("read") as r:
        other = r.get("/v1/people/timeline", params={"identifier": "other-user"})
        assert other.status_code == 200 and other.json()["total"] == 2, other.text
        assert r.get("/v1/people/timeline", params={"identifier": USER}).status_code == 404
    with srv.client("write") as w:
        assert w.post("/v1/track", json={"event": "Later", "userId": "other-user"}).status_code
    srv.flush()
    assert srv.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert scan(folder) == {}
    with journeykit.open(folder) as ws:
        assert ws.store.scalar("SELECT count(*) FROM events WHERE user_id = 'other-user'") == 3
        assert ws.store.scalar("SELECT count(*) FROM identities") == 3


def test_without_the_rewrite_deleted_rows_stay_in_the_file(tmp_path):
    """Why forget rewrites the file: DuckDB leaves deleted rows in its bytes."""
    folder = tmp_path / "ws"
    with journeykit.open(folder) as ws:
        load(ws, _files(tmp_path))
        ws.store.execute("CHECKPOINT")
        forget(ws, f"email:{EMAIL}", rewrite_store=False)
        ws.store.execute("CHECKPOINT")
    left = scan(folder)
    assert "journeykit.duckdb" in left and EMAIL.lower() in left["journeykit.duckdb"]
    with journeykit.open(folder) as ws:
        ws.rewrite()
        assert ws.store.scalar("SELECT count(*) FROM events") == 1  # the other person's
    assert scan(folder) == {}


def test_a_reject_holding_only_the_phone_as_written_is_erased(ws, tmp_path):
    load(ws, _files(tmp_path))
    raw = ws.store.scalar("SELECT raw FROM rejects")
    assert PHONE in raw and "5550109999" not in raw  # matched today only when normalised
    report = forget(ws, USER)
    assert report.removed["rejects"] == 1
    assert ws.store.scalar("SELECT count(*) FROM rejects") == 0
    # a longer number that merely contains the digits is someone else's
    other = tmp_path / "other.csv"
    other.write_text('ts,event,phone\nnot a time,X,"+1 (555) 010-99991"\n', encoding="utf-8")
    load(ws, other)
    assert ws.store.scalar("SELECT count(*) FROM rejects") == 1
