"""The collector's edges: gzip streams that end wrong, Content-Type as real SDKs send it,
security headers on every answer, API docs without a CDN, NUL in event names."""

from __future__ import annotations

import base64
import gzip
import json

import httpx
import pytest

from journeykit.server.state import API_POLICY, PAGE_POLICY


def _track(user: str, event: str = "Edge") -> bytes:
    return json.dumps({"event": event, "userId": user, "messageId": f"{user}-{event}"}).encode()


def _stored(server, user: str) -> list[str]:
    server.flush()
    with server.client("read") as r:
        t = r.get("/v1/people/timeline", params={"identifier": user})
    return [e["event"] for e in t.json()["events"]] if t.status_code == 200 else []


def test_gzip_bodies_must_end_where_the_stream_ends(server, write, uid):
    user = uid()
    whole = gzip.compress(_track(user))
    gz = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    cases = {
        "no trailer": whole[:-8],
        "half a trailer": whole[:-3],
        "cut in the data": whole[: len(whole) // 2],
        "bytes after the stream": whole + b"trailing junk",
        "a second stream after it": whole + gzip.compress(_track(user, "Second")),
    }
    for name, body in cases.items():
        r = write.post("/v1/track", content=body, headers=gz)
        assert r.status_code == 400, (name, r.text)
        assert r.json()["error"] == "invalid_body" and r.json()["field"] == "body", name
    assert "no trailer" in write.post("/v1/track", content=whole[:-8], headers=gz).text
    r = write.post("/v1/track", content=whole, headers=gz)
    assert r.status_code == 200, r.text
    assert _stored(server, user) == ["Edge"]


# what the SDKs send: analytics.js (fetch, text/plain to skip the CORS preflight),
# RudderStack's sendBeacon (a text/plain Blob), server libraries (application/json)
ACCEPTED = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/vnd.segment+json",
    None,
]
REFUSED = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/html",
    "application/xml",
    "application/json; charset=iso-8859-1",
    "image/png",
]


def test_content_types_of_real_sdks_are_taken_and_others_get_415(server, write, uid):
    user = uid()
    for i, kind in enumerate(ACCEPTED):
        headers = {"Content-Type": kind} if kind else {}
        r = write.post("/v1/track", content=_track(user, f"E{i}"), headers=headers)
        assert r.status_code == 200, (kind, r.text)
    for kind in REFUSED:
        r = write.post("/v1/track", content=_track(user, "Refused"), headers={"Content-Type": kind})
        assert r.status_code == 415, (kind, r.text)
        assert r.json()["error"] == "unsupported_media_type"
        assert r.json()["field"] == "content-type"
    assert sorted(_stored(server, user)) == [f"E{i}" for i in range(len(ACCEPTED))]


def test_a_beacon_with_the_key_in_the_body_as_text_plain(server, uid):
    """navigator.sendBeacon(url, JSON.stringify(batch)): text/plain, no Authorization."""
    user = uid()
    body = {
        "batch": [{"type": "track", "event": "Left Page", "anonymousId": user}],
        "writeKey": server.keys["write"],
        "sentAt": "2026-01-01T00:00:00Z",
    }
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://shop.example"},
    )
    assert r.status_code == 200, r.text
    assert _stored(server, user) == ["Left Page"]


def test_nul_in_an_event_name_is_refused_at_the_edge(server, write, uid):
    user = uid()
    r = write.post("/v1/track", json={"event": "Bad\u0000Name", "userId": user})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "event" and "NUL" in r.json()["message"]
    batch = [
        {"event": "Fine", "userId": user},
        {"event": "\u0000", "userId": user},
        {"type": "page", "name": "Home", "userId": user, "event": "x\u0000"},
    ]
    r = write.post("/v1/batch", json={"batch": batch})
    assert r.status_code == 200
    assert [(e["index"], e["field"]) for e in r.json()["rejected"]] == [(1, "event"), (2, "event")]
    assert _stored(server, user) == ["Fine"]


def _answers(server) -> dict[str, httpx.Response]:
    keys = server.keys
    bearer = {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}
    basic = {"Authorization": "Basic " + base64.b64encode(f"{keys['write']}:".encode()).decode()}
    with httpx.Client(base_url=server.url, timeout=60) as c:
        return {
            "collect 200": c.post("/v1/track", json={"event": "H", "userId": "h"}, headers=basic),
            "collect 400": c.post("/v1/track", content=b"{", headers=bearer["write"]),
            "collect 401": c.post("/v1/track", json={"event": "H", "userId": "h"}),
            "collect 415": c.post(
                "/v1/track", content=b"{}", headers={**basic, "Content-Type": "text/html"}
            ),
            "collect 413": c.post("/v1/track", content=b" " * 600_000, headers=bearer["write"]),
            "query 200": c.get("/v1/summary", headers=bearer["read"]),
            "query 403": c.get("/v1/summary", headers=bearer["write"]),
            "query 404": c.get(
                "/v1/people/timeline", params={"identifier": "nobody"}, headers=bearer["read"]
            ),
            "query 400": c.get("/v1/people/timeline", headers=bearer["read"]),
            "admin 405": c.put("/v1/admin/keys", headers=bearer["admin"]),
            "no route 404": c.get("/nowhere"),
            "healthz": c.get("/healthz"),
            "readyz": c.get("/readyz"),
            "metrics": c.get("/metrics"),
            "openapi": c.get("/openapi.json"),
            "docs (off)": c.get("/docs"),
            "dashboard sign-in": c.get("/", follow_redirects=True),
            "dashboard page": c.get("/", params={"key": keys["read"]}, follow_redirects=True),
            "dashboard asset": c.get("/static/dashboard.js"),
        }


def test_every_answer_says_nosniff_and_has_a_security_policy(server):
    answers = _answers(server)
    assert answers["collect 200"].status_code == 200
    assert answers["collect 415"].status_code == 415
    assert answers["docs (off)"].status_code == 404  # no page that loads a CDN's scripts
    assert "redoc" not in json.dumps(answers["openapi"].json()).lower()
    for name, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", name
        policy = r.headers.get("content-security-policy")
        assert policy, name
        if r.headers["content-type"].startswith("text/html"):
            assert policy == PAGE_POLICY, name
        else:
            assert policy == API_POLICY, name
    assert answers["dashboard page"].headers["content-type"].startswith("text/html")
    assert "<h1>Overview</h1>" in answers["dashboard page"].text


def test_api_docs_when_turned_on_load_nothing_from_elsewhere(launch):
    srv = launch(env={"JOURNEYKIT_SERVER_API_DOCS": "true"})
    page = httpx.get(f"{srv.url}/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == PAGE_POLICY
    sources = [part.split('"')[1] for part in page.text.split("src=")[1:]]
    sources += [part.split('"')[1] for part in page.text.split("href=")[1:]]
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    for source in sources:
        asset = httpx.get(f"{srv.url}{source}")
        assert asset.status_code == 200, source
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert "cdn" not in page.text.lower()


@pytest.mark.browser
def test_api_docs_render_in_a_browser_under_the_policy(launch):
    from playwright.sync_api import sync_playwright

    srv = launch(env={"JOURNEYKIT_SERVER_API_DOCS": "true"})
    problems: list[str] = []
    outside: list[str] = []

    def browse() -> None:
        # in a thread of its own: an earlier test in this worker may leave an asyncio loop
        # running on the main thread, where Playwright's sync API refuses to start
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: outside.append(r.url) if not r.url.startswith(srv.url) else None,
            )
            page.goto(f"{srv.url}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "journeykit" in page.inner_text(".swagger-ui .info .title")
            assert page.locator(".opblock-summary-path").count() > 10
            browser.close()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(browse).result()
    assert not [m for m in problems if "Content Security Policy" in m], problems
    assert outside == []
