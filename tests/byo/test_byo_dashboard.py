"""Every dashboard page on the bring-your-own travel workspace: it loads, shows no error, and
speaks the workspace's names and currency (CHF, booking_confirmed), not the demo's."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest
from byo_cli import Byo

from byo_data import TRAVEL_REF

PAGES = ("/", "/journey", "/funnels", "/flows", "/retention", "/segments", "/voc", "/people")


@pytest.fixture(scope="module")
def client(byo_spec: Byo) -> Iterator[httpx.Client]:
    # the dashboard tests' server helper (tests/ is on the path; its folders are namespaces)
    from server.dashboard.dashboard_helpers import serve

    ws = byo_spec.open()
    served = serve(ws)
    with httpx.Client(base_url=served.url, timeout=120.0, follow_redirects=True) as c:
        c.get("/", params={"key": served.keys["read"]})  # signs in: the key becomes a cookie
        yield c
    served.stop()
    ws.close()


def _text(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(body)).split())


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_or_demo_names(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text[:300]
    assert 'class="notice error"' not in r.text, _text(r.text)[:500]
    text = _text(r.text)
    for demo_word in ("Order Completed", "Product Viewed", "£"):
        assert demo_word not in text


def test_the_journey_page_counts_bookings_in_chf(client: httpx.Client) -> None:
    text = _text(client.get("/journey").text)
    assert "CHF" in text and "$" not in text
    assert f"{TRAVEL_REF['revenue']:,.0f}" in text  # 30,600
    assert "booking_confirmed" in text


def test_the_overview_uses_the_workspace_currency(client: httpx.Client) -> None:
    text = _text(client.get("/").text)
    assert "CHF" in text and "$" not in text
