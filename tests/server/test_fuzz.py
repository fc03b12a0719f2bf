"""Fuzzing the live server: schemathesis from the OpenAPI document, hypothesis payloads."""

from __future__ import annotations

import json

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

SERVER_ENV = {
    # fuzzing sends many requests quickly: no rate limits, so every case reaches the handler
    "JOURNEYKIT_SERVER_WRITE_RATE": "0",
    "JOURNEYKIT_SERVER_READ_RATE": "0",
    "JOURNEYKIT_SERVER_ADMIN_RATE": "0",
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _document() -> dict:
    """The app's document, built without starting it (the test below checks the served one)."""
    import tempfile

    from journeykit.server import create_app

    return create_app(tempfile.mkdtemp()).openapi()


DOCUMENT = _document()
# the one-letter collector paths run the same handler as the long ones
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex=r"^/v1/[a-z]$")


def test_served_document_is_the_fuzzed_one(server):
    assert httpx.get(f"{server.url}/openapi.json").json() == DOCUMENT


def _kind(path: str) -> str:
    if path.startswith("/v1/admin"):
        return "admin"
    if path.rsplit("/", 1)[-1] in {
        "track",
        "identify",
        "page",
        "screen",
        "alias",
        "group",
        "batch",
        "t",
        "i",
        "p",
        "s",
        "a",
        "g",
        "b",
    }:
        return "write"
    return "read"


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_openapi_fuzz(case, server):
    """Schema-driven requests (valid and invalid) never get a 5xx, and every answer matches
    the document: a documented status, JSON, and the documented schema."""
    key = server.keys[_kind(case.path)]
    case.call_and_validate(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
junk_messages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["track", "identify", "alias", "group", "x"])},
        optional={
            "event": json_values,
            "userId": json_values,
            "anonymousId": json_values,
            "timestamp": json_values,
            "properties": json_values,
            "context": json_values,
            "traits": json_values,
            "messageId": json_values,
        },
    ),
)


@given(body=st.one_of(json_values, st.binary(max_size=200)))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_body_gets_a_json_answer_never_a_5xx(server, body):
    headers = {"Authorization": f"Bearer {server.keys['write']}"}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    for path in ("/v1/track", "/v1/identify", "/v1/batch"):
        r = httpx.post(f"{server.url}{path}", content=content, headers=headers)
        assert r.status_code < 500, r.text
        data = r.json()
        assert ("error" in data) == (r.status_code >= 400)
        assert "Traceback" not in r.text


@given(
    junk=st.lists(junk_messages, max_size=6),
    good=st.integers(1, 4),
    positions=st.randoms(use_true_random=False),
)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_good_messages_beside_bad_ones_are_kept(server, junk, good, positions):
    import os

    user = "fz-" + os.urandom(6).hex()
    goods = [
        {"type": "track", "event": f"Good {i}", "userId": user, "messageId": f"{user}-{i}"}
        for i in range(good)
    ]
    batch = list(junk)
    for g in goods:
        batch.insert(positions.randint(0, len(batch)), g)
    write = {"Authorization": f"Bearer {server.keys['write']}"}
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, headers=write)
    assert r.status_code == 200, r.text
    refused = {p["index"] for p in r.json()["rejected"]}
    good_at = {i for i, m in enumerate(batch) if isinstance(m, dict) and m.get("userId") == user}
    assert not refused & good_at
    assert r.json()["accepted"] == len(batch) - len(refused)
    server.flush()
    read = {"Authorization": f"Bearer {server.keys['read']}"}
    t = httpx.get(f"{server.url}/v1/people/timeline", params={"identifier": user}, headers=read)
    assert t.status_code == 200, t.text
    assert sorted(e["event_id"] for e in t.json()["events"]) == sorted(
        g["messageId"] for g in goods
    )
