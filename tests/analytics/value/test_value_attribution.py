"""Attribution: hand-solved cases per model, Markov against independent computations."""

from __future__ import annotations

import contextlib
import io
from datetime import datetime, timedelta
from itertools import pairwise, permutations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.value import attribution as at
from journeykit.analytics.value.paths import (
    Paths,
    build_paths,
    paths_from_table,
    paths_from_workspace,
)
from journeykit.errors import InputError
from journeykit.ingest import load

T0 = pd.Timestamp("2026-01-01")


def frame(*paths: tuple[str, list[str], bool, float], gap_days: float = 1.0) -> pd.DataFrame:
    """Rows for ``(person, channels, converted, revenue)``; touches ``gap_days`` apart."""
    rows = []
    for person, channels, converted, revenue in paths:
        for i, ch in enumerate(channels):
            rows.append((person, T0 + pd.Timedelta(days=i * gap_days), ch, False, None))
        if converted:
            end = T0 + pd.Timedelta(days=len(channels) * gap_days)
            rows.append((person, end, None, True, revenue))
    return pd.DataFrame(rows, columns=["person_id", "ts", "channel", "converted", "revenue"])


@pytest.fixture
def five() -> Paths:
    """a>b (conv 10), b (conv 5), a>c (no), c>b (conv 7), a (no)."""
    return build_paths(
        frame(
            ("p1", ["a", "b"], True, 10.0),
            ("p2", ["b"], True, 5.0),
            ("p3", ["a", "c"], False, 0.0),
            ("p4", ["c", "b"], True, 7.0),
            ("p5", ["a"], False, 0.0),
        )
    )


def credits(paths: Paths, model: str, col: str = "conversions", **kw) -> dict[str, float]:
    return at.attribute(paths, model, **kw)[col].round(6).to_dict()  # type: ignore[arg-type]


def test_first_last_linear_by_hand(five: Paths) -> None:
    assert credits(five, "first") == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert credits(five, "first", "revenue") == {"a": 10.0, "b": 5.0, "c": 7.0}
    assert credits(five, "last") == {"b": 3.0, "a": 0.0, "c": 0.0}
    assert credits(five, "linear") == {"b": 2.0, "a": 0.5, "c": 0.5}
    assert credits(five, "linear", "revenue") == {"b": 13.5, "a": 5.0, "c": 3.5}


def test_position_based_40_20_40() -> None:
    paths = build_paths(frame(("p", ["a", "b", "c", "d"], True, 100.0), ("q", ["a", "b"], True, 0)))
    got = credits(paths, "position")
    # four touches: 0.4 / 0.1 / 0.1 / 0.4; two touches: 0.5 / 0.5
    assert got == {"a": 0.9, "b": 0.6, "d": 0.4, "c": 0.1}
    assert credits(paths, "position", "revenue") == {"a": 40.0, "b": 10.0, "d": 40.0, "c": 10.0}


def test_time_decay_halves_per_half_life() -> None:
    paths = build_paths(frame(("p", ["a", "b"], True, 30.0), gap_days=7.0))
    # a is 14 days before the conversion, b 7 days: weights 1/4 and 1/2 -> 1/3 and 2/3
    got = credits(paths, "time_decay", "revenue", half_life_days=7.0)
    assert got == {"b": 20.0, "a": 10.0}


def test_markov_removal_effects_by_hand(five: Paths) -> None:
    # P(conv) = .6*.5 + .2 + .2*.5 = .6; without a .3, without b 0, without c .4
    effects = at.markov_removal_effects(five).round(9).to_dict()
    assert effects == {"a": 0.5, "b": 1.0, "c": round(1 / 3, 9)}
    got = at.attribute(five, "markov")
    total = 0.5 + 1.0 + 1 / 3
    assert got.loc["a", "conversions"] == pytest.approx(3 * 0.5 / total)
    assert got.loc["b", "revenue"] == pytest.approx(22 * 1.0 / total)
    assert got["conversion_share"].sum() == pytest.approx(1.0)


def test_markov_self_loops_do_not_change_removal_effects(five: Paths) -> None:
    looped = build_paths(
        frame(
            ("p1", ["a", "a", "b"], True, 10.0),
            ("p2", ["b", "b"], True, 5.0),
            ("p3", ["a", "c"], False, 0.0),
            ("p4", ["c", "b", "b", "b"], True, 7.0),
            ("p5", ["a"], False, 0.0),
        )
    )
    pd.testing.assert_series_equal(
        at.markov_removal_effects(looped), at.markov_removal_effects(five)
    )


def test_shapley_splits_each_conversion_among_distinct_channels() -> None:
    paths = build_paths(
        frame(("p", ["a", "a", "b"], True, 10.0), ("q", ["a", "c", "b"], True, 30.0))
    )
    assert credits(paths, "shapley", "revenue") == {"a": 15.0, "b": 15.0, "c": 10.0}


def _brute_shapley(values: dict[frozenset[str], float], players: list[str]) -> dict[str, float]:
    """Shapley by averaging marginal contributions over every ordering."""
    phi = dict.fromkeys(players, 0.0)
    orders = list(permutations(players))
    for order in orders:
        seen: set[str] = set()
        for p in order:
            before = values[frozenset(seen)]
            seen.add(p)
            phi[p] += values[frozenset(seen)] - before
    return {p: v / len(orders) for p, v in phi.items()}


def _subset_game(paths: list[tuple[set[str], int]], players: list[str], rate: bool):
    from itertools import combinations

    values = {}
    for k in range(len(players) + 1):
        for s in combinations(players, k):
            inside = [c for chans, c in paths if chans <= set(s)]
            if rate:
                values[frozenset(s)] = sum(inside) / len(inside) if inside else 0.0
            else:
                values[frozenset(s)] = float(sum(inside))
    return values


def test_shapley_models_equal_brute_force_over_orderings(five: Paths) -> None:
    players = ["a", "b", "c"]
    plain = [({"a", "b"}, 1), ({"b"}, 1), ({"a", "c"}, 0), ({"b", "c"}, 1), ({"a"}, 0)]
    expected = _brute_shapley(_subset_game(plain, players, rate=False), players)
    got = credits(five, "shapley")
    assert got == pytest.approx(expected)
    rate = _brute_shapley(_subset_game(plain, players, rate=True), players)
    scale = 3 / sum(rate.values())
    got_rate = at.attribute(five, "shapley_rate")["conversions"].to_dict()
    assert got_rate == pytest.approx({k: v * scale for k, v in rate.items()})
    # by hand: v(b)=1, v(ab)=2/3, v(bc)=1, v(abc)=3/5 -> phi_b = 0.8111, credit 4.0556
    assert got_rate["b"] == pytest.approx(0.811111 / 0.6 * 3, rel=1e-5)


def test_shapley_rate_pools_channels_past_the_cap() -> None:
    many = [(f"p{i}", [f"c{i:02d}", "base"], i % 2 == 0, 1.0) for i in range(20)]
    got = at.attribute(build_paths(frame(*many)), "shapley_rate")
    assert len(got) == at.MAX_SHAPLEY_KEYS
    assert at.OTHER in got.index
    assert got["conversions"].sum() == pytest.approx(10.0)


def test_lookback_and_multiple_conversions() -> None:
    rows = pd.DataFrame(
        [
            ("p", T0, "ads", False, None),
            ("p", T0 + pd.Timedelta(days=40), "email", False, None),
            ("p", T0 + pd.Timedelta(days=41), None, True, 20.0),
            ("p", T0 + pd.Timedelta(days=42), "social", False, None),
            ("p", T0 + pd.Timedelta(days=43), None, True, 5.0),
            ("p", T0 + pd.Timedelta(days=44), None, True, 7.0),
            ("q", T0, "search", False, None),
        ],
        columns=["person_id", "ts", "channel", "converted", "revenue"],
    )
    paths = build_paths(rows, lookback_days=30)
    assert paths.touches["channel"].tolist() == ["email", "social", "search"]
    assert paths.outcomes["path_id"].tolist() == ["p#0", "p#1", "p#2", "q#0"]
    assert paths.outcomes["converted"].tolist() == [True, True, True, False]
    assert paths.conversions == 3
    assert paths.unattributed == 1  # the third conversion had no touch in between
    assert credits(paths, "last", "revenue") == {"email": 20.0, "social": 5.0, "search": 0.0}
    unlimited = build_paths(rows, lookback_days=None)
    assert unlimited.touches["channel"].tolist() == ["ads", "email", "social", "search"]


def _simulate_chain(paths: Paths, removed: str | None, n: int, seed: int) -> float:
    """An independent Monte-Carlo estimate of P(conversion) from the empirical transitions."""
    rng = np.random.default_rng(seed)
    trans: dict[str, dict[str, float]] = {}
    for pid, group in paths.touches.groupby("path_id", sort=False):
        seq = ["(start)", *group["channel"]]
        conv = bool(paths.outcomes.set_index("path_id").loc[pid, "converted"])
        seq.append("(conversion)" if conv else "(null)")
        for a, b in pairwise(seq):
            trans.setdefault(a, {}).setdefault(b, 0.0)
            trans[a][b] += 1.0
    hits = 0
    for _ in range(n):
        state = "(start)"
        while state not in ("(conversion)", "(null)"):
            options = trans[state]
            names = list(options)
            probs = np.array([options[k] for k in names])
            state = names[rng.choice(len(names), p=probs / probs.sum())]
            if state == removed:
                state = "(null)"
        hits += state == "(conversion)"
    return hits / n


def _random_paths(seed: int, people: int = 400) -> Paths:
    rng = np.random.default_rng(seed)
    channels = np.array(["ads", "email", "search", "social"])
    lift = {"ads": 0.05, "email": 0.25, "search": 0.15, "social": 0.0}
    rows = []
    for person in range(people):
        chans = list(channels[rng.integers(0, 4, int(rng.integers(1, 5)))])
        p = 0.1 + sum(lift[c] for c in set(chans))
        rows.append((f"u{person}", chans, bool(rng.random() < min(p, 0.9)), 10.0))
    return build_paths(frame(*rows))


def test_markov_equals_an_independent_simulation() -> None:
    paths = _random_paths(11)
    exact = at.markov_removal_effects(paths)
    base = _simulate_chain(paths, None, 12_000, seed=1)
    for channel in ("email", "social"):
        sim = 1 - _simulate_chain(paths, channel, 12_000, seed=2) / base
        assert exact[channel] == pytest.approx(sim, abs=0.03)


def test_markov_matches_the_channelattribution_package() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints an advert on import
        ca = pytest.importorskip("ChannelAttribution")
    paths = _random_paths(12, people=600)
    outcome = paths.outcomes.set_index("path_id")
    joined = paths.touches.groupby("path_id", sort=False)["channel"].agg(" > ".join)
    data = pd.DataFrame(
        {
            "path": joined.to_numpy(),
            "conv": outcome.loc[joined.index, "converted"].astype(int).to_numpy(),
            "value": outcome.loc[joined.index, "revenue"].to_numpy(),
        }
    )
    data["null"] = 1 - data["conv"]
    grouped = data.groupby("path", as_index=False)[["conv", "null", "value"]].sum()
    with contextlib.redirect_stdout(io.StringIO()):
        result = ca.markov_model(
            grouped, "path", "conv", var_value="value", var_null="null", out_more=True,
            verbose=False, flg_pro=False, seed=5, sep=">",
        )  # fmt: skip
    theirs = result["removal_effects"].set_index("channel_name")["removal_effects_conversion"]
    mine = at.markov_removal_effects(paths)
    for channel in mine.index:
        assert mine[channel] == pytest.approx(theirs[channel], abs=0.03)
    credited = result["result"].set_index("channel_name")["total_conversions"]
    got = at.attribute(paths, "markov")["conversions"]
    for channel in got.index:
        assert got[channel] == pytest.approx(credited[channel], rel=0.05, abs=1.0)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=5),
            st.booleans(),
            st.floats(0.0, 100.0, allow_nan=False),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_model_credits_exactly_the_touched_conversions(rows) -> None:
    paths = build_paths(
        frame(*[(f"u{i}", ch, conv, rev) for i, (ch, conv, rev) in enumerate(rows)])
    )
    conversions = sum(conv for _, conv, _ in rows)
    revenue = sum(rev for _, conv, rev in rows if conv)
    table = at.compare_models(paths)
    revenue_table = at.compare_models(paths, metric="revenue")
    for model in at.MODELS:
        if model in ("markov", "shapley_rate") and conversions == 0:
            continue
        assert table[model].sum() == pytest.approx(conversions, abs=1e-6)
        assert revenue_table[model].sum() == pytest.approx(revenue, abs=1e-6)
    effects = at.markov_removal_effects(paths)
    assert ((effects >= -1e-9) & (effects <= 1 + 1e-9)).all()


def test_bootstrap_intervals_cover_the_estimate_and_repeat(five: Paths) -> None:
    paths = _random_paths(13)
    boot = at.bootstrap_attribution(paths, "markov", n_boot=60, seed=4)
    assert (boot["conversions_low"] <= boot["conversions"] + 1e-9).all()
    assert (boot["conversions"] <= boot["conversions_high"] + 1e-9).all()
    assert (boot["conversions_se"] > 0).all()
    again = at.bootstrap_attribution(paths, "markov", n_boot=60, seed=4)
    pd.testing.assert_frame_equal(boot, again)
    linear = at.bootstrap_attribution(paths, "linear", n_boot=60, seed=4)
    assert set(linear.index) == {"ads", "email", "search", "social"}
    with pytest.raises(InputError):
        at.bootstrap_attribution(five, "linear", n_boot=1)


def test_touchpoint_level_and_bad_arguments(five: Paths) -> None:
    rows = frame(("p", ["ads", "email"], True, 10.0))
    rows["detail"] = ["Ad Clicked: sale", "Email Clicked: welcome", None]
    paths = build_paths(rows, touchpoint_col="detail")
    assert credits(paths, "first", level="touchpoint") == {
        "Ad Clicked: sale": 1.0,
        "Email Clicked: welcome": 0.0,
    }
    with pytest.raises(InputError, match="model"):
        at.attribute(five, "nope")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="level"):
        at.attribute(five, "first", level="campaign")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="half_life"):
        at.attribute(five, "time_decay", half_life_days=0)


def test_paths_from_workspace_equal_build_paths(ws) -> None:
    start = datetime(2026, 3, 1, 9)
    spec = [
        ("u1", "Ad Clicked", "ads", 0, {"campaign": "summer_sale"}, None),
        ("u1", "Session Started", "web", 1, {}, None),
        ("u1", "Email Clicked", "email", 50, {"campaign": "welcome"}, None),
        ("u1", "Order Completed", "web", 51, {}, 40.0),
        ("u1", "Social Post Viewed", "social", 52, {}, None),
        ("u1", "Order Completed", "store", 53, {}, 15.0),
        ("u2", "Search Result Clicked", "search", 5, {}, None),
        ("u2", "Blog Post Viewed", "blog", 6, {}, None),
        ("u3", "Order Completed", "store", 7, {}, 9.0),
    ]
    rows = [
        {
            "ts": (start + timedelta(days=d)).isoformat(),
            "event": ev,
            "user_id": user,
            "channel": ch,
            "properties": props,
            "revenue": rev,
        }
        for user, ev, ch, d, props, rev in spec
    ]
    load(ws, rows)
    touches = [
        "Ad Clicked",
        "Social Post Viewed",
        "Blog Post Viewed",
        "Search Result Clicked",
        "Email Clicked",
    ]
    got = paths_from_workspace(
        ws, lookback_days=30, touch_events=touches, conversion_event="Order Completed"
    )
    ids = ws.table("events").select("user_id", "person_id").distinct().to_pandas()
    person = dict(zip(ids["user_id"], ids["person_id"], strict=True))
    long = pd.DataFrame(
        [
            (person[u], start + timedelta(days=d), ch, ev == "Order Completed", rev)
            for u, ev, ch, d, _, rev in spec
            if ev != "Session Started"
        ],
        columns=["person_id", "ts", "channel", "converted", "revenue"],
    )
    expected = build_paths(long, lookback_days=30)
    cols = ["path_id", "person_id", "ts", "channel"]
    pd.testing.assert_frame_equal(got.touches[cols], expected.touches[cols], check_dtype=False)
    pd.testing.assert_frame_equal(got.outcomes, expected.outcomes, check_dtype=False)
    assert sorted(got.touches["touchpoint"]) == [
        "Blog Post Viewed",
        "Email Clicked: welcome",
        "Search Result Clicked",
        "Social Post Viewed",
    ]
    assert got.unattributed == 1  # u3 bought in store with no touch


# ---------------------------------------------------------------------------------------------
# Tables of aggregated paths, and Markov value removal effects


def _table(*rows: tuple[str, int, float, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["path", "conversions", "value", "nulls"])


def test_markov_value_removal_effects_by_hand() -> None:
    # a > b: 1 conversion worth 60; a: 1 conversion worth 40 and 1 null; b: 1 null.
    # start -> a 3/4, b 1/4; a -> b, conv, null 1/3 each; b -> conv, null 1/2 each.
    # Expected value: from b 60/2 = 30, from a 40/3 + 30/3 = 70/3, from start 25.
    # Without a: 30/4 = 7.5 (effect 0.7); without b: 3/4 * 40/3 = 10 (effect 0.6).
    # Conversions: P = 1/2; without a 1/8 (effect 0.75), without b 1/4 (effect 0.5).
    paths = paths_from_table(
        _table(("a > b", 1, 60.0, 0), ("a", 1, 40.0, 1), ("b", 0, 0.0, 1)),
        value_column="value",
        nulls_column="nulls",
    )
    value = at.markov_removal_effects(paths, metric="revenue").round(9).to_dict()
    assert value == {"a": 0.7, "b": 0.6}
    assert at.markov_removal_effects(paths).round(9).to_dict() == {"a": 0.75, "b": 0.5}
    got = at.attribute(paths, "markov")
    assert got.loc["a", "revenue"] == pytest.approx(100 * 0.7 / 1.3)
    assert got.loc["b", "revenue"] == pytest.approx(100 * 0.6 / 1.3)
    assert got.loc["a", "conversions"] == pytest.approx(2 * 0.75 / 1.25)
    assert got.loc["a", "value_removal_effect"] == pytest.approx(0.7)
    # the value a conversion is worth depends on its last touch: a rich "a" converts alone
    rich = paths_from_table(
        _table(("a", 1, 90.0, 1), ("b", 1, 10.0, 1)), value_column="value", nulls_column="nulls"
    )
    split = at.attribute(rich, "markov")
    assert split["conversions"].round(9).to_dict() == {"a": 1.0, "b": 1.0}
    assert split["revenue"].round(9).to_dict() == {"a": 90.0, "b": 10.0}


def test_path_table_reads_counts_values_and_separators() -> None:
    table = pd.DataFrame(
        {
            "journey": ["search|email | direct", "email", "", "direct"],
            "conv": [2, 1, 4, 0],
            "rev": [50.0, 8.0, 40.0, 0.0],
            "lost": [1, 0, 3, 5],
        }
    )
    paths = paths_from_table(
        table,
        path_column="journey",
        conversions_column="conv",
        value_column="rev",
        nulls_column="lost",
        separator="|",
    )
    assert paths.conversions == 7
    assert paths.unattributed == 4  # the empty path
    assert not paths.timed
    first = at.attribute(paths, "first")
    assert first["conversions"].to_dict() == {"search": 2.0, "email": 1.0, "direct": 0.0}
    assert first["revenue"].to_dict() == {"search": 50.0, "email": 8.0, "direct": 0.0}
    assert at.attribute(paths, "last").loc["direct", "revenue"] == 50.0
    assert "time_decay" not in at.compare_models(paths).columns
    with pytest.raises(InputError, match="time_decay needs the time"):
        at.attribute(paths, "time_decay")
    with pytest.raises(InputError, match="row 2: conv must be a count"):
        paths_from_table(table.assign(conv=[1, -1, 0, 0]), path_column="journey",
                            conversions_column="conv")  # fmt: skip
    with pytest.raises(InputError, match="value"):
        paths_from_table(table, path_column="journey", value_column="value")


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4),
            st.booleans(),
            st.sampled_from([0.0, 5.0, 20.0, 70.0]),
        ),
        min_size=2,
        max_size=30,
    )
)
def test_a_path_table_credits_what_its_journeys_credit(rows) -> None:
    """Aggregating journeys into a path table changes no model's credit."""
    journeys = build_paths(
        frame(*[(f"u{i}", ch, conv, rev) for i, (ch, conv, rev) in enumerate(rows)])
    )
    agg: dict[str, list[float]] = {}
    for channels, conv, rev in rows:
        entry = agg.setdefault(" > ".join(channels), [0, 0.0, 0])
        entry[0] += conv
        entry[1] += rev if conv else 0.0
        entry[2] += not conv
    table = _table(*[(p, c, v, n) for p, (c, v, n) in agg.items()])
    aggregated = paths_from_table(table, value_column="value", nulls_column="nulls")
    if sum(conv for _, conv, _ in rows) == 0:
        return
    for metric in ("conversions", "revenue"):
        models = tuple(m for m in at.MODELS if m != "time_decay")
        mine = at.compare_models(aggregated, metric=metric, models=models).sort_index()
        theirs = at.compare_models(journeys, metric=metric, models=models).sort_index()
        pd.testing.assert_frame_equal(mine, theirs, atol=1e-6, check_exact=False)


def test_markov_value_attribution_matches_the_channelattribution_package() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints an advert on import
        ca = pytest.importorskip("ChannelAttribution")
    rng = np.random.default_rng(21)
    channels = ["ads", "email", "search", "social"]
    # the last touch sets what a conversion is worth, as ChannelAttribution models it
    worth = {"ads": 30.0, "email": 120.0, "search": 60.0, "social": 15.0}
    lift = {"ads": 0.05, "email": 0.25, "search": 0.15, "social": 0.0}
    agg: dict[str, list[float]] = {}
    for _ in range(3000):
        chans = list(rng.choice(channels, int(rng.integers(1, 5))))
        converted = rng.random() < min(0.1 + sum(lift[c] for c in set(chans)), 0.9)
        entry = agg.setdefault(" > ".join(chans), [0, 0.0, 0])
        entry[0] += converted
        entry[1] += worth[chans[-1]] if converted else 0.0
        entry[2] += not converted
    table = _table(*[(p, c, v, n) for p, (c, v, n) in agg.items()])
    with contextlib.redirect_stdout(io.StringIO()):
        result = ca.markov_model(
            table, "path", "conversions", var_value="value", var_null="nulls", out_more=True,
            verbose=False, flg_pro=False, seed=3, sep=">",
        )  # fmt: skip
    paths = paths_from_table(table, value_column="value", nulls_column="nulls")
    theirs = result["removal_effects"].set_index("channel_name")
    mine = at.markov_removal_effects(paths, metric="revenue")
    for channel in channels:
        assert mine[channel] == pytest.approx(
            theirs.loc[channel, "removal_effects_conversion_value"], abs=0.02
        )
    credited = result["result"].set_index("channel_name")["total_conversion_value"]
    got = at.attribute(paths, "markov")
    for channel in channels:
        assert got.loc[channel, "revenue"] == pytest.approx(credited[channel], rel=0.03)
    # value credit differs from conversion credit: e-mail conversions are worth more
    share = got["revenue_share"] - got["conversion_share"]
    assert share["email"] > 0.02 and share["social"] < 0


def test_bootstrap_on_a_path_table_redraws_journeys() -> None:
    paths = paths_from_table(
        _table(("a > b", 30, 600.0, 20), ("b", 10, 100.0, 40), ("a", 5, 50.0, 60)),
        value_column="value",
        nulls_column="nulls",
    )
    boot = at.bootstrap_attribution(paths, "linear", n_boot=80, seed=2)
    assert boot["conversions"].sum() == pytest.approx(45.0)
    assert (boot["conversions_low"] < boot["conversions"]).all()
    assert (boot["conversions"] < boot["conversions_high"]).all()


def test_paths_from_workspace_read_channel_and_value_from_properties(ws) -> None:
    start = datetime(2026, 3, 1, 9)
    rows = [
        ("u1", "ad_click", {"utm_source": "google"}, 0, {}),
        ("u1", "newsletter_click", {"utm_source": "newsletter"}, 1, {}),
        ("u1", "purchase", {"amount": "45.5"}, 2, {}),
        ("u2", "ad_click", {"utm_source": "meta"}, 0, {}),
        ("u2", "checkout", {"amount": 10}, 1, {}),
        ("u2", "purchase", {"amount": "n/a"}, 3, {}),
    ]
    load(
        ws,
        [
            {
                "ts": (start + timedelta(days=d)).isoformat(),
                "event": ev,
                "user_id": u,
                "channel": "web",
                "properties": props,
            }
            for u, ev, props, d, _ in rows
        ],
    )
    paths = paths_from_workspace(
        ws,
        touch_events=["ad_click", "newsletter_click"],
        conversion_event=["purchase"],
        channel_field="properties.utm_source",
        revenue_field="properties.amount",
    )
    assert sorted(paths.touches["channel"]) == ["google", "meta", "newsletter"]
    assert sorted(paths.outcomes["revenue"]) == [0.0, 45.5]  # "n/a" is no number
    assert credits(paths, "last", "revenue") == {"newsletter": 45.5, "meta": 0.0, "google": 0.0}
    with pytest.raises(InputError, match="not a field"):
        paths_from_workspace(ws, touch_events=["ad_click"], conversion_event="purchase",
                             channel_field="utm_source")  # fmt: skip
