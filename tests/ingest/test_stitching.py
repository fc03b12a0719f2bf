"""Identity stitching: shared identifiers, aliases, retroactive merges, unmerge, erasure."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeykit
from journeykit.config import IngestSettings, Settings
from journeykit.errors import NotFound
from journeykit.ingest import (
    export_person,
    forget,
    load,
    load_segment,
    merges,
    timeline,
    unmerge,
)
from journeykit.ingest.identity import identifier_sql_check, resolve
from journeykit.schema.events import normalise_identifier


def people(ws) -> int:
    return ws.store.scalar("SELECT count(DISTINCT person_id) FROM events")


def person_of(ws, identifier: str) -> str:
    return resolve(ws.store, identifier)


def test_identifiers_on_one_event_join_people_and_normalise(ws):
    load(
        ws,
        [
            {"ts": "2026-03-01 10:00", "event": "Page Viewed", "anonymous_id": "a1"},
            {
                "ts": "2026-03-01 10:05",
                "event": "Signed Up",
                "anonymous_id": "a1",
                "user_id": "u1",
                "email": " Ann@Example.COM",
            },
            {
                "ts": "2026-03-02 09:00",
                "event": "Store Visited",
                "email": "ann@example.com",
                "phone": "+44 20 7946 0958",
            },
            {
                "ts": "2026-03-03 09:00",
                "event": "Support Called",
                "phone": "0044-20-7946-0958",
                "crm_id": "CRM-1",
            },
        ],
    )
    assert people(ws) == 1
    assert person_of(ws, "ANN@example.com") == person_of(ws, "CRM-1") == person_of(ws, "a1")
    seqs = ws.store.fetchall("SELECT event, seq, prev_event FROM events ORDER BY seq")
    assert seqs == [
        ("Page Viewed", 1, None),
        ("Signed Up", 2, "Page Viewed"),
        ("Store Visited", 3, "Signed Up"),
        ("Support Called", 4, "Store Visited"),
    ]


def test_later_link_merges_two_histories_retroactively(ws):
    load(
        ws,
        [
            {"ts": "2026-03-01 10:00", "event": "Store Visited", "phone": "+15550001"},
            {
                "ts": "2026-03-01 11:00",
                "event": "Order Completed",
                "phone": "+15550001",
                "revenue": 20,
            },
            {"ts": "2026-03-02 10:00", "event": "Page Viewed", "email": "bo@x.io"},
        ],
    )
    assert people(ws) == 2
    report = load(
        ws,
        [
            {
                "ts": "2026-03-05 10:00",
                "event": "Support Called",
                "phone": "1-555-0001".replace("-", ""),
                "email": "bo@x.io",
            }
        ],
    )
    # "15550001" without + is a different phone string: no merge yet
    assert report.merges == 0
    report = load(
        ws,
        [
            {
                "ts": "2026-03-06 10:00",
                "event": "Support Called",
                "phone": "+1 555 0001",
                "email": "BO@x.io",
            }
        ],
    )
    assert report.merges == 1
    assert people(ws) == 1
    rows = ws.store.fetchall("SELECT event, seq FROM events ORDER BY seq")
    assert [r[0] for r in rows][:3] == ["Store Visited", "Order Completed", "Page Viewed"]
    assert [r[1] for r in rows] == list(range(1, 6))
    profile = ws.store.fetchall("SELECT n_events, revenue FROM people")
    assert profile == [(5, 20.0)]
    audit = merges(ws)
    assert len(audit) == 1
    assert {audit["a"][0], audit["b"][0]} == {"email:bo@x.io", "phone:+15550001"}


def test_unmerge_splits_again_without_losing_events(ws):
    load(
        ws,
        [
            {"ts": "2026-03-01 10:00", "event": "A", "phone": "+1"},
            {"ts": "2026-03-02 10:00", "event": "B", "email": "c@d.e"},
            {"ts": "2026-03-03 10:00", "event": "C", "phone": "+1", "email": "c@d.e"},
        ],
    )
    assert people(ws) == 1
    merge_id = merges(ws)["merge_id"][0]
    unmerge(ws, merge_id)
    assert people(ws) == 2
    assert ws.store.scalar("SELECT count(*) FROM events") == 3
    assert person_of(ws, "+1") != person_of(ws, "c@d.e")
    assert merges(ws).empty
    assert len(merges(ws, include_undone=True)) == 1
    seq = ws.store.fetchall("SELECT person_id, list(seq ORDER BY seq) FROM events GROUP BY 1")
    assert sorted(len(s) for _, s in seq) == [1, 2]
    assert all(s == list(range(1, len(s) + 1)) for _, s in seq)
    with pytest.raises(NotFound):
        unmerge(ws, merge_id)


def test_chain_of_aliases(ws):
    report = load_segment(
        ws,
        [
            {"type": "page", "anonymousId": "anon-1", "timestamp": "2026-03-01T10:00:00Z"},
            {
                "type": "alias",
                "previousId": "anon-1",
                "userId": "u1",
                "timestamp": "2026-03-01T10:01:00Z",
            },
            {
                "type": "alias",
                "previousId": "u1",
                "userId": "u2",
                "timestamp": "2026-03-01T10:02:00Z",
            },
            {
                "type": "track",
                "event": "Order Completed",
                "userId": "u2",
                "properties": {"revenue": 9.5},
                "timestamp": "2026-03-01T10:03:00Z",
            },
        ],
    )
    assert report.rejected == 0
    assert person_of(ws, "anon-1") == person_of(ws, "user_id:u2")
    assert people(ws) == 1


def test_identify_traits_reach_the_profile(ws):
    load_segment(
        ws,
        [
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"plan": "gold", "email": "Z@z.io"},
                "timestamp": "2026-03-01T10:00:00Z",
            },
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"plan": "platinum", "city": "Oslo"},
                "timestamp": "2026-03-02T10:00:00Z",
            },
        ],
    )
    traits = json.loads(ws.store.scalar("SELECT traits FROM people"))
    assert traits["plan"] == "platinum"
    assert traits["city"] == "Oslo"
    assert person_of(ws, "z@z.io") == person_of(ws, "user_id:u1")


def test_extra_identifiers_from_config(tmp_path):
    ws = journeykit.open(tmp_path, Settings(ingest=IngestSettings(extra_identifiers=("loyalty",))))
    load(
        ws,
        [
            {
                "ts": "2026-03-01 10:00",
                "event": "A",
                "user_id": "u1",
                "other_ids": json.dumps({"loyalty": "L-9"}),
            },
            {"ts": "2026-03-01 11:00", "event": "B", "other_ids": json.dumps({"loyalty": "L-9"})},
        ],
    )
    assert people(ws) == 1
    assert person_of(ws, "loyalty:L-9") == person_of(ws, "u1")


def test_forget_removes_every_trace(ws, tmp_path):
    load(
        ws,
        [
            {
                "ts": "2026-03-01 10:00",
                "event": "Signed Up",
                "user_id": "u1",
                "email": "e@f.g",
                "type": "identify",
                "properties": {"traits": {"name": "Eve"}},
            },
            {
                "ts": "2026-03-02 10:00",
                "event": "Store Visited",
                "phone": "+4711",
                "email": "e@f.g",
            },
            {"ts": "2026-03-03 10:00", "event": "Support Called", "phone": "+4711"},
            {"ts": "bad time", "event": "X", "email": "e@f.g"},
            {"ts": "2026-03-01 10:00", "event": "Page Viewed", "user_id": "other"},
        ],
    )
    report = forget(ws, "e@f.g")
    assert report.removed["events"] == 3
    assert report.removed["rejects"] == 1
    for table, column in [
        ("events", "email"),
        ("identities", "value"),
        ("traits", "traits"),
        ("identity_links", "a"),
        ("people", "traits"),
        ("rejects", "raw"),
    ]:
        hits = ws.store.scalar(
            f"SELECT count(*) FROM {table} WHERE CAST({column} AS VARCHAR) ILIKE '%e@f.g%' "
            f"OR CAST({column} AS VARCHAR) ILIKE '%+4711%' OR CAST({column} AS VARCHAR) "
            "ILIKE '%u1%'"
        )
        assert hits == 0, table
    assert ws.store.scalar("SELECT count(*) FROM merges") == 0
    assert people(ws) == 1  # the other person stays
    for path in (ws.path / "rejects").glob("*.csv"):
        assert "e@f.g" not in path.read_text()
    with pytest.raises(NotFound):
        timeline(ws, "e@f.g")


def test_export_person_is_complete_json(ws):
    load(
        ws,
        [
            {"ts": "2026-03-01 10:00", "event": "A", "user_id": "u1", "email": "q@r.s"},
            {"ts": "2026-03-02 10:00", "event": "B", "email": "q@r.s", "properties": {"k": 1}},
        ],
    )
    data = export_person(ws, "q@r.s")
    json.dumps(data)
    assert len(data["events"]) == 2
    assert {i["identifier"] for i in data["identities"]} == {"user_id:u1", "email:q@r.s"}
    assert data["events"][1]["properties"] == {"k": 1}


def test_resolve_ambiguous_and_missing(ws):
    load(
        ws,
        [
            {"ts": "2026-03-01 10:00", "event": "A", "user_id": "same"},
            {"ts": "2026-03-01 10:00", "event": "A", "anonymous_id": "same"},
        ],
    )
    with pytest.raises(ValueError, match="matches 2 people"):
        resolve(ws.store, "same")
    assert resolve(ws.store, "anonymous_id:same") != resolve(ws.store, "user_id:same")
    with pytest.raises(NotFound):
        resolve(ws.store, "nobody")


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["email", "phone", "user_id"]),
    value=st.text(alphabet=st.sampled_from(list("aB1+0 -()@.x9")), max_size=14),
)
def test_sql_normalisation_matches_python(kind, value):
    assert identifier_sql_check(kind, value) == normalise_identifier(kind, value)
