"""Query endpoints over a small hand-made workspace, with hand-computed answers."""

from __future__ import annotations

import pytest

from journeykit.ingest import load
from journeykit.journey import set_spec

# four people; u1 buys, u2 stops at checkout, u3 only looks, u4 comes back a week later
ROWS = [
    ("u1", "Product Viewed", "2026-03-02T10:00:00", "web", None),
    ("u1", "Checkout Started", "2026-03-02T10:05:00", "web", None),
    ("u1", "Order Completed", "2026-03-02T10:10:00", "web", 50.0),
    ("u2", "Product Viewed", "2026-03-02T11:00:00", "app", None),
    ("u2", "Checkout Started", "2026-03-02T11:02:00", "app", None),
    ("u3", "Product Viewed", "2026-03-03T09:00:00", "web", None),
    ("u4", "Product Viewed", "2026-03-03T12:00:00", "web", None),
    ("u4", "Product Viewed", "2026-03-10T12:00:00", "web", None),
]


def seed_workspace(ws) -> None:
    rows = [
        {
            "ts": ts,
            "event": event,
            "user_id": user,
            "channel": channel,
            "revenue": revenue,
            "properties": {"platform": "ios" if channel == "app" else "web"},
        }
        for user, event, ts, channel, revenue in ROWS
    ]
    assert load(ws, rows).loaded == len(ROWS)
    set_spec(ws, SPEC, by="tests")


SPEC = """
name: Small shop
stages:
  - {name: browse, touchpoints: [{name: Product, events: [Product Viewed]}]}
  - name: buy
    touchpoints:
      - {name: Checkout, events: [Checkout Started]}
      - {name: Order, events: [Order Completed]}
goals: [Order Completed]
currency: EUR
"""


def _rows(result: dict, table: str) -> list[dict]:
    return result["tables"][table]["rows"]


def test_summary(read):
    s = read.get("/v1/summary").json()
    assert (s["people"], s["events"]) == (4, 8)
    assert s["first_event"] == "2026-03-02T10:00:00Z" and s["last_event"] == "2026-03-10T12:00:00Z"
    assert {r["channel"]: r["events"] for r in s["by_channel"]} == {"web": 6, "app": 2}
    assert [r["day"] for r in s["by_day"]] == ["2026-03-02", "2026-03-03", "2026-03-10"]


def test_timeline_pages_and_errors(read):
    t = read.get("/v1/people/timeline", params={"identifier": "u1"}).json()
    assert t["total"] == 3
    assert [e["event"] for e in t["events"]] == [
        "Product Viewed",
        "Checkout Started",
        "Order Completed",
    ]
    assert [e["seq"] for e in t["events"]] == [1, 2, 3]
    assert t["events"][2]["revenue"] == 50.0
    assert t["events"][0]["properties"] == {"platform": "web"}
    page = read.get(
        "/v1/people/timeline", params={"identifier": "user_id:u1", "offset": 1, "limit": 1}
    )
    assert [e["seq"] for e in page.json()["events"]] == [2]
    missing = read.get("/v1/people/timeline", params={"identifier": "nobody"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad = read.get("/v1/people/timeline", params={"identifier": "u1", "limit": 0})
    assert bad.status_code == 400 and bad.json()["field"] == "limit"
    assert read.get("/v1/people/timeline").status_code == 400


def test_funnel(read):
    r = read.post(
        "/v1/funnels", json={"steps": ["Product Viewed", "Checkout Started", "Order Completed"]}
    )
    assert r.status_code == 200, r.text
    table = _rows(r.json(), "table")
    assert [row["units"] for row in table] == [4, 2, 1]
    # a condition in the safe filter language, and a breakdown
    r = read.post(
        "/v1/funnels",
        json={
            "steps": [
                {"event": "Product Viewed", "where": 'properties.platform == "ios"'},
                "Checkout Started",
            ]
        },
    )
    assert [row["units"] for row in _rows(r.json(), "table")] == [1, 1]


def test_names_that_match_no_event_are_warned_about(read):
    r = read.post(
        "/v1/funnels",
        json={
            "steps": ["Product Viewed", "checkout started", {"event": "Order Complete"}],
            "segment": 'count(event == "Order Completd") >= 0',
        },
    )
    assert r.status_code == 200, r.text
    assert [row["units"] for row in _rows(r.json(), "table")] == [4, 0, 0]
    assert r.json()["warnings"] == [
        "funnel step 'checkout started' matches no event in the workspace; "
        "did you mean Checkout Started?",
        "funnel step 'Order Complete' matches no event in the workspace; "
        "did you mean Order Completed?",
        "filter value 'Order Completd' matches no event in the workspace; "
        "did you mean Order Completed?",
    ]
    ok = read.post("/v1/funnels", json={"steps": ["Product Viewed", "Checkout Started"]})
    assert ok.json()["warnings"] == []
    r = read.post("/v1/retention", json={"cohort": "Product Veiwed", "grain": "day"})
    assert r.json()["warnings"] == [
        "cohort event 'Product Veiwed' matches no event in the workspace; "
        "did you mean Product Viewed?"
    ]
    r = read.post("/v1/flows", json={"anchor": "Checkout", "steps": 2})
    assert r.json()["warnings"][0].startswith("anchor 'Checkout' matches no event")
    r = read.post("/v1/kpis", json={"segment": 'event == "Zzz"'})
    assert r.json()["warnings"] == ["filter value 'Zzz' matches no event in the workspace"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": ["Product Viewed"]}, "steps"),
        ({"steps": ["A", "B"], "mode": "sideways"}, "mode"),
        ({"steps": ["A", {"event": "B", "where": "properties.x == "}]}, "filter"),
        ({"steps": ["A", {"event": "B", "where": "1; DROP TABLE events"}]}, "filter"),
        ({"steps": ["A", "B"], "segment": "nosuchfield > 3"}, "filter"),
        ({"steps": ["A", "B"], "extra": 1}, "extra"),
        ({"steps": ["A\x00", "B"]}, "body"),
    ],
)
def test_bad_analytics_requests_are_400(read, body, field):
    r = read.post("/v1/funnels", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field or field in r.json()["message"]


def test_flows(read):
    r = read.post("/v1/flows", json={"steps": 2})
    assert r.status_code == 200, r.text
    links = _rows(r.json(), "links")
    assert links
    total = sum(link.get("units", link.get("people", 0)) for link in links)
    assert total >= 3  # u1, u2 and u4 make a second step


def test_retention(read):
    r = read.post("/v1/retention", json={"grain": "week", "periods": 1})
    assert r.status_code == 200, r.text
    rows = _rows(r.json(), "table")
    week_one = [row for row in rows if row["period"] == 1]
    assert sum(row["retained"] for row in week_one) == 1  # only u4 came back


def test_kpis(read):
    r = read.post("/v1/kpis", json={})
    assert r.status_code == 200, r.text
    assert "table" in r.json()["tables"]
    assert r.json()["values"]["start"].startswith("2026-03-02")


def test_journey_map(read):
    spec = {
        "name": "Small shop",
        "stages": [
            {"name": "browse", "touchpoints": [{"name": "Product", "events": ["Product Viewed"]}]},
            {"name": "buy", "touchpoints": [{"name": "Order", "events": ["Order Completed"]}]},
        ],
        "goals": [{"name": "Order", "event": "Order Completed"}],
    }
    r = read.post("/v1/journey-map", json={"spec": spec, "replicates": 10})
    assert r.status_code == 200, r.text
    stages = _rows(r.json(), "stages")
    assert {s["stage"] for s in stages} >= {"browse", "buy"}
    assert r.json()["warnings"] == []
    # a spec event the data never has is named, with the closest one
    typo = {**spec, "goals": [{"name": "Order", "event": "Order Complete"}]}
    r = read.post("/v1/journey-map", json={"spec": typo, "replicates": 10})
    assert r.json()["warnings"] == [
        "event 'Order Complete' never occurs in the data; did you mean 'Order Completed'?"
    ]
    # without a spec in the request: the workspace's own
    r = read.post("/v1/journey-map", json={"replicates": 10})
    assert r.status_code == 200, r.text
    assert {s["stage"] for s in _rows(r.json(), "stages")} == {"browse", "buy"}
    # the workspace's spec has a Checkout touchpoint the request's spec lacks
    assert r.json()["values"]["chain"]["states"] == [
        "(start)",
        "Product",
        "Checkout",
        "Order",
        "(other)",
    ]
    assert (r.json()["values"]["people"], r.json()["values"]["revenue"]) == (4, 50.0)
