"""Dashboard pages warn about names that match no event, with the closest ones."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest
from dashboard_helpers import Served, serve

from journeykit.ingest import load
from journeykit.store import Workspace


@pytest.fixture
def small(ws: Workspace) -> Iterator[Served]:
    rows = []
    for i, person in enumerate(("ann", "bob", "cat", "dan")):
        for j, event in enumerate(("page_view", "add_to_cart", "purchase")[: 1 + i % 3]):
            rows.append({"ts": f"2026-03-0{1 + i} 10:0{j}", "user_id": person, "event": event})
    load(ws, rows)
    served = serve(ws)
    yield served
    served.stop()


def _page(served: Served, path: str, **params: object) -> str:
    with httpx.Client(base_url=served.url, timeout=60.0, follow_redirects=True) as client:
        r = client.get(path, params={**params, "key": served.keys["read"]})
    assert r.status_code == 200, r.text[:500]
    return " ".join(html.unescape(r.text).split())


def test_pages_warn_about_unknown_names(small: Served) -> None:
    page = _page(small, "/funnels", step=["page_view", "Add To Cart", "purchased"])
    assert (
        "funnel step 'Add To Cart' matches no event in the workspace; did you mean add_to_cart?"
        in page
    )
    assert (
        "funnel step 'purchased' matches no event in the workspace; did you mean purchase?" in page
    )
    assert "'page_view' matches" not in page
    page = _page(small, "/retention", cohort="purchse")
    assert (
        "cohort event 'purchse' matches no event in the workspace; did you mean purchase?" in page
    )
    page = _page(small, "/flows", anchor="page-view", segment='event == "add_to_crt"')
    assert "anchor 'page-view' matches no event in the workspace; did you mean page_view?" in page
    assert (
        "filter value 'add_to_crt' matches no event in the workspace; did you mean add_to_cart?"
        in page
    )
    page = _page(small, "/segments", name=["a"], filter=['count(event == "purchace") >= 1'])
    assert (
        "filter value 'purchace' matches no event in the workspace; did you mean purchase?" in page
    )


def test_known_names_say_nothing(small: Served) -> None:
    page = _page(small, "/funnels", step=["page_view", "add_to_cart", "purchase"])
    assert "matches no event" not in page
