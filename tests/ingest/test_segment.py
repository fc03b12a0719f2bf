"""Segment-spec messages: shapes, clock skew, batches, refusals by position."""

from __future__ import annotations

from datetime import datetime

import pytest

from journeykit.errors import InputError
from journeykit.ingest import load_segment, message_to_row
from journeykit.ingest.segment import event_time, flatten


def test_clock_skew_correction():
    msg = {
        "originalTimestamp": "2026-03-01T10:00:00Z",
        "sentAt": "2026-03-01T10:00:05Z",
        "receivedAt": "2026-03-01T09:00:10Z",
    }
    # the device clock runs an hour fast: ts = receivedAt - (sentAt - originalTimestamp)
    assert event_time(msg, None) == datetime(2026, 3, 1, 9, 0, 5)


def test_time_without_sent_at_uses_timestamp():
    msg = {"timestamp": "2026-03-01T10:00:00+01:00"}
    assert event_time(msg, datetime(2026, 3, 2)) == datetime(2026, 3, 1, 9, 0)
    assert event_time({}, datetime(2026, 3, 2)) == datetime(2026, 3, 2)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "userId": "u"}, "event"),
        ({"type": "track", "event": "A"}, "userId"),
        ({"type": "fly", "userId": "u"}, "type"),
        ({"type": "alias", "userId": "u"}, "previousId"),
        ({"type": "group", "userId": "u"}, "groupId"),
        ({"type": "track", "event": "A", "userId": "u", "properties": [1]}, "properties"),
        ({"type": "track", "event": "A", "userId": {"x": 1}}, "userId"),
        ({"type": "track", "event": "A", "userId": "u", "timestamp": "soon"}, "timestamp"),
        (
            {"type": "track", "event": "A", "userId": "u", "properties": {"revenue": "ten"}},
            "properties.revenue",
        ),
        ("not an object", "message"),
    ],
)
def test_bad_messages_name_the_field(message, field):
    with pytest.raises(InputError) as info:
        message_to_row(message, datetime(2026, 3, 1))
    assert info.value.field == field


def test_page_screen_identify_group_shapes():
    page = message_to_row(
        {
            "type": "page",
            "name": "Pricing",
            "anonymousId": "a",
            "context": {"page": {"url": "https://x"}},
        },
        datetime(2026, 3, 1),
    )
    assert (page["event"], page["channel"]) == ("Page Viewed", "web")
    screen = message_to_row(
        {"type": "screen", "userId": "u", "context": {"channel": "mobile", "device": {"id": "d1"}}},
        datetime(2026, 3, 1),
    )
    assert (screen["event"], screen["channel"], screen["device_id"]) == (
        "Screen Viewed",
        "app",
        "d1",
    )
    ident = message_to_row(
        {
            "type": "identify",
            "userId": "u",
            "traits": {"email": "A@B.c", "phone": "+1 2", "crm_id": 7},
        },
        datetime(2026, 3, 1),
    )
    assert (ident["email"], ident["phone"], ident["crm_id"]) == ("A@B.c", "+1 2", "7")
    group = message_to_row({"type": "group", "userId": "u", "groupId": "g1"}, datetime(2026, 3, 1))
    assert '"group_id":"g1"' in group["properties"]


def test_batch_keeps_good_messages_and_reports_bad_by_position(ws):
    payload = {
        "batch": [
            {"type": "track", "event": "A", "userId": "u1", "messageId": "m1"},
            {"type": "track", "userId": "u1"},
            {
                "type": "track",
                "event": "B",
                "userId": "u1",
                "messageId": "m2",
                "timestamp": "2099-01-01T00:00:00Z",
            },
            {"type": "identify", "userId": "u1", "traits": {"email": "x@y.z"}},
        ],
        "context": {"channel": "server"},
    }
    report = load_segment(ws, flatten(payload), received_at=datetime(2026, 3, 1, 12))
    assert report.loaded == 2
    assert [(r.row, r.field) for r in report.rejects] == [(2, "event"), (3, "ts")]
    again = load_segment(ws, flatten(payload), received_at=datetime(2026, 3, 1, 12))
    assert again.loaded == 0  # the same messageIds are stored once
