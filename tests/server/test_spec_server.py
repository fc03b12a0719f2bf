"""A server over a workspace without a journey spec: it says so, and how to make one."""

from __future__ import annotations

from journeykit.ingest import load


def seed_workspace(ws) -> None:
    rows = [
        {"ts": "2026-03-02T10:00:00", "event": "page_view", "user_id": "u1"},
        {"ts": "2026-03-02T10:05:00", "event": "purchase", "user_id": "u1", "revenue": 5.0},
    ]
    assert load(ws, rows).loaded == 2


def test_without_a_spec_the_map_is_a_409_saying_what_to_do(read):
    r = read.post("/v1/journey-map", json={})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "no_spec"
    assert "journeykit spec infer --workspace" in body["message"]
    assert "journeykit spec set FILE" in body["message"]
    # a spec sent with the request is used
    spec = {
        "stages": [{"name": "visit", "touchpoints": [{"name": "Page", "events": ["page_view"]}]}],
        "goals": ["purchase"],
    }
    r = read.post("/v1/journey-map", json={"spec": spec, "replicates": 10})
    assert r.status_code == 200, r.text
    assert r.json()["values"]["converters"] == 1
