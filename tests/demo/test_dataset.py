"""The demo files: layout, types, ids, determinism, chunking, progress, spend."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeykit.demo import generate, scale_for_events
from journeykit.demo.vocab import CHANNELS, EVENTS, STAGES
from journeykit.errors import InputError
from journeykit.schema.events import INPUT_COLUMNS

EXPECTED_COLUMNS = [
    "event_id",
    "ts",
    "type",
    "event",
    "channel",
    "anonymous_id",
    "user_id",
    "email",
    "phone",
    "crm_id",
    "device_id",
    "other_ids",
    "properties",
    "revenue",
    "source",
]

#: The channels each event may use (the vocabulary of docs/demo.md).
EVENT_CHANNELS = {
    "Ad Clicked": {"ads"},
    "Social Post Viewed": {"social"},
    "Blog Post Viewed": {"blog"},
    "Search Result Clicked": {"search"},
    "Referral Link Clicked": {"referral"},
    "Session Started": {"web", "app"},
    "Product Viewed": {"web", "app"},
    "Product Added": {"web", "app"},
    "Signed Up": {"web", "app"},
    "Store Visited": {"store"},
    "Chat Started": {"chat"},
    "Chat Ended": {"chat"},
    "Support Called": {"phone"},
    "Checkout Started": {"web", "app"},
    "Payment Failed": {"web", "app"},
    "Order Completed": {"web", "app", "store"},
    "Email Sent": {"email"},
    "Email Opened": {"email"},
    "Email Clicked": {"email"},
    "Order Returned": {"web", "app", "store"},
    "Survey Answered": {"survey"},
    "Review Posted": {"review"},
    "Referral Sent": {"web", "app"},
}


def _read(paths) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in paths])


def test_columns_and_types_are_the_loader_input_layout(demo):
    schema = pq.read_schema(demo.files.events[0])
    assert schema.names == EXPECTED_COLUMNS
    for name in EXPECTED_COLUMNS:
        assert schema.field(name).type == INPUT_COLUMNS[name], name
    assert schema.field("ts").type == pa.timestamp("us")  # naive: UTC by convention


def test_event_ids_are_unique_stable_and_numbered(demo):
    n, distinct, bad = demo.rows(
        "SELECT count(*), count(DISTINCT event_id), "
        "count(*) FILTER (WHERE NOT regexp_full_match(event_id, 'd7-[0-9]{9}')) FROM ev"
    )[0]
    assert n == distinct == demo.files.n_events == demo.truth["generator"]["events"]
    assert bad == 0
    first, last = demo.rows("SELECT min(event_id), max(event_id) FROM ev")[0]
    assert (first, last) == ("d7-000000000", f"d7-{n - 1:09d}")


def test_vocabulary_channels_types_and_values(demo):
    rows = demo.rows("SELECT event, channel, type, count(*) FROM ev GROUP BY ALL")
    seen = {}
    for event, channel, kind, _n in rows:
        assert channel in EVENT_CHANNELS[event], (event, channel)
        assert kind == ("identify" if event == "Signed Up" else "track")
        seen.setdefault(event, 0)
        seen[event] += _n
    assert set(seen) == set(EVENTS) == set(STAGES)
    assert {c for _e, c, _k, _n in rows} <= set(CHANNELS)
    (checks,) = demo.rows(
        """
        SELECT count(*) FILTER (WHERE source <> 'demo'),
               count(*) FILTER (WHERE other_ids IS NOT NULL),
               count(*) FILTER (WHERE NOT json_valid(properties)),
               count(*) FILTER (WHERE (revenue IS NOT NULL) <> (event = 'Order Completed')),
               count(*) FILTER (WHERE event = 'Order Completed'
                   AND revenue <> CAST(json_extract(properties, '$.revenue') AS DOUBLE)),
               count(*) FILTER (WHERE channel IN ('web', 'app')
                   AND json_extract_string(properties, '$.platform') IS NULL),
               count(*) FILTER (WHERE channel = 'app'
                   AND json_extract_string(properties, '$.platform') = 'web'),
               min(ts) >= TIMESTAMP '2026-06-03', max(ts) < TIMESTAMP '2026-10-01'
        FROM ev
        """
    )
    assert checks == (0, 0, 0, 0, 0, 0, 0, True, True)


def test_identify_rows_carry_anonymous_id_user_id_and_email(demo):
    (bad,) = demo.rows(
        "SELECT count(*) FROM ev WHERE event = 'Signed Up' AND (anonymous_id IS NULL "
        "OR user_id IS NULL OR email IS NULL OR json_extract_string(properties, '$.email') "
        "<> lower(email))"
    )[0]
    assert bad == 0


def test_realistic_mess_needs_normalising_and_ordering(demo):
    (mixed, formatted, store_email, ties, same_instant_touch) = demo.rows(
        """
        SELECT
          count(*) FILTER (WHERE email <> lower(email)),
          count(*) FILTER (WHERE phone IS NOT NULL AND NOT regexp_full_match(phone, '\\+[0-9]+')),
          count(*) FILTER (WHERE channel = 'store' AND email IS NOT NULL),
          (SELECT count(*) FROM (SELECT ts FROM ev JOIN row_person USING (event_id)
                                 GROUP BY person, ts HAVING count(*) > 1)),
          (SELECT count(*) FROM ev a JOIN ev b ON a.ts = b.ts AND a.anonymous_id = b.anonymous_id
           WHERE a.event = 'Ad Clicked' AND b.event = 'Session Started')
        FROM ev
        """
    )[0]
    assert mixed > 100 and formatted > 100 and store_email > 100
    assert ties > 100 and same_instant_touch > 100
    (store_phone_only,) = demo.rows(
        "SELECT count(*) FROM ev WHERE channel = 'store' AND email IS NULL "
        "AND phone IS NOT NULL AND user_id IS NULL AND anonymous_id IS NULL"
    )[0]
    assert store_phone_only > 100


def test_about_fifty_events_per_person_and_scaling(demo):
    per_person = demo.files.n_events / demo.files.n_people
    assert 42 < per_person < 60
    assert abs(scale_for_events(1_000_000) - 1_000_000 / 50.5) < 2
    assert abs(scale_for_events(100_000_000) - 100 * scale_for_events(1_000_000)) <= 100
    assert scale_for_events(1_000_000, days=240) < scale_for_events(1_000_000)
    with pytest.raises(InputError):
        scale_for_events(0)


def test_same_seed_gives_identical_rows_and_ground_truth(small, tmp_path):
    again = generate(tmp_path / "again", people=1500, seed=3, events_per_chunk=20_000)
    assert Path(again.ground_truth).read_bytes() == Path(small.ground_truth).read_bytes()
    assert _read(again.events).equals(_read(small.events))
    assert pq.read_table(again.truth_people).equals(pq.read_table(small.truth_people))
    assert pq.read_table(again.spend).equals(pq.read_table(small.spend))


def test_another_seed_gives_other_data(small, tmp_path):
    other = generate(tmp_path / "other", people=1500, seed=4)
    assert other.n_events != small.n_events
    a = json.loads(Path(other.ground_truth).read_text())
    b = json.loads(Path(small.ground_truth).read_text())
    assert a["effects"] != b["effects"]


def test_chunking_does_not_change_the_rows(small, tmp_path):
    assert len(small.events) == math.ceil(small.n_events / 20_000) > 1
    sizes = [pq.read_metadata(p).num_rows for p in small.events]
    assert all(s == 20_000 for s in sizes[:-1]) and 0 < sizes[-1] <= 20_000
    assert [p.name for p in small.events][:2] == ["events-00000.parquet", "events-00001.parquet"]
    one = generate(tmp_path / "one", people=1500, seed=3)
    assert len(one.events) == 1
    assert _read(one.events).equals(_read(small.events))
    assert Path(one.ground_truth).read_bytes() != b""
    a = json.loads(Path(one.ground_truth).read_text())
    b = json.loads(Path(small.ground_truth).read_text())
    assert a["effects"] == b["effects"] and a["themes"] == b["themes"]


def test_regenerating_removes_stale_event_files(tmp_path):
    generate(tmp_path, people=300, events_per_chunk=2_000)
    files = generate(tmp_path, people=300)
    assert sorted(p.name for p in tmp_path.glob("events-*.parquet")) == ["events-00000.parquet"]
    assert len(files.events) == 1


def test_progress_reports_events_done_and_expected(tmp_path):
    calls: list[tuple[int, int]] = []
    files = generate(
        tmp_path, people=2500, progress=lambda done, total: calls.append((done, total))
    )
    done = [c[0] for c in calls]
    assert done == sorted(done) and len(calls) == 4  # three blocks of people, then the end
    assert calls[-1] == (files.n_events, files.n_events)
    assert all(0 < d <= t for d, t in calls)
    assert abs(calls[0][1] - 2500 * 50.5) < 2


def test_spend_is_daily_per_paid_campaign(demo):
    table = pq.read_table(demo.files.spend)
    assert table.schema.names == ["date", "channel", "campaign", "amount"]
    assert table.schema.field("date").type == pa.date32()
    rows = demo.rows(
        "SELECT channel, count(DISTINCT campaign), count(DISTINCT date), min(amount) > 0, "
        "count(*) FROM spend GROUP BY channel ORDER BY channel"
    )
    assert [r[0] for r in rows] == ["ads", "search", "social"]
    assert all(r[2] == 120 and r[3] and r[4] == r[1] * 120 for r in rows)
    # spend follows the paid clicks
    (corr,) = demo.rows(
        """
        WITH clicks AS (
          SELECT CAST(ts AS DATE) AS date, json_extract_string(properties, '$.campaign') AS campaign,
                 count(*) AS n
          FROM ev WHERE event IN ('Ad Clicked', 'Social Post Viewed', 'Search Result Clicked')
            AND json_extract_string(properties, '$.campaign') IS NOT NULL
          GROUP BY ALL)
        SELECT corr(n, amount) FROM spend JOIN clicks USING (date, campaign)
        """
    )[0]
    assert corr > 0.5


def test_bad_parameters_are_input_errors(tmp_path):
    for kwargs in ({"people": 0}, {"days": 10}, {"seed": -1}, {"events_per_chunk": 0}):
        with pytest.raises(InputError) as err:
            generate(tmp_path, **kwargs)
        assert err.value.field == next(iter(kwargs))


def test_importing_the_package_loads_no_generator():
    code = "import sys, journeykit.demo; print('journeykit.demo.dataset' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
