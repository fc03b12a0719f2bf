"""The generator's building blocks, against slow obvious references."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.demo import frame as fr
from journeykit.demo.identity import identities, scramble
from journeykit.demo.online import _within
from journeykit.demo.people import repeat_index
from journeykit.demo.world import DAY, HOUR, from_us, make_world
from journeykit.schema import normalise_identifier


@settings(deadline=None)
@given(digits=st.integers(1, 5), salt=st.integers(0, 10**9))
def test_scramble_is_a_bijection(digits, salt):
    modulus = 10**digits
    out = scramble(np.arange(modulus), modulus, salt)
    assert sorted(out.tolist()) == list(range(modulus))


@settings(deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**6), max_size=6), max_size=8))
def test_within_group_sums_match_a_loop(groups):
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    gaps = np.array([x for g in groups for x in g], dtype=np.int64)
    expected = [s for g in groups for s in np.cumsum(g).tolist()]
    assert _within(gaps, counts).tolist() == expected
    owner, pos = repeat_index(counts)
    assert owner.tolist() == [i for i, g in enumerate(groups) for _ in g]
    assert pos.tolist() == [j for g in groups for j in range(len(g))]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b \u00e9", ""]), st.integers(-5, 5), st.booleans()),
        min_size=1,
        max_size=5,
    )
)
def test_json_objects_built_column_wise_parse(rows):
    n = len(rows)
    props = fr.obj(
        n,
        [
            ("name", fr.text(pa.array([r[0] for r in rows]))),
            ("k", fr.number(np.array([r[1] for r in rows]))),
            ("flag", fr.boolean(np.array([r[2] for r in rows]))),
            ("pick", fr.pick(["x", "y"], np.array([r[1] % 2 if r[2] else -1 for r in rows]))),
            ("fixed", '"GBP"'),
        ],
    )
    for text, (name, k, flag) in zip(props.to_pylist(), rows, strict=True):
        assert json.loads(text) == {
            "name": name,
            "k": k,
            "flag": flag,
            "pick": ["x", "y"][k % 2] if flag else None,
            "fixed": "GBP",
        }


def test_identifiers_are_unique_and_normalise_to_their_first_spelling():
    n = 3000
    app = np.tile([True, False], (n, 1))
    ids = identities(7, 0, n, n, app)
    for column in (ids.user_id, ids.crm_id, ids.anonymous_id):
        assert len(set(column.to_pylist())) == len(column)
    emails = ids.email.to_pylist()
    assert len({e.lower() for e in emails}) == n
    for i in range(0, 2 * n, 97):
        assert normalise_identifier("email", emails[i]) == emails[i - i % 2]
    phones = ids.phone.to_pylist()
    assert len(set(phones[::4])) == n
    for i in range(0, 4 * n, 89):
        assert normalise_identifier("phone", phones[i]) == phones[i - i % 4]
    assert ids.device_id.null_count == n  # the second device of each is a web browser


def test_world_places_the_effect_weeks_inside_the_window():
    w = make_world(7, 1000, 120, date(2026, 9, 30))
    assert from_us(w.start_us).date() == date(2026, 6, 3)
    assert from_us(w.end_us).date() == date(2026, 10, 1)
    assert len(w.ios_weeks) == 3 and len(w.carrier_weeks) == 2
    assert not set(w.ios_weeks) & set(w.carrier_weeks)
    for monday in (*w.ios_weeks, *w.carrier_weeks):
        assert from_us(monday).weekday() == 0
        assert w.start_us + 14 * DAY <= monday and monday + 14 * DAY <= w.end_us
    a, b, c = sorted(w.ios_weeks)
    assert (b - a == 7 * DAY and c - b > 14 * DAY) or (c - b == 7 * DAY and b - a > 14 * DAY)
    assert all(from_us(t).weekday() == 3 and t % DAY == 9 * HOUR for t in w.newsletters)
    short = make_world(7, 1000, 42, date(2026, 9, 30))
    assert len(short.ios_weeks) == len(short.carrier_weeks) == 1
    assert short.ios_weeks != short.carrier_weeks
