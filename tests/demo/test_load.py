"""End to end: the demo files load into a workspace and stitching finds the true people."""

from __future__ import annotations

import pyarrow.parquet as pq

from journeykit.ingest import load, load_spend


def test_demo_loads_and_stitches_to_the_true_people(small, ws):
    for path in small.events:
        report = load(ws, path)
        assert report.rejected == 0 and report.loaded == report.rows
    assert load_spend(ws, small.spend) == pq.read_metadata(small.spend).num_rows
    cur = ws.store.cursor()
    cur.register("truth", pq.read_table(small.truth_people))
    (events, people) = cur.execute(
        "SELECT count(*), count(DISTINCT person_id) FROM events"
    ).fetchone()
    assert events == small.n_events and people == small.n_people
    (identities, matched, split, joined) = cur.execute(
        """
        SELECT (SELECT count(*) FROM identities),
               (SELECT count(*) FROM identities JOIN truth USING (identifier)),
               (SELECT count(*) FROM (SELECT person FROM identities JOIN truth USING (identifier)
                                      GROUP BY person HAVING count(DISTINCT person_id) > 1)),
               (SELECT count(*) FROM (SELECT person_id FROM identities JOIN truth USING (identifier)
                                      GROUP BY person_id HAVING count(DISTINCT person) > 1))
        """
    ).fetchone()
    assert identities == matched == small.n_identifiers
    assert split == 0 and joined == 0
