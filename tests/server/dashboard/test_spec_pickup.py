"""The dashboard reads the workspace's spec per request: a new version shows without a
restart, a missing spec says how to make one, and spec events the data lacks are named."""

from __future__ import annotations

import time

import httpx
from dashboard_helpers import serve

import journeykit
from journeykit.ingest import load
from journeykit.journey import set_spec

SPEC = """
name: {name}
stages:
  - {{name: visit, touchpoints: [{{name: Landing, events: [page_view]}}]}}
  - {{name: buy, touchpoints: [{{name: Purchase, events: [{goal}]}}]}}
goals: [{goal}]
currency: {currency}
"""


def test_a_new_spec_version_shows_without_a_restart(tmp_path, make_events) -> None:  # type: ignore[no-untyped-def]
    ws = journeykit.open(tmp_path / "ws")
    rows = []
    for i in range(12):
        rows += make_events(
            (f"u{i}", "page_view", i * 60),
            *([(f"u{i}", "purchase", i * 60 + 5, {"revenue": 250.0})] if i % 2 else []),
        )
    assert load(ws, rows).rejected == 0
    served = serve(ws)
    try:
        with httpx.Client(
            base_url=served.url,
            timeout=180.0,
            headers={"Authorization": f"Bearer {served.keys['read']}"},
        ) as c:
            page = c.get("/journey").text
            assert "this workspace has no journey spec" in page
            assert "journeykit spec infer --workspace" in page
            assert "Omnichannel" not in page

            set_spec(ws, SPEC.format(name="Tea shop", goal="purchase", currency="GBP"), by="t")
            time.sleep(1.2)  # the dashboard re-reads the workspace's fingerprint each second
            page = c.get("/journey").text
            assert "Tea shop" in page or "Landing" in page
            assert "£1,500" in page  # six purchases of 250, in the spec's currency
            assert "spec-warnings" not in page

            set_spec(ws, SPEC.format(name="Tea shop", goal="Purchase Done", currency="CHF"), by="t")
            time.sleep(1.2)
            page = c.get("/journey").text
            # the goal the data lacks is named, with the name the data has
            assert "spec-warnings" in page
            assert "Purchase Done" in page and "did you mean" in page
            overview = c.get("/").text
            assert "spec-warnings" in overview and "$" not in overview
    finally:
        served.stop()
        ws.close()
