"""truth_people: every identifier of the data, its true person, and stitching that can find it."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from journeykit.schema import normalise_identifier


def test_every_row_maps_to_exactly_one_person(demo):
    (events, mapped, ambiguous, unknown) = demo.rows(
        "SELECT (SELECT count(*) FROM ev), count(*), count(*) FILTER (WHERE n_people <> 1), "
        "sum(unknown) FROM row_person"
    )[0]
    assert events == mapped  # every event carries an identifier
    assert ambiguous == 0 and unknown == 0


def test_truth_covers_exactly_the_identifiers_in_the_data(demo):
    (n, distinct) = demo.rows("SELECT count(*), count(DISTINCT identifier) FROM tp")[0]
    assert n == distinct == demo.files.n_identifiers
    (missing, unused) = demo.rows(
        "SELECT (SELECT count(*) FROM (SELECT identifier FROM ids EXCEPT SELECT identifier FROM tp)),"
        " (SELECT count(*) FROM (SELECT identifier FROM tp EXCEPT SELECT identifier FROM ids))"
    )[0]
    assert missing == 0 and unused == 0
    kinds = dict(demo.rows("SELECT split_part(identifier, ':', 1), count(*) FROM tp GROUP BY 1"))
    assert set(kinds) == {"user_id", "email", "phone", "crm_id", "device_id", "anonymous_id"}
    people = demo.rows("SELECT min(person), max(person), count(DISTINCT person) FROM tp")[0]
    assert people == (0, demo.files.n_people - 1, demo.files.n_people)


def test_truth_is_normalised_like_the_loader(demo):
    table = pq.read_table(demo.files.truth_people).to_pandas()
    for identifier in table["identifier"].sample(500, random_state=1):
        kind, value = identifier.split(":", 1)
        assert normalise_identifier(kind, value) == value


def test_normalisation_is_needed_to_join_sources(demo):
    (emails, phones) = demo.rows(
        """
        SELECT
          (SELECT count(*) FROM (SELECT lower(email) FROM ev WHERE email IS NOT NULL
                                 GROUP BY 1 HAVING count(DISTINCT email) > 1)),
          (SELECT count(*) FROM (SELECT identifier FROM ids JOIN ev USING (event_id)
                                 WHERE identifier LIKE 'phone:%'
                                 GROUP BY 1 HAVING count(DISTINCT phone) > 2))
        """
    )[0]
    assert emails > 50 and phones > 50


def test_stitching_the_rows_finds_the_true_people(demo):
    """Identifiers on one row belong together; the groups they form are the true people."""
    ids = demo.con.execute("SELECT event_id, identifier FROM ids").df()
    names, node = np.unique(ids["identifier"].to_numpy(), return_inverse=True)
    _events, row = np.unique(ids["event_id"].to_numpy(), return_inverse=True)
    anchor = np.empty(row.max() + 1, dtype=np.int64)
    anchor[row] = node  # any one identifier of each row: link the row's others to it
    graph = coo_matrix((np.ones(len(node)), (node, anchor[row])), shape=(len(names),) * 2)
    n_groups, group = connected_components(graph, directed=False)
    truth = dict(demo.rows("SELECT identifier, person FROM tp"))
    person = np.array([truth[name] for name in names])
    assert n_groups == len(set(person)) == demo.files.n_people
    # each group holds one person, each person one group
    pairs = set(zip(group.tolist(), person.tolist(), strict=True))
    assert len(pairs) == n_groups


def test_store_only_people_are_known_by_phone_and_some_by_email(demo):
    rows = demo.rows(
        """
        WITH kinds AS (
          SELECT person, list(DISTINCT split_part(identifier, ':', 1) ORDER BY 1) AS k
          FROM tp GROUP BY person)
        SELECT k, count(*) FROM kinds
        WHERE NOT list_contains(k, 'anonymous_id') GROUP BY k ORDER BY k
        """
    )
    kinds = {tuple(k): n for k, n in rows}
    assert kinds.get(("phone",), 0) > 50
    assert kinds.get(("email", "phone"), 0) > 50
