"""After the first page, the other pages' default views are computed in the background."""

from __future__ import annotations

import time

import httpx
from dashboard_helpers import serve

import journeykit
from journeykit.ingest import load
from journeykit.server.dashboard.cache import WorkspaceCache
from journeykit.server.dashboard.warm import ORDER


def test_first_page_warms_the_others(tmp_path, make_events) -> None:  # type: ignore[no-untyped-def]
    ws = journeykit.open(tmp_path / "ws")
    rows = []
    for i in range(30):
        rows += make_events(
            (f"u{i}", "Product Viewed", i * 300),
            (f"u{i}", "Checkout Started", i * 300 + 5),
            *([(f"u{i}", "Order Completed", i * 300 + 9, {"revenue": 20.0})] if i % 3 else []),
        )
    load(ws, rows)
    cache = WorkspaceCache()
    served = serve(ws, cache=cache)
    try:
        with httpx.Client(
            base_url=served.url,
            timeout=120.0,
            headers={"Authorization": f"Bearer {served.keys['read']}"},
        ) as c:
            assert c.get("/flows").status_code == 200
            wanted = {f"page:{m}" for m in ORDER}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                names = {key[1] for key in list(cache._entries)}
                if wanted <= names:
                    break
                time.sleep(0.2)
            assert wanted <= names, sorted(wanted - names)
            # a warmed page is served from the cache: same body, no recomputation
            first = c.get("/retention").text
            assert c.get("/retention").text == first
    finally:
        served.stop()
        ws.close()
