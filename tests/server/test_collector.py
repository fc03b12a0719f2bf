"""The collector over real HTTP: Segment payload shapes, keys in every place, bad input, dedupe."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

NOW = datetime.now(UTC).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def timeline(read: httpx.Client, identifier: str) -> dict:
    r = read.get("/v1/people/timeline", params={"identifier": identifier})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("path", "body", "event"),
    [
        (
            "/v1/track",
            {"event": "Order Completed", "properties": {"revenue": 42.5}},
            "Order Completed",
        ),
        ("/v1/page", {"name": "Home", "properties": {"path": "/"}}, "Page Viewed"),
        ("/v1/screen", {"name": "Cart"}, "Screen Viewed"),
        ("/v1/identify", {"traits": {"plan": "pro"}}, "Identified"),
        ("/v1/group", {"groupId": "acme", "traits": {"size": 10}}, None),
        ("/v1/t", {"event": "Short Track"}, "Short Track"),
        ("/v1/p", {"name": "About"}, "Page Viewed"),
    ],
)
def test_each_endpoint_stores_its_message(server, write, read, uid, path, body, event):
    user = uid("user")
    r = write.post(path, json={**body, "userId": user, "timestamp": iso(NOW)})
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "accepted": 1, "rejected": []}
    server.flush()
    events = timeline(read, f"user_id:{user}")["events"]
    assert len(events) == 1
    assert events[0]["type"] == path.split("/")[-1] if len(path) > 5 else True
    if event:
        assert events[0]["event"] == event
    if path == "/v1/track":
        assert events[0]["revenue"] == 42.5
    if path == "/v1/group":
        assert events[0]["properties"]["group_id"] == "acme"


def test_analytics_python_batch_shape(server, uid, read):
    """What analytics-python sends: Basic auth with the key as user, a batch, sentAt, gzip."""
    user, anon = uid("user"), uid("anon")
    sent = NOW
    batch = {
        "batch": [
            {
                "type": "identify",
                "messageId": uid("m"),
                "anonymousId": anon,
                "userId": user,
                "traits": {"email": f"{user}@Example.com"},
                "timestamp": iso(NOW - timedelta(minutes=3)),
                "context": {"library": {"name": "analytics-python", "version": "2.3.3"}},
                "integrations": {},
            },
            {
                "type": "track",
                "messageId": uid("m"),
                "anonymousId": anon,
                "event": "Product Viewed",
                "properties": {"product_id": "p1"},
                "timestamp": iso(NOW - timedelta(minutes=2)),
            },
        ],
        "sentAt": iso(sent),
    }
    auth = base64.b64encode(f"{server.keys['write']}:".encode()).decode()
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(json.dumps(batch).encode()),
        headers={
            "Authorization": f"Basic {auth}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    server.flush()
    # the anonymous view and the identify are one person: ask by e-mail
    got = timeline(read, f"email:{user}@example.com")
    assert [e["event"] for e in got["events"]] == ["Identified", "Product Viewed"]


def test_analytics_js_beacon_shape(server, uid, read):
    """Browsers' sendBeacon: text/plain, no headers, writeKey in the body."""
    anon = uid("anon")
    body = {
        "writeKey": server.keys["write"],
        "anonymousId": anon,
        "event": "Signed Up",
        "context": {"page": {"path": "/signup"}},
        "originalTimestamp": iso(NOW),
        "sentAt": iso(NOW),
    }
    r = httpx.post(
        f"{server.url}/v1/t", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 200, r.text
    server.flush()
    events = timeline(read, anon)["events"]
    assert events[0]["event"] == "Signed Up"
    assert events[0]["channel"] == "web"  # a page context means the web


def test_keys_in_header_forms(server, uid):
    key = server.keys["write"]
    msg = {"event": "X", "userId": uid()}
    basic = base64.b64encode(f"{key}:".encode()).decode()
    basic_password = base64.b64encode(f":{key}".encode()).decode()
    for header in (f"Bearer {key}", f"Basic {basic}", f"Basic {basic_password}"):
        r = httpx.post(f"{server.url}/v1/track", json=msg, headers={"Authorization": header})
        assert r.status_code == 200, (header, r.text)


def test_missing_and_wrong_keys(server, uid):
    msg = {"event": "X", "userId": uid()}
    r = httpx.post(f"{server.url}/v1/track", json=msg)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert r.json()["error"] == "unauthorized"
    bad = server.keys["write"][:-4] + "AAAA"
    for header in (f"Bearer {bad}", "Bearer nonsense", "Basic !!!", "Digest x"):
        r = httpx.post(f"{server.url}/v1/track", json=msg, headers={"Authorization": header})
        assert r.status_code == 401, header
    for kind in ("read", "admin"):
        r = httpx.post(
            f"{server.url}/v1/track",
            json=msg,
            headers={"Authorization": f"Bearer {server.keys[kind]}"},
        )
        assert r.status_code == 403
        assert "write" in r.json()["message"]


def test_resent_message_is_stored_once(server, write, read, uid):
    user = uid("user")
    msg = {"messageId": uid("mid"), "event": "Order Completed", "userId": user}
    for _ in range(3):
        assert write.post("/v1/track", json=msg).status_code == 200
    assert write.post("/v1/batch", json={"batch": [msg, msg]}).json()["accepted"] == 2
    server.flush()
    events = timeline(read, user)["events"]
    assert len(events) == 1
    assert events[0]["event_id"] == msg["messageId"]


def test_messages_without_id_get_one_each(server, write, read, uid):
    user = uid("user")
    msg = {"event": "Clicked", "userId": user, "timestamp": iso(NOW)}
    for _ in range(2):
        assert write.post("/v1/track", json=msg).status_code == 200
    server.flush()
    events = timeline(read, user)["events"]
    assert len(events) == 2  # the same content twice is two events: each got its own id
    assert all(e["event_id"].startswith("jk-") for e in events)
    assert events[0]["event_id"] != events[1]["event_id"]


def test_batch_keeps_good_messages_and_reports_bad_by_index(server, write, read, uid):
    user = uid("user")
    good = {"type": "track", "event": "Good", "userId": user}
    batch = [
        good,
        {"type": "track", "userId": user},  # no event name
        {"type": "track", "event": "No id"},  # no identifier
        {**good, "event": "Good 2", "timestamp": iso(NOW + timedelta(days=3))},  # future
        {**good, "event": "Good 3", "properties": {"revenue": "12"}},  # revenue not a number
        "not an object",
        {**good, "type": "purchase"},
        {**good, "event": "Good 4", "userId": ["a"]},
        {**good, "event": "Good 5"},
    ]
    r = write.post("/v1/batch", json={"batch": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    problems = {p["index"]: p for p in body["rejected"]}
    assert sorted(problems) == [1, 2, 3, 4, 5, 6, 7]
    assert problems[1]["field"] == "event"
    assert problems[2]["field"] == "userId"
    assert problems[3]["field"] == "timestamp"
    assert "ahead" in problems[3]["reason"]
    assert problems[4]["field"] == "properties.revenue"
    assert problems[5]["field"] == "message"
    assert problems[6]["field"] == "type"
    assert problems[7]["field"] == "userId"
    server.flush()
    assert sorted(e["event"] for e in timeline(read, user)["events"]) == ["Good", "Good 5"]


@pytest.mark.parametrize(
    ("path", "content", "field", "reason"),
    [
        ("/v1/track", b'{"event": "x", ', "body", "malformed JSON"),
        ("/v1/track", b"", "body", "empty"),
        ("/v1/track", b"[1, 2]", "body", "JSON object"),
        ("/v1/track", b'{"event": "x", "userId": NaN}', "body", "NaN"),
        (
            "/v1/track",
            b'{"event": "x", "userId": "u", "properties": {"v": 1e400}}',
            "body",
            "range",
        ),
        ("/v1/track", b'\xff\xfe{"a": 1}', "body", "UTF-8"),
        ("/v1/track", b'{"userId": "u1"}', "event", "event name"),
        ("/v1/track", b'{"event": "   ", "userId": "u1"}', "event", "event name"),
        ("/v1/track", b'{"event": "x"}', "userId", "userId or anonymousId"),
        ("/v1/track", b'{"event": "x", "userId": "  ", "anonymousId": "null"}', "userId", "blank"),
        ("/v1/track", b'{"event": "x", "userId": "u", "properties": [1]}', "properties", "object"),
        ("/v1/track", b'{"event": "x", "userId": "u", "context": "web"}', "context", "object"),
        (
            "/v1/track",
            b'{"event": "x", "userId": "u", "timestamp": "yesterday"}',
            "timestamp",
            "parse",
        ),
        ("/v1/track", b'{"event": "x", "userId": "u", "timestamp": 1e300}', "timestamp", "range"),
        (
            "/v1/track",
            b'{"event": "x", "userId": "u", "timestamp": "1901-01-01T00:00:00Z"}',
            "timestamp",
            "ago",
        ),
        ("/v1/track", b'{"event": "x", "userId": "u", "sentAt": true}', "sentAt", "ISO-8601"),
        ("/v1/track", b'{"event": {"a": 1}, "userId": "u"}', "event", "string"),
        ("/v1/track", b'{"event": "x", "userId": "\\ud800"}', "message", "surrogate"),
        ("/v1/alias", b'{"userId": "u"}', "previousId", "previousId"),
        ("/v1/alias", b'{"previousId": "a"}', "userId", "userId"),
        ("/v1/group", b'{"userId": "u"}', "groupId", "groupId"),
        ("/v1/batch", b'{"batch": {"a": 1}}', "batch", "list"),
        ("/v1/batch", b'{"messages": []}', "batch", "missing"),
        ("/v1/batch", b'{"batch": []}', "batch", "empty"),
    ],
)
def test_bad_input_is_a_4xx_naming_field_and_reason(write, path, content, field, reason):
    r = write.post(path, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["field"] == field
    assert reason.lower() in body["message"].lower()
    assert "Traceback" not in r.text


def test_size_limits(server, write, uid):
    user = uid()
    big = "x" * (33 * 1024)
    r = write.post("/v1/track", json={"event": "Big", "userId": user, "properties": {"b": big}})
    assert r.status_code == 413
    assert r.json()["field"] == "body"
    # in a batch the big message alone is refused
    small = {"type": "track", "event": "Small", "userId": user}
    r = write.post("/v1/batch", json={"batch": [small, {**small, "properties": {"b": big}}, small]})
    assert r.status_code == 200
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"][0]["index"] == 1
    assert "bytes" in r.json()["rejected"][0]["reason"]
    # a body over the batch limit is refused before it is read through
    huge = {"batch": [{**small, "properties": {"b": "y" * 20_000}} for _ in range(30)]}
    r = write.post("/v1/batch", json=huge)
    assert r.status_code == 413
    # ... also when gzipped small
    r = write.post(
        "/v1/batch",
        content=gzip.compress(json.dumps(huge).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    r = write.post(
        "/v1/track",
        content=b"not gzip",
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    r = write.post(
        "/v1/track",
        content=b"{}",
        headers={"Content-Encoding": "br", "Content-Type": "application/json"},
    )
    assert r.status_code == 415


def test_numbers_are_kept_exactly(server, write, read, uid):
    user = uid()
    big = 123456789012345678901234567890
    body = f'{{"event": "Big", "userId": "{user}", "properties": {{"n": {big}, "x": 0.1}}}}'
    r = write.post("/v1/track", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    server.flush()
    assert timeline(read, user)["events"][0]["properties"] == {"n": big, "x": 0.1}


def test_clock_skew_is_corrected(server, write, read, uid):
    """A client clock 1 hour fast: the event time moves back by the skew (Segment's rule)."""
    user = uid()
    client_now = datetime.now(UTC) + timedelta(hours=1)
    msg = {
        "event": "Skewed",
        "userId": user,
        "originalTimestamp": iso(client_now - timedelta(minutes=10)),
        "sentAt": iso(client_now),
    }
    assert write.post("/v1/track", json=msg).status_code == 200
    server.flush()
    ts = datetime.fromisoformat(timeline(read, user)["events"][0]["ts"]).replace(tzinfo=UTC)
    expected = datetime.now(UTC) - timedelta(minutes=10)
    assert abs((ts - expected).total_seconds()) < 30


def test_identify_and_alias_stitch_people(server, write, read, uid):
    anon, user, old = uid("anon"), uid("user"), uid("old")
    write.post("/v1/track", json={"event": "Viewed", "anonymousId": anon})
    write.post("/v1/track", json={"event": "Old Login", "userId": old})
    write.post("/v1/identify", json={"anonymousId": anon, "userId": user, "traits": {"x": 1}})
    write.post("/v1/alias", json={"previousId": old, "userId": user})
    server.flush()
    a = timeline(read, f"anonymous_id:{anon}")
    b = timeline(read, f"user_id:{old}")
    assert a["person_id"] == b["person_id"]
    assert {e["event"] for e in a["events"]} >= {"Viewed", "Old Login", "Identified"}


def test_method_and_route_errors_are_json(server, write):
    r = write.get("/v1/track")
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    r = write.post("/v1/nothing", json={})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
