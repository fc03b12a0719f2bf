"""Operations: health, readiness, the OpenAPI document, JSON logs, shutdown and crash replay."""

from __future__ import annotations

import json
import signal

import httpx

import journeykit


def test_health_and_readiness(server):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    assert set(ready.json()["checks"]) == {"spool", "spool_room", "loader", "loader_lag", "store"}
    assert ready.json()["loader"]["lag_events"] == 0 and ready.json()["loader"]["alive"]


def _refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)
    return found


def test_openapi_document_is_complete(server):
    doc = httpx.get(f"{server.url}/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc, set()):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert {"basicAuth", "bearerAuth"} <= set(doc["components"]["securitySchemes"])
    paths = doc["paths"]
    for name in ("track", "identify", "page", "screen", "alias", "group", "batch"):
        op = paths[f"/v1/{name}"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.endswith(("Message", "Batch"))
        assert {"200", "400", "401", "403", "413", "429"} <= set(op["responses"])
        assert op["security"]
    for path, ops in paths.items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "422" not in codes, (path, method)
            assert any(c.startswith("2") for c in codes), (path, method)
            if path.startswith("/v1/"):
                assert op.get("security"), (path, method)
                assert {"401", "403"} <= codes, (path, method)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")) and path != "/readyz":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorResponse"), (path, method, code)
    assert schemas["TrackMessage"]["required"] == ["event"]
    assert "previousId" in schemas["AliasMessage"]["required"]
    for route in ("/v1/summary", "/v1/people/timeline", "/v1/admin/keys", "/healthz", "/readyz"):
        assert route in paths


def test_logs_are_json_lines(server, write, uid):
    write.post("/v1/track", json={"event": "Logged", "userId": uid()})
    write.post("/v1/track", json={"userId": uid()})  # refused: no event name
    server.flush()
    lines = server.log_lines()
    assert lines
    records = [json.loads(line) for line in lines]
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    access = [r for r in records if r["logger"] == "journeykit.server.access"]
    # by default successful collector calls are counted, not logged; the rest is logged
    assert not any(r["path"] == "/v1/track" and r["status"] == 200 for r in access)
    assert any(r["path"] == "/v1/track" and r["status"] == 400 and r["key_id"] for r in access)
    assert any(r["path"] == "/v1/admin/spool/flush" and r["status"] == 200 for r in access)
    assert any(r["logger"] == "journeykit.server.loader" for r in records)


def test_access_log_all_and_cors(launch, uid):
    srv = launch(
        env={
            "JOURNEYKIT_SERVER_ACCESS_LOG": "all",
            "JOURNEYKIT_SERVER_CORS_ORIGINS": "https://shop.example",
        }
    )
    with srv.client("write") as c:
        sent = c.post(
            "/v1/track",
            json={"event": "Logged", "userId": uid()},
            headers={"Origin": "https://shop.example"},
        )
        assert sent.headers["access-control-allow-origin"] == "https://shop.example"
        other = c.post(
            "/v1/track",
            json={"event": "Logged", "userId": uid()},
            headers={"Origin": "https://evil.example"},
        )
        assert "access-control-allow-origin" not in other.headers
    # a browser on the shop's site may send to the collector directly
    preflight = httpx.options(
        f"{srv.url}/v1/t",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    other = httpx.options(
        f"{srv.url}/v1/t",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers
    srv.stop()
    access = [json.loads(line) for line in srv.log_lines() if "journeykit.server.access" in line]
    assert any(r["path"] == "/v1/track" and r["status"] == 200 and r["key_id"] for r in access)


def _count(ws_path, user: str) -> int:
    with journeykit.open(ws_path) as ws:
        return int(ws.store.scalar("SELECT count(*) FROM events WHERE user_id = ?", [user]))


def _ids(ws_path, user: str) -> list[str]:
    with journeykit.open(ws_path) as ws:
        rows = ws.store.fetchall("SELECT event_id FROM events WHERE user_id = ?", [user])
    return sorted(r[0] for r in rows)


SLOW_LOADER = {
    "JOURNEYKIT_SERVER_LOAD_LINGER_SECONDS": "600",
    "JOURNEYKIT_SERVER_LOAD_BATCH_MESSAGES": "1000000",
}


def test_graceful_shutdown_loads_the_spool(launch, uid):
    srv = launch(env=SLOW_LOADER)
    user = uid()
    with srv.client("write") as c:
        batch = [{"type": "track", "event": f"E{i}", "userId": user} for i in range(50)]
        assert c.post("/v1/batch", json={"batch": batch}).json()["accepted"] == 50
    with srv.client("admin") as c:
        assert c.get("/v1/admin/spool").json()["messages_loaded"] == 0  # still only spooled
    # uvicorn stops gracefully, then re-raises the signal for the conventional exit status
    assert srv.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert _count(srv.workspace, user) == 50
    # everything is loaded: the raw messages left the disk with their segments
    assert not list((srv.workspace / "spool").glob("*.seg"))
    assert any(
        "collector stopped" in line and '"flushed": true' in line for line in srv.log_lines()
    )


def test_crash_replays_the_spool_once(launch, uid):
    srv = launch(env=SLOW_LOADER)
    user = uid()
    with srv.client("write") as c:
        for i in range(30):
            assert c.post("/v1/track", json={"event": f"E{i}", "userId": user}).status_code == 200
    srv.stop(signal.SIGKILL)  # acknowledged, spooled, never loaded
    again = launch(srv.workspace, keys=srv.keys)
    again.flush()
    again.stop(signal.SIGKILL)  # loaded and committed; the loaded segment is still on disk
    ids = _ids(srv.workspace, user)
    assert len(ids) == 30 and len(set(ids)) == 30
    # a crash between a load and its commit replays loaded records: nothing is stored twice
    spool = srv.workspace / "spool"
    segments = sorted(p.name for p in spool.glob("*.seg"))
    (spool / "committed").write_text(f"{int(segments[0].split('.')[0])} 0\n")
    third = launch(srv.workspace, keys=srv.keys)
    third.flush()
    third.stop()
    assert _ids(srv.workspace, user) == ids
