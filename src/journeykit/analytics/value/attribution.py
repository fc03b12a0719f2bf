"""Multi-touch attribution: who gets credit for conversions and revenue.

Models (``model=``):

============== ================================================================================
first          all credit to the first touch of the path
last           all credit to the last touch
linear         equal credit to every touch
time_decay     credit halves for every ``half_life_days`` between the touch and the path's end
position       40 % first, 40 % last, 20 % shared by the middle (50/50 with two touches)
markov         order-1 Markov chain over the paths; a key's credit of conversions is
               proportional to its removal effect, its credit of revenue to its value removal
               effect (the share of expected conversion value lost without it, each
               conversion worth the mean value of the conversions that follow the same last
               touch, as ChannelAttribution simulates it); both computed exactly from the
               absorbing chain (no simulation)
shapley        Shapley value of the coalition game ``v(S) = conversions of paths whose set of
               keys is a subset of S``; exact, with the simplified formula of Zhao et al.
               (2018): each path's conversion is shared equally by its distinct keys
shapley_rate   Shapley value of ``v(S) = conversion rate of the paths whose set of keys is a
               subset of S`` (counts paths that did not convert too); exact over all 2^n
               coalitions, so at most :data:`MAX_SHAPLEY_KEYS` keys are kept and the rarest
               others are pooled as ``"(other)"``
============== ================================================================================

Every model is linear in the weight of each path, which is how the bootstrap resamples people
cheaply: it redraws person weights instead of rebuilding the paths. Paths read from a table
(:func:`journeykit.analytics.value.paths.paths_from_table`) carry a weight each (how many
journeys took them); there the bootstrap redraws journeys.

Results are DataFrames indexed by ``key`` (a channel, or a touchpoint with ``level=
"touchpoint"``) with ``conversions`` and ``revenue`` credited and their shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import TYPE_CHECKING, Literal

import numpy as np

from journeykit.analytics.value._common import isin_fast
from journeykit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.analytics.value.paths import Paths

Model = Literal[
    "first", "last", "linear", "time_decay", "position", "markov", "shapley", "shapley_rate"
]
MODELS: tuple[str, ...] = (
    "first",
    "last",
    "linear",
    "time_decay",
    "position",
    "markov",
    "shapley",
    "shapley_rate",
)
Level = Literal["channel", "touchpoint"]

#: The most keys ``shapley_rate`` keeps (it enumerates 2^n coalitions).
MAX_SHAPLEY_KEYS = 14
OTHER = "(other)"


@dataclass(frozen=True)
class _Encoded:
    """Paths as arrays: touches in path order, and per-path outcomes."""

    keys: np.ndarray  # labels, index = key code
    touch_path: np.ndarray  # path index of each touch
    touch_key: np.ndarray  # key code of each touch
    position: np.ndarray  # 0-based position in the path
    length: np.ndarray  # touches in the touch's path
    age_days: np.ndarray  # days from the touch to the path's end
    converted: np.ndarray  # per path, 0/1
    revenue: np.ndarray  # per path
    path_person: np.ndarray  # person code of each path
    n_people: int
    weight: np.ndarray  # per path: how many journeys it stands for
    weighted: bool  # read from a table of aggregated paths
    timed: bool  # every touch has a time


def _encode(paths: Paths, level: Level) -> _Encoded:
    import pandas as pd

    if level not in ("channel", "touchpoint"):
        raise InputError(f"level must be 'channel' or 'touchpoint', not {level!r}", field="level")
    touches = paths.touches.sort_values(["path_id", "ts"], kind="stable")
    if touches.empty:
        raise InputError("there are no touches to attribute", field="touches")
    touched = isin_fast(paths.outcomes["path_id"], touches["path_id"])
    weight = paths.weights[touched]
    outcomes = paths.outcomes[touched].reset_index(drop=True)
    path_index = pd.Index(outcomes["path_id"])
    touch_path = path_index.get_indexer(touches["path_id"])
    key_codes, keys = pd.factorize(touches[level].astype(str), sort=True)
    position = touches.groupby(touch_path).cumcount().to_numpy()
    length = np.bincount(touch_path, minlength=len(outcomes))[touch_path]
    end = pd.to_datetime(outcomes["end_ts"]).to_numpy()[touch_path]
    age = (end - pd.to_datetime(touches["ts"]).to_numpy()) / np.timedelta64(1, "s") / 86_400.0
    person_codes, people = pd.factorize(outcomes["person_id"])
    return _Encoded(
        keys=np.asarray(keys, dtype=object),
        touch_path=touch_path,
        touch_key=np.asarray(key_codes),
        position=position,
        length=length,
        age_days=np.maximum(age, 0.0),
        converted=outcomes["converted"].to_numpy(float),
        revenue=outcomes["revenue"].to_numpy(float) * outcomes["converted"].to_numpy(float),
        path_person=np.asarray(person_codes),
        n_people=len(people),
        weight=weight,
        weighted="weight" in paths.outcomes.columns,
        timed=paths.timed,
    )


# ---------------------------------------------------------------------------------------------
# Per-touch weights (each path's weights sum to 1)


def _touch_weights(enc: _Encoded, model: str, half_life_days: float) -> np.ndarray:
    pos, n = enc.position, enc.length
    if model == "first":
        return (pos == 0).astype(float)
    if model == "last":
        return (pos == n - 1).astype(float)
    if model == "linear":
        return 1.0 / n
    if model == "time_decay":
        if not enc.timed:
            raise InputError(
                "time_decay needs the time of each touch; these paths have none",
                field="model",
            )
        if half_life_days <= 0:
            raise InputError("half_life_days must be positive", field="half_life_days")
        raw = np.exp2(-enc.age_days / half_life_days)
        return raw / np.bincount(enc.touch_path, raw)[enc.touch_path]
    if model == "position":
        ends = (pos == 0) | (pos == n - 1)
        middle = np.where(n > 2, 0.2 / np.maximum(n - 2, 1), 0.0)
        edge = np.where(n == 1, 1.0, np.where(n == 2, 0.5, 0.4))
        return np.where(ends, edge, middle)
    if model == "shapley":
        # a path's value is split equally among its distinct keys: first occurrence only
        pair = enc.touch_path.astype(np.int64) * (len(enc.keys) + 1) + enc.touch_key
        _, first = np.unique(pair, return_index=True)
        is_first = np.zeros(len(pair), bool)
        is_first[first] = True
        distinct = np.bincount(enc.touch_path, is_first.astype(float))[enc.touch_path]
        return is_first / distinct
    raise InputError(f"unknown model {model!r}; choose from {', '.join(MODELS)}", field="model")


def _credit_heuristic(
    enc: _Encoded, weights: np.ndarray, path_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    k = len(enc.keys)
    per_touch = weights * path_w[enc.touch_path]
    conv = np.bincount(enc.touch_key, per_touch * enc.converted[enc.touch_path], minlength=k)
    rev = np.bincount(enc.touch_key, per_touch * enc.revenue[enc.touch_path], minlength=k)
    return conv, rev


# ---------------------------------------------------------------------------------------------
# Markov


def _transition_counts(enc: _Encoded, path_w: np.ndarray) -> np.ndarray:
    """Counts between states 0 = start, 1..k = keys, k+1 = conversion, k+2 = null."""
    k = len(enc.keys)
    state = enc.touch_key + 1
    prev = np.where(enc.position == 0, 0, np.roll(state, 1))
    w = path_w[enc.touch_path]
    counts = np.zeros((k + 3, k + 3))
    np.add.at(counts, (prev, state), w)
    last = enc.position == enc.length - 1
    end_state = np.where(enc.converted[enc.touch_path[last]] > 0, k + 1, k + 2)
    np.add.at(counts, (state[last], end_state), w[last])
    return counts


def _conversion_value(counts: np.ndarray, reward: np.ndarray, removed: int | None) -> float:
    """Expected reward from start, with state ``removed`` turned into the null state.

    ``reward[s]`` is what leaving state ``s`` for the conversion is worth, summed over the
    observed conversions from ``s``: their count gives P(conversion), their value the expected
    conversion value (each worth the mean value of the conversions from ``s``).
    """
    k = counts.shape[0] - 3
    totals = counts.sum(axis=1)
    probs = np.divide(counts, totals[:, None], out=np.zeros_like(counts), where=totals[:, None] > 0)
    transient = [s for s in range(k + 1) if s != removed]
    q = probs[np.ix_(transient, transient)]
    r = np.divide(
        reward[transient],
        totals[transient],
        out=np.zeros(len(transient)),
        where=totals[transient] > 0,
    )
    solution = np.linalg.solve(np.eye(len(transient)) - q, r)
    return float(solution[0])


def _removal_effects(enc: _Encoded, path_w: np.ndarray, *, value: bool = False) -> np.ndarray:
    """Each key's removal effect on conversions (or, with ``value``, on conversion value)."""
    counts = _transition_counts(enc, path_w)
    k = len(enc.keys)
    if value:
        last = enc.position == enc.length - 1
        state = enc.touch_key[last] + 1
        reward = np.bincount(
            state, (path_w * enc.revenue)[enc.touch_path[last]], minlength=k + 3
        ).astype(float)
    else:
        reward = counts[:, k + 1]
    base = _conversion_value(counts, reward, None)
    if base <= 0:
        return np.zeros(k)
    return np.array([1.0 - _conversion_value(counts, reward, s + 1) / base for s in range(k)])


def _credit_markov(enc: _Encoded, path_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for value, outcome in ((False, enc.converted), (True, enc.revenue)):
        effects = _removal_effects(enc, path_w, value=value)
        total = effects.sum()
        share = effects / total if total > 0 else np.zeros_like(effects)
        out.append(share * float(path_w @ outcome))
    return out[0], out[1]


# ---------------------------------------------------------------------------------------------
# Shapley over the conversion rate of coalitions


def _pool_keys(enc: _Encoded, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Key codes with all but the ``limit - 1`` most touched keys pooled (and the labels)."""
    k = len(enc.keys)
    if k <= limit:
        return enc.touch_key, enc.keys
    touched = np.bincount(enc.touch_key, minlength=k)
    kept = np.sort(np.argsort(-touched, kind="stable")[: limit - 1])
    remap = np.full(k, limit - 1)
    remap[kept] = np.arange(limit - 1)
    return remap[enc.touch_key], np.append(enc.keys[kept], OTHER)


def _subset_sums(values: np.ndarray, n: int) -> np.ndarray:
    """For every mask S: the sum of ``values[T]`` over the masks T that are subsets of S."""
    out = values.copy()
    for bit in range(n):
        shaped = out.reshape(-1, 2, 1 << bit)
        shaped[:, 1, :] += shaped[:, 0, :]
    return out


def _credit_shapley_rate(
    enc: _Encoded, path_w: np.ndarray, codes: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    masks = np.zeros(len(enc.converted), np.int64)
    np.bitwise_or.at(masks, enc.touch_path, np.left_shift(1, codes).astype(np.int64))
    size = 1 << n
    paths_in = _subset_sums(np.bincount(masks, path_w, minlength=size), n)
    results = []
    for outcome in (enc.converted, enc.revenue):
        value = _subset_sums(np.bincount(masks, path_w * outcome, minlength=size), n)
        v = np.divide(value, paths_in, out=np.zeros(size), where=paths_in > 0)
        all_masks = np.arange(size)
        popcount = np.array([bin(m).count("1") for m in range(size)])
        coef = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
        phi = np.zeros(n)
        for j in range(n):
            without = all_masks[(all_masks >> j) & 1 == 0]
            phi[j] = float(np.sum(coef[popcount[without]] * (v[without | (1 << j)] - v[without])))
        grand = v[size - 1]
        total = float(path_w @ outcome)
        results.append(phi / grand * total if grand > 0 else np.zeros(n))
    return results[0], results[1]


# ---------------------------------------------------------------------------------------------
# Public API


def _credits(
    enc: _Encoded, model: str, half_life_days: float, path_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key labels, conversions, revenue) credited by one model with these path weights."""
    if model == "markov":
        conv, rev = _credit_markov(enc, path_w)
        return enc.keys, conv, rev
    if model == "shapley_rate":
        codes, labels = _pool_keys(enc, MAX_SHAPLEY_KEYS)
        conv, rev = _credit_shapley_rate(enc, path_w, codes, len(labels))
        return labels, conv, rev
    conv, rev = _credit_heuristic(enc, _touch_weights(enc, model, half_life_days), path_w)
    return enc.keys, conv, rev


def attribute(
    paths: Paths,
    model: Model = "linear",
    *,
    level: Level = "channel",
    half_life_days: float = 7.0,
) -> pd.DataFrame:
    """Credit conversions and revenue to channels (or touchpoints) with one model.

    Args:
        paths: the paths (see :mod:`journeykit.analytics.value.paths`).
        model: one of :data:`MODELS` (see the module docstring).
        level: ``"channel"`` or ``"touchpoint"``.
        half_life_days: the half-life of ``time_decay``.

    Returns:
        Indexed by ``key``: ``conversions``, ``revenue`` (credited), ``conversion_share``,
        ``revenue_share``; for ``markov`` also ``removal_effect`` and
        ``value_removal_effect``. Sorted by conversions.

    >>> import pandas as pd
    >>> from journeykit.analytics.value.paths import build_paths
    >>> f = pd.DataFrame({"person_id": ["a", "a", "a"],
    ...     "ts": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
    ...     "channel": ["ads", "email", None], "converted": [False, False, True],
    ...     "revenue": [None, None, 50.0]})
    >>> attribute(build_paths(f), "first")["revenue"].to_dict()
    {'ads': 50.0, 'email': 0.0}
    """
    import pandas as pd

    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose from {', '.join(MODELS)}", field="model")
    enc = _encode(paths, level)
    weights = enc.weight
    labels, conv, rev = _credits(enc, model, half_life_days, weights)
    out = pd.DataFrame(
        {"conversions": conv, "revenue": rev}, index=pd.Index(labels, name="key", dtype=object)
    )
    if model == "markov":
        out["removal_effect"] = _removal_effects(enc, weights)
        out["value_removal_effect"] = _removal_effects(enc, weights, value=True)
    return _with_shares(out).sort_values(["conversions", "revenue"], ascending=False)


def _with_shares(out: pd.DataFrame) -> pd.DataFrame:
    for col, share in (("conversions", "conversion_share"), ("revenue", "revenue_share")):
        total = float(out[col].sum())
        out[share] = out[col] / total if total else 0.0
    return out


def markov_removal_effects(
    paths: Paths,
    *,
    level: Level = "channel",
    metric: Literal["conversions", "revenue"] = "conversions",
) -> pd.Series:
    """The removal effect of each key: the share of conversions (or value) lost without it.

    Computed exactly: the conversion probability is the absorption probability of an order-1
    Markov chain (start, keys, conversion, null), solved as a linear system; removing a key
    sends the transitions into it to the null state. With ``metric="revenue"`` the chain's
    expected conversion value is compared instead, each conversion worth the mean value of the
    observed conversions that follow the same last touch.
    """
    import pandas as pd

    if metric not in ("conversions", "revenue"):
        raise InputError("metric must be 'conversions' or 'revenue'", field="metric")
    enc = _encode(paths, level)
    effects = _removal_effects(enc, enc.weight, value=metric == "revenue")
    name = "removal_effect" if metric == "conversions" else "value_removal_effect"
    return pd.Series(effects, index=pd.Index(enc.keys, name="key"), name=name)


def compare_models(
    paths: Paths,
    *,
    models: tuple[str, ...] | None = None,
    level: Level = "channel",
    metric: Literal["conversions", "revenue"] = "conversions",
    half_life_days: float = 7.0,
) -> pd.DataFrame:
    """All models side by side.

    Args:
        paths: the paths.
        models: the models to run (default: every model of :data:`MODELS` the paths allow;
            ``time_decay`` needs touch times, which a table of paths does not have).
        level: ``"channel"`` or ``"touchpoint"``.
        metric: what to credit, ``"conversions"`` or ``"revenue"``.
        half_life_days: the half-life of ``time_decay``.

    Returns:
        Indexed by ``key``, one column per model with the ``metric`` credited (keys a model
        does not report, e.g. pooled by ``shapley_rate``, are 0), sorted by ``linear`` when
        present.
    """
    import pandas as pd

    if metric not in ("conversions", "revenue"):
        raise InputError("metric must be 'conversions' or 'revenue'", field="metric")
    enc = _encode(paths, level)
    weights = enc.weight
    if models is None:
        models = tuple(m for m in MODELS if enc.timed or m != "time_decay")
    columns = {}
    for m in models:
        if m not in MODELS:
            raise InputError(f"unknown model {m!r}; choose from {', '.join(MODELS)}", field="model")
        labels, conv, rev = _credits(enc, m, half_life_days, weights)
        columns[m] = pd.Series(conv if metric == "conversions" else rev, index=labels)
    table = pd.DataFrame(columns).fillna(0.0)
    table.index.name = "key"
    order = "linear" if "linear" in table.columns else table.columns[0]
    return table.sort_values(order, ascending=False)


def bootstrap_attribution(
    paths: Paths,
    model: Model = "markov",
    *,
    level: Level = "channel",
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
    half_life_days: float = 7.0,
) -> pd.DataFrame:
    """Bootstrap confidence intervals for one model's credits, resampling people.

    Each replicate draws people with replacement (a person's paths stay together) and refits
    the model with those multiplicities as path weights.

    Returns:
        Indexed by ``key``: ``conversions``, ``conversions_low``, ``conversions_high``,
        ``revenue``, ``revenue_low``, ``revenue_high`` (the estimate on all data and the
        percentile interval), and ``conversions_se``, ``revenue_se``.
    """
    import pandas as pd

    if n_boot < 2 or not 0 < ci < 1:
        raise InputError("n_boot must be >= 2 and ci in (0, 1)", field="n_boot")
    enc = _encode(paths, level)
    labels, conv0, rev0 = _credits(enc, model, half_life_days, enc.weight)
    rng = np.random.default_rng(seed)
    conv = np.empty((n_boot, len(labels)))
    rev = np.empty((n_boot, len(labels)))
    uniform = np.full(enc.n_people, 1.0 / enc.n_people)
    journeys = round(float(enc.weight.sum()))
    for i in range(n_boot):
        if enc.weighted:  # aggregated paths: redraw journeys
            path_w = rng.multinomial(journeys, enc.weight / enc.weight.sum()).astype(float)
        else:
            path_w = rng.multinomial(enc.n_people, uniform)[enc.path_person] * enc.weight
        _, conv[i], rev[i] = _credits(enc, model, half_life_days, path_w)
    lo, hi = (1 - ci) / 2 * 100, (1 + ci) / 2 * 100
    out = pd.DataFrame(
        {
            "conversions": conv0,
            "conversions_low": np.percentile(conv, lo, axis=0),
            "conversions_high": np.percentile(conv, hi, axis=0),
            "conversions_se": conv.std(axis=0, ddof=1),
            "revenue": rev0,
            "revenue_low": np.percentile(rev, lo, axis=0),
            "revenue_high": np.percentile(rev, hi, axis=0),
            "revenue_se": rev.std(axis=0, ddof=1),
        },
        index=pd.Index(labels, name="key", dtype=object),
    )
    return out.sort_values("conversions", ascending=False)
