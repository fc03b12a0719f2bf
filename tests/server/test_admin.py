"""Key rules, key management, export and erasure, rate limits and the spool quota, over HTTP."""

from __future__ import annotations

import time

import httpx

from journeykit.server.keys import RECHECK_SECONDS, revoke_key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_each_kind_does_only_its_job(server, uid):
    url = server.url
    msg = {"event": "X", "userId": uid()}
    w, r, a = (server.keys[k] for k in ("write", "read", "admin"))
    assert httpx.post(f"{url}/v1/track", json=msg, headers=_bearer(w)).status_code == 200
    # a write key cannot read, nor administer
    assert httpx.get(f"{url}/v1/summary", headers=_bearer(w)).status_code == 403
    assert httpx.get(f"{url}/v1/admin/keys", headers=_bearer(w)).status_code == 403
    # a read key reads, and neither writes nor administers
    assert httpx.get(f"{url}/v1/summary", headers=_bearer(r)).status_code == 200
    assert httpx.post(f"{url}/v1/track", json=msg, headers=_bearer(r)).status_code == 403
    assert httpx.get(f"{url}/v1/admin/keys", headers=_bearer(r)).status_code == 403
    # an admin key administers and reads, but does not collect
    assert httpx.get(f"{url}/v1/admin/keys", headers=_bearer(a)).status_code == 200
    assert httpx.get(f"{url}/v1/summary", headers=_bearer(a)).status_code == 200
    assert httpx.post(f"{url}/v1/track", json=msg, headers=_bearer(a)).status_code == 403
    # no key at all
    for path in ("/v1/summary", "/v1/admin/keys", "/v1/people/timeline?identifier=x"):
        got = httpx.get(f"{url}{path}")
        assert got.status_code == 401
        assert got.json()["error"] == "unauthorized"


def test_key_management_over_http(server, admin, uid):
    made = admin.post("/v1/admin/keys", json={"kind": "write", "name": "shop"})
    assert made.status_code == 201, made.text
    new = made.json()
    assert new["key"].startswith("jkw_") and new["kind"] == "write" and new["revoked_at"] is None
    listed = admin.get("/v1/admin/keys").json()
    assert new["key_id"] in [k["key_id"] for k in listed]
    assert all("key" not in k for k in listed)  # secrets are never listed
    msg = {"event": "Y", "userId": uid()}
    assert (
        httpx.post(f"{server.url}/v1/track", json=msg, headers=_bearer(new["key"])).status_code
        == 200
    )
    gone = admin.delete(f"/v1/admin/keys/{new['key_id']}")
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    # refused from the very next request
    got = httpx.post(f"{server.url}/v1/track", json=msg, headers=_bearer(new["key"]))
    assert got.status_code == 401
    assert admin.delete("/v1/admin/keys/ffffffffffffffff").status_code == 404
    bad = admin.post("/v1/admin/keys", json={"kind": "owner", "name": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    bad = admin.post("/v1/admin/keys", json={"kind": "read"})
    assert bad.status_code == 400 and bad.json()["field"] == "name"


def test_key_revoked_by_another_process_is_refused(server, admin, uid):
    key = admin.post("/v1/admin/keys", json={"kind": "read", "name": "temp"}).json()["key"]
    assert httpx.get(f"{server.url}/v1/summary", headers=_bearer(key)).status_code == 200
    revoke_key(server.workspace, key)  # as `journeykit keys revoke` does, from this process
    time.sleep(RECHECK_SECONDS + 0.2)
    assert httpx.get(f"{server.url}/v1/summary", headers=_bearer(key)).status_code == 401


def test_rate_limit_per_key(server, admin, uid):
    key = admin.post(
        "/v1/admin/keys", json={"kind": "write", "name": "slow", "rate": 1, "burst": 5}
    ).json()["key"]
    msg = {"type": "track", "event": "Z", "userId": uid()}
    ok = httpx.post(f"{server.url}/v1/batch", json={"batch": [msg] * 5}, headers=_bearer(key))
    assert ok.status_code == 200
    limited = httpx.post(f"{server.url}/v1/batch", json={"batch": [msg] * 5}, headers=_bearer(key))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    # other keys are not affected
    assert (
        httpx.post(
            f"{server.url}/v1/track", json=msg, headers=_bearer(server.keys["write"])
        ).status_code
        == 200
    )


def test_export_and_forget_a_person(server, write, read, admin, uid):
    user, anon = uid("user"), uid("anon")
    email = f"{user}@example.com"
    write.post("/v1/track", json={"event": "Browse", "anonymousId": anon})
    write.post(
        "/v1/identify", json={"anonymousId": anon, "userId": user, "traits": {"email": email}}
    )
    write.post("/v1/track", json={"event": "Order Completed", "userId": user})
    # export and erase flush the spool first: no need to wait for the loader
    exported = admin.get("/v1/admin/people/export", params={"identifier": f"email:{email}"})
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert {e["event"] for e in body["events"]} == {"Browse", "Identified", "Order Completed"}
    assert {i["identifier"] for i in body["identities"]} >= {
        f"user_id:{user}",
        f"anonymous_id:{anon}",
        f"email:{email}",
    }
    assert read.get("/v1/admin/people/export", params={"identifier": user}).status_code == 403
    spool_before = {p.name for p in (server.workspace / "spool").glob("*.seg")}
    forgotten = admin.post("/v1/admin/people/forget", json={"identifier": user})
    assert forgotten.status_code == 200, forgotten.text
    report = forgotten.json()
    assert report["removed"]["events"] == 3
    assert f"email:{email}" in report["identifiers"]
    assert read.get("/v1/people/timeline", params={"identifier": user}).status_code == 404
    # the spool segments that held the raw messages are gone
    assert not spool_before & {p.name for p in (server.workspace / "spool").glob("*.seg")}
    missing = admin.post("/v1/admin/people/forget", json={"identifier": user})
    assert missing.status_code == 404
    assert admin.post("/v1/admin/people/forget", json={}).status_code == 400


def test_spool_status_and_flush(server, write, admin, uid):
    write.post("/v1/track", json={"event": "S", "userId": uid()})
    flushed = admin.post("/v1/admin/spool/flush").json()
    assert flushed["flushed"] is True
    assert flushed["backlog_bytes"] == 0
    assert flushed["committed"] == flushed["durable"]
    status = admin.get("/v1/admin/spool").json()
    assert status["messages_loaded"] >= 1 and status["dead_letters"] == 0
    assert status["accepted"] >= status["requests"] >= 1


def test_full_spool_answers_429(launch, uid):
    srv = launch(
        env={
            "JOURNEYKIT_SERVER_SPOOL_QUOTA_BYTES": "3000",
            # the loader waits long for company: the spool fills up
            "JOURNEYKIT_SERVER_LOAD_LINGER_SECONDS": "60",
            "JOURNEYKIT_SERVER_LOAD_BATCH_MESSAGES": "100000",
        }
    )
    statuses = []
    with srv.client("write") as c:
        for _ in range(20):
            r = c.post(
                "/v1/track", json={"event": "Fill", "userId": uid(), "properties": {"p": "x" * 200}}
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.headers["retry-after"] == "1"
                assert r.json()["error"] == "spool_full"
                break
    assert statuses[0] == 200 and statuses[-1] == 429
    assert httpx.get(f"{srv.url}/readyz").status_code == 503
    srv.flush()  # loading frees the spool
    with srv.client("write") as c:
        assert c.post("/v1/track", json={"event": "Again", "userId": uid()}).status_code == 200
    assert httpx.get(f"{srv.url}/readyz").status_code == 200
