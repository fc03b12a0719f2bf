"""The dashboard as `journeykit serve` runs it: mounted by create_app beside the collector, so
events collected while it runs show up on its pages."""

from __future__ import annotations

import time
from typing import Any

import httpx

from journeykit.ingest import load
from journeykit.store import Workspace


def seed_workspace(ws: Workspace) -> None:
    """A few shoppers, so the pages have something to draw."""
    rows: list[dict[str, Any]] = []
    for i in range(20):
        day = f"2026-09-{1 + i:02d}"
        rows += [
            {
                "ts": f"{day}T10:00:00",
                "event": "Product Viewed",
                "user_id": f"s{i}",
                "channel": "web",
            },
            {
                "ts": f"{day}T10:10:00",
                "event": "Checkout Started",
                "user_id": f"s{i}",
                "channel": "web",
            },
        ]
        if i % 2:
            rows.append(
                {
                    "ts": f"{day}T10:20:00",
                    "event": "Order Completed",
                    "user_id": f"s{i}",
                    "channel": "web",
                    "revenue": 30.0,
                }
            )
    load(ws, rows)


def test_pages_need_a_read_key(server: Any) -> None:
    with httpx.Client(base_url=server.url, timeout=60.0) as anonymous:
        assert anonymous.get("/").status_code == 303
    with server.client("write") as write:
        assert write.get("/").status_code == 303  # a write key cannot read


def test_overview_and_static_files(read: httpx.Client) -> None:
    page = read.get("/")
    assert page.status_code == 200
    assert "<h1>Overview</h1>" in page.text and "/static/plotly.min.js" in page.text
    js = read.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-encoding"] == "gzip"
    assert "plotly.js" in js.text[:200]


def test_collected_events_reach_the_pages(
    server: Any, read: httpx.Client, write: httpx.Client
) -> None:
    assert "Nobody has the identifier" in read.get("/people?q=late-shopper").text
    r = write.post(
        "/v1/track",
        json={
            "userId": "late-shopper",
            "event": "Order Completed",
            "properties": {"revenue": 99.0},
        },
    )
    assert r.status_code == 200, r.text
    server.flush()
    # pages follow the data within a second (the data fingerprint is reused that long)
    deadline = time.monotonic() + 5
    while True:
        page = read.get("/people?q=late-shopper")
        if "Timeline (1 event)" in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert page.status_code == 200
    assert "Order Completed" in page.text and "Timeline (1 event)" in page.text
