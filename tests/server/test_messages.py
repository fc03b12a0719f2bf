"""Checking at receipt agrees with the loader: what is acknowledged is what gets stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.errors import InputError
from journeykit.server.messages import (
    Bounds,
    check_messages,
    decode_record,
    encode_record,
    expand,
    parse_batch,
    parse_body,
    read_payload,
)

RECEIVED = datetime.now().replace(microsecond=0)  # naive UTC is what the server uses
BOUNDS = Bounds(max_future=timedelta(hours=24), max_past=timedelta(days=365.25 * 30 - 1))

TRICKY = [
    "",
    " ",
    "\u3000",
    "\t",
    "null",
    "NaN",
    "None",
    "ok",
    "00",
    "+",
    "+44 20 7946 0958",
    "0044 (20)",
    "ann@example.com",
    "\u0000x",
    "\ud800",
    "ü",
]
scalars = st.one_of(
    st.none(),
    st.sampled_from(TRICKY),
    st.text(max_size=6),
    st.integers(-5, 10**20),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.just([1]),
    st.just({"a": 1}),
)
times = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:00.123+02:00",
            "2026-03-01 10:00:00",
            "2026-03-01T10:00:00z",
            " 2026-03-01T10:00:00Z ",
            "yesterday",
            "1901-01-01T00:00:00Z",
            "2999-01-01T00:00:00Z",
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
        ]
    ),
    st.integers(-(10**12), 10**13),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just([]),
)
recent = st.integers(-3000, 3000).map(lambda m: (RECEIVED + timedelta(minutes=m)).isoformat() + "Z")
objects = st.one_of(
    st.none(),
    st.just([]),
    st.just("x"),
    st.dictionaries(
        st.sampled_from(["email", "phone", "crm_id", "revenue", "total", "id", "traits", "x"]),
        scalars,
        max_size=4,
    ),
)


@st.composite
def messages(draw: st.DrawFn) -> dict:
    msg: dict = {}
    if draw(st.booleans()):
        msg["type"] = draw(
            st.sampled_from(["track", "identify", "page", "screen", "alias", "group", "Track", 3])
        )
    for key in ("event", "userId", "anonymousId", "previousId", "groupId", "name", "channel"):
        if draw(st.integers(0, 3)) > 0:
            msg[key] = draw(scalars)
    for key in ("timestamp", "originalTimestamp", "sentAt"):
        if draw(st.integers(0, 2)) == 0:
            msg[key] = draw(st.one_of(times, recent))
    for key in ("properties", "traits", "context"):
        if draw(st.booleans()):
            msg[key] = draw(objects)
    if isinstance(msg.get("context"), dict) and draw(st.booleans()):
        msg["context"]["device"] = {"id": draw(scalars)}
    if draw(st.booleans()):
        msg["messageId"] = draw(scalars)
    return msg


def _pipeline(batch: list) -> tuple[bytes, set[int], list[dict]]:
    """What the collector spools for a batch: the record, the refused indexes, the messages."""
    body = json.dumps({"batch": batch}).encode()
    payload, sizes = read_payload(body, batch=True)
    checked = check_messages(
        expand(payload, None), RECEIVED, BOUNDS, body=body, max_message_bytes=32768, sizes=sizes
    )
    record = encode_record(body, None, RECEIVED, checked, "k")
    return record, {e.index for e in checked.errors}, decode_record(record).messages


def _refused_by_loader(ws, messages: list) -> int:
    """How many of ``messages`` the loader refuses (an exception refuses a message too)."""
    from journeykit.ingest import load_segment

    try:
        return load_segment(ws, messages, received_at=RECEIVED).rejected
    except (ValueError, OverflowError, OSError):
        # the loader's time parsing can raise on out-of-range times: try one by one
        if len(messages) == 1:
            return 1
        return sum(_refused_by_loader(ws, [m]) for m in messages)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(messages(), min_size=1, max_size=20))
def test_receipt_check_agrees_with_the_loader(ws, batch):
    """Every message the collector accepts is stored; every one it refuses, the loader refuses.

    The reference is the loader itself (``load_segment``, unchecked input).
    """
    from journeykit.ingest import load_segment

    for i, msg in enumerate(batch):  # unique ids, so that dedupe hides nothing
        if isinstance(msg.get("messageId"), str) and msg["messageId"].strip():
            msg["messageId"] = f"{msg['messageId']}-{i}-{id(batch)}"
    _, refused, accepted = _pipeline(batch)
    assert len(accepted) == len(batch) - len(refused)
    if accepted:
        report = load_segment(ws, accepted, received_at=RECEIVED)
        assert report.rejected == 0, report.rejects
        assert report.loaded + report.duplicates == len(accepted)
    # the collector's own rules beyond the loader's: unpaired surrogates, huge revenue
    own = {
        i
        for i in refused
        if "\\ud800" in json.dumps(batch[i])
        or (isinstance(batch[i], dict) and "finite" in _reason(batch[i]))
    }
    others = [dict(batch[i], receivedAt=RECEIVED.isoformat() + "Z") for i in sorted(refused - own)]
    if others:
        assert _refused_by_loader(ws, others) == len(others)


def _reason(message: dict) -> str:
    from journeykit.server.messages import check_message

    try:
        check_message(message, RECEIVED, BOUNDS)
    except InputError as exc:
        return exc.reason
    return ""


@given(batch=st.lists(messages(), min_size=0, max_size=8), sent=st.one_of(st.none(), recent))
@settings(max_examples=200, deadline=None)
def test_batch_split_parses_like_json(batch, sent):
    payload = {"batch": batch} if sent is None else {"batch": batch, "sentAt": sent}
    compact = json.dumps(payload)
    for body in (compact, json.dumps(payload, indent=2), compact[:-1]):
        raw = body.encode()
        try:
            expected = parse_body(raw)
        except InputError:
            with pytest.raises(InputError):
                parse_batch(raw)
            continue
        got, sizes = parse_batch(raw)
        assert got == expected
        if sizes is not None:
            assert len(sizes) == len(batch)
            if body == compact:
                assert sizes == [len(json.dumps(m).encode()) for m in batch]


def test_batch_sizes_are_bytes_as_sent():
    body = b'{"batch": [ {"a": "\xc3\xbc"} ,{"b":1}], "sentAt": "x"}'
    payload, sizes = parse_batch(body)
    assert payload == {"batch": [{"a": "ü"}, {"b": 1}], "sentAt": "x"}
    assert sizes == [len('{"a": "ü"}'.encode()), 7]
    # a second "batch" key: the last one wins, as in JSON
    payload, sizes = parse_batch(b'{"batch": [1], "batch": [2]}')
    assert payload == {"batch": [2]}
    assert sizes is None


def test_record_round_trip_keeps_ids_and_receipt_time():
    batch = [
        {"type": "track", "event": "A", "userId": "u"},
        {"type": "track", "userId": "u"},
        {"type": "track", "event": "B", "userId": "u", "messageId": "given"},
    ]
    record, refused, out = _pipeline(batch)
    assert refused == {1}
    assert [m["event"] for m in out] == ["A", "B"]
    assert out[0]["messageId"].startswith("jk-")
    assert out[1]["messageId"] == "given"
    assert {m["receivedAt"] for m in out} == {RECEIVED.isoformat() + "Z"}
    # decoding again gives the same ids: a replay after a crash stores nothing twice
    assert decode_record(record).messages == out


def test_batch_context_and_sent_at_reach_each_message():
    payload = {
        "batch": [{"event": "A"}, {"event": "B", "context": {"ip": "1"}, "sentAt": "s2"}],
        "context": {"library": {"name": "x"}, "ip": "0"},
        "sentAt": "s1",
    }
    a, b = expand(payload, None)
    assert a["context"] == {"library": {"name": "x"}, "ip": "0"} and a["sentAt"] == "s1"
    assert b["context"] == {"library": {"name": "x"}, "ip": "1"} and b["sentAt"] == "s2"
    (single,) = expand({"type": "page", "event": "E", "writeKey": "k"}, "track")
    assert single == {"type": "track", "event": "E"}


def test_numbers_parse_exactly_or_are_refused():
    assert parse_body(b'{"a": 123456789012345678901234567890}') == {
        "a": 123456789012345678901234567890
    }
    assert parse_body(b'{"a": 0.1, "b": -0.0, "c": 1e308}') == {"a": 0.1, "b": -0.0, "c": 1e308}
    for bad in (b'{"a": 1e400}', b'{"a": -Infinity}', b'{"a": NaN}'):
        with pytest.raises(InputError):
            parse_body(bad)
    assert parse_body(b'\xef\xbb\xbf{"bom": 1}') == {"bom": 1}
