"""The bring-your-own fixture itself: the hand-worked reference agrees with the rows."""

from __future__ import annotations

from collections import Counter

from byo_cli import Byo

from byo_data import TRAVEL_REF, travel_rows


def test_the_reference_counts_the_rows() -> None:
    rows = travel_rows()
    events = Counter(r["event_name"] for r in rows)
    bookings = [r for r in rows if r["event_name"] == "booking_confirmed"]
    per_person = Counter(r["customer_id"] for r in bookings)
    assert len({r["customer_id"] for r in rows}) == TRAVEL_REF["people"]
    assert len(rows) == TRAVEL_REF["events"] == 2000
    assert len(bookings) == TRAVEL_REF["bookings"]
    assert len(per_person) == TRAVEL_REF["bookers"]
    assert sum(1 for n in per_person.values() if n > 1) == TRAVEL_REF["repeat_bookers"]
    assert sum(r["total_price"] for r in bookings) == TRAVEL_REF["revenue"] == 30_600
    assert events["payment_failed"] == TRAVEL_REF["payment_failed_people"]
    assert events["trip_review"] == TRAVEL_REF["reviews"]
    ratings = [r["rating"] for r in rows if r["event_name"] == "trip_review"]
    assert sum(ratings) / len(ratings) == TRAVEL_REF["mean_rating"]
    chats = {r["customer_id"] for r in rows if r["event_name"] == "support_chat"}
    assert len(chats) == TRAVEL_REF["chat_people"]


def test_the_export_loads_through_the_cli(byo: Byo) -> None:
    ws = byo.open()
    try:
        s = ws.summary()
        assert (s.people, s.events) == (TRAVEL_REF["people"], TRAVEL_REF["events"])
        total = ws.store.scalar(
            "SELECT sum(CAST(json_extract(properties, '$.total_price') AS DOUBLE)) FROM events "
            "WHERE event = 'booking_confirmed'"
        )
        assert total == TRAVEL_REF["revenue"]
        assert ws.store.scalar("SELECT count(*) FROM events WHERE revenue IS NOT NULL") == 0
    finally:
        ws.close()
