"""Reading the dashboard needs a read key: sign-in, refusals, the cookie, and escaping."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from dashboard_helpers import Served, serve

import journeykit
from journeykit.ingest import load
from journeykit.server.keys import create_key, revoke_key
from journeykit.store import Workspace


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The dashboard over a tiny hand-built workspace, with hostile event names."""
    ws: Workspace = journeykit.open(tmp_path_factory.mktemp("signin") / "ws")
    rows = []
    for i in range(40):
        rows += [
            {
                "ts": f"2026-03-{1 + i % 28:02d}T10:00:00",
                "event": "Product Viewed",
                "user_id": f"u{i}",
                "channel": "web",
            },
            {
                "ts": f"2026-03-{1 + i % 28:02d}T10:05:00",
                "event": "<img src=x onerror=alert(1)>",
                "user_id": f"u{i}",
                "channel": "web</script><script>alert(2)</script>",
            },
        ]
        if i % 2:
            rows.append(
                {
                    "ts": f"2026-03-{1 + i % 28:02d}T11:00:00",
                    "event": "Order Completed",
                    "user_id": f"u{i}",
                    "channel": "web",
                    "revenue": 10.0 + i,
                }
            )
    load(ws, rows)
    served = serve(ws)
    yield served
    served.stop()
    ws.close()


def _client(served: Served, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=60.0, **kwargs)  # type: ignore[arg-type]


def test_pages_redirect_to_sign_in_without_a_key(small: Served) -> None:
    with _client(small) as c:
        r = c.get("/funnels?mode=strict")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=%2Ffunnels%3Fmode%3Dstrict")
        assert c.get("/funnels/dropoffs.csv?at=2").status_code == 401
        assert c.get("/login").status_code == 200


def test_sign_in_with_a_read_key_sets_a_cookie(small: Served) -> None:
    with _client(small) as c:
        r = c.post("/login", data={"key": small.keys["read"], "next": "/funnels"})
        assert r.status_code == 303 and r.headers["location"] == "/funnels"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        page = c.get("/funnels")
        assert page.status_code == 200 and "Run funnel" in page.text
        assert page.headers["cache-control"] == "no-store"  # people's data: never cached
        assert c.get("/logout").status_code == 303
        assert c.get("/funnels").status_code == 303


def test_write_and_wrong_keys_are_refused(small: Served) -> None:
    with _client(small) as c:
        for key in (small.keys["write"], "jkr_0000000000000000_nope", "garbage"):
            r = c.post("/login", data={"key": key, "next": "/"})
            assert r.status_code == 401
            assert "not a read key" in r.text
        r = c.get("/", headers={"Authorization": f"Bearer {small.keys['write']}"})
        assert r.status_code == 303


def test_key_in_the_address_moves_into_the_cookie(small: Served) -> None:
    with _client(small) as c:
        r = c.get(f"/flows?steps=3&key={small.keys['read']}")
        assert r.status_code == 303 and r.headers["location"] == "/flows?steps=3"
        assert small.keys["read"] in r.headers["set-cookie"]


def test_a_revoked_key_stops_working_at_once(small: Served) -> None:
    key = create_key(small.ws, "read", "short-lived")
    with _client(small, headers={"Authorization": f"Bearer {key}"}) as c:
        assert c.get("/people").status_code == 200
        revoke_key(small.ws, key)
        assert c.get("/people").status_code == 303


def test_next_never_leaves_the_site(small: Served) -> None:
    with _client(small) as c:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            r = c.post("/login", data={"key": small.keys["read"], "next": target})
            assert r.headers["location"] == "/"


def test_data_is_escaped_everywhere(small: Served) -> None:
    with _client(small, headers={"Authorization": f"Bearer {small.keys['read']}"}) as c:
        for path in ("/", "/funnels", "/flows", "/people?q=u1", "/retention"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert "<img src=x" not in r.text, path
            assert "<script>alert" not in r.text, path
        funnels = c.get("/funnels")
        assert "&lt;img src=x onerror=alert(1)&gt;" in funnels.text


@pytest.mark.browser
def test_hostile_names_run_no_script(browser: object, small: Served) -> None:
    from dashboard_helpers import signed_in_tab

    for tab in signed_in_tab(browser, small, 1200, 800):
        for path in (
            "/funnels?step=Product+Viewed&step=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
            "/flows",
            "/people?q=u3",
        ):
            tab.open(path)
        assert tab.errors == []  # a dialog from alert() would be recorded here


def test_every_page_answers_on_an_empty_workspace(tmp_path: object) -> None:
    from journeykit.server.dashboard.app import PAGES

    ws = journeykit.open(tmp_path / "empty")  # type: ignore[operator]
    served = serve(ws, warm=False)
    try:
        with _client(served, headers={"Authorization": f"Bearer {served.keys['read']}"}) as c:
            for path in PAGES:
                r = c.get(path)
                assert r.status_code == 200, path
                assert "could not be built" not in r.text, path
    finally:
        served.stop()
        ws.close()
