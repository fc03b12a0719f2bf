"""Survey metrics: NPS, CSAT and CES, overall, by group and over time.

Every function here is pure: it takes a pandas DataFrame of survey responses and returns a
DataFrame. The responses frame has one row per answer with the columns

============ ==================================================================
person_id    who answered (optional here)
ts           when (needed only with ``freq``)
survey       ``nps``, ``csat`` or ``ces`` (optional: without it every row counts)
score        the answer: 0-10 for NPS, 1-5 for CSAT, 1-7 for CES
comment      free text (not used here)
touchpoint   the event the answer is about (a group column like any other)
channel      the channel of that touchpoint
============ ==================================================================

plus any group column (stage, segment, persona, ...), named with ``by``.

Scales and directions:

* **NPS** (0-10, "how likely are you to recommend us"): promoters answer 9-10, passives 7-8,
  detractors 0-6. NPS = % promoters - % detractors, from -100 to +100; higher is better.
  Its standard error treats it as a difference of two proportions of one multinomial sample:
  ``var = (p_P + p_D - (p_P - p_D)^2) / n`` (times 100^2).
* **CSAT** (1-5, "how satisfied were you"): CSAT = % of answers that are 4 or 5 ("satisfied"),
  with a Wilson interval; the mean score is reported beside it. Higher is better.
* **CES** (1-7): by default the CES 2.0 question "the company made it easy for me to handle my
  issue", 1 = strongly disagree, 7 = strongly agree, so **higher is better** (less effort).
  Surveys that ask "how much effort did you have to put in" (1 = very little) have the opposite
  direction: pass ``higher_is_better=False`` and the ``pct_easy`` column counts 1-3 instead of 5-7.

Small samples are never hidden and never turned into NaN: every group gets numbers, and a
``low_sample`` column says when ``n`` is below ``min_n`` (30 by default) so a report can grey
them out instead of ranking noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from journeykit.errors import InputError

#: Default smallest sample for a number that is not flagged ``low_sample``.
MIN_SAMPLE = 30

_NPS_COLUMNS = [
    "n",
    "promoters",
    "passives",
    "detractors",
    "pct_promoters",
    "pct_passives",
    "pct_detractors",
    "nps",
    "nps_se",
    "nps_low",
    "nps_high",
    "low_sample",
]
_CSAT_COLUMNS = [
    "n",
    "satisfied",
    "csat",
    "csat_low",
    "csat_high",
    "mean_score",
    "mean_se",
    "low_sample",
]
_CES_COLUMNS = [
    "n",
    "ces",
    "ces_se",
    "ces_low",
    "ces_high",
    "pct_easy",
    "low_sample",
]

NpsCategory = Literal["promoter", "passive", "detractor"]


def nps_category(scores: pd.Series | Sequence[float]) -> pd.Series:
    """Name the NPS category of each 0-10 score.

    Args:
        scores: answers on the 0-10 scale; missing answers stay missing.

    Returns:
        A string Series of ``promoter`` (9-10), ``passive`` (7-8), ``detractor`` (0-6) or NA.

    Raises:
        InputError: a score outside 0-10.

    >>> nps_category([10, 8, 3]).tolist()
    ['promoter', 'passive', 'detractor']
    """
    values = _scores(pd.Series(scores), 0, 10, "nps")
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    out[values >= 9] = "promoter"
    out[(values >= 7) & (values < 9)] = "passive"
    out[values < 7] = "detractor"
    return out


def nps_value(scores: pd.Series | Sequence[float]) -> float:
    """The Net Promoter Score of a list of 0-10 answers (``nan`` when there are none).

    >>> nps_value([10, 9, 8, 7, 6])
    20.0
    """
    values = _scores(pd.Series(scores), 0, 10, "nps").dropna()
    if values.empty:
        return float("nan")
    return float(100.0 * ((values >= 9).mean() - (values < 7).mean()))


def nps(
    responses: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    min_n: int = MIN_SAMPLE,
    confidence: float = 0.95,
    ci: Literal["normal", "bootstrap"] = "normal",
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Net Promoter Score with a confidence interval, overall or per group and period.

    Rows whose ``survey`` is not ``nps`` are ignored (when the column exists); missing scores
    are ignored.

    Args:
        responses: survey responses (see the module docstring).
        by: group column(s), e.g. ``"touchpoint"`` or ``["stage", "channel"]``.
        freq: a period (``"D"``, ``"W"``, ``"M"``, ``"Q"``) to split ``ts`` into; adds a
            ``period`` column holding each period's first day.
        min_n: groups with fewer answers get ``low_sample = True``.
        confidence: the interval's coverage.
        ci: ``normal`` (the difference-of-proportions standard error) or ``bootstrap``
            (multinomial resampling of the group's counts, seeded).
        n_boot: bootstrap draws.
        seed: bootstrap seed.

    Returns:
        One row per group (period first), with the group columns and ``n``, ``promoters``,
        ``passives``, ``detractors``, ``pct_promoters``, ``pct_passives``, ``pct_detractors``,
        ``nps``, ``nps_se``, ``nps_low``, ``nps_high``, ``low_sample``. Percentages and NPS are
        on the 0-100 / -100..100 scale. Empty input gives an empty frame with these columns.

    Raises:
        InputError: a score outside 0-10, or a missing column.

    >>> df = pd.DataFrame({"score": [10, 9, 8, 3]})
    >>> nps(df)[["n", "nps", "low_sample"]].to_dict("records")
    [{'n': 4, 'nps': 25.0, 'low_sample': True}]
    """
    frame, keys = _prepare(responses, "nps", by, freq, 0, 10)
    frame["_p"] = (frame["score"] >= 9).astype("int64")
    frame["_d"] = (frame["score"] < 7).astype("int64")
    counts = _aggregate(
        frame,
        keys,
        {"n": ("score", "size"), "promoters": ("_p", "sum"), "detractors": ("_d", "sum")},
    )
    if counts.empty:
        return _empty(keys, _NPS_COLUMNS)
    n = counts["n"].to_numpy(dtype=float)
    p = counts["promoters"].to_numpy(dtype=float) / n
    d = counts["detractors"].to_numpy(dtype=float) / n
    counts["passives"] = counts["n"] - counts["promoters"] - counts["detractors"]
    counts["pct_promoters"] = 100.0 * p
    counts["pct_passives"] = 100.0 * (1.0 - p - d)
    counts["pct_detractors"] = 100.0 * d
    score = 100.0 * (p - d)
    counts["nps"] = score
    se = 100.0 * np.sqrt(np.clip(p + d - (p - d) ** 2, 0.0, None) / n)
    counts["nps_se"] = se
    if ci == "bootstrap":
        low, high = _bootstrap_nps(counts, confidence, n_boot, seed)
    elif ci == "normal":
        z = _z(confidence)
        low, high = score - z * se, score + z * se
    else:
        raise InputError(f"ci must be 'normal' or 'bootstrap', not {ci!r}", field="ci")
    counts["nps_low"] = np.clip(low, -100.0, 100.0)
    counts["nps_high"] = np.clip(high, -100.0, 100.0)
    counts["low_sample"] = counts["n"] < min_n
    return counts[[*keys, *_NPS_COLUMNS]]


def csat(
    responses: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    min_n: int = MIN_SAMPLE,
    confidence: float = 0.95,
    scale: tuple[int, int] = (1, 5),
    satisfied_from: int = 4,
) -> pd.DataFrame:
    """Customer satisfaction: the share of satisfied answers (4-5 of 1-5) and the mean score.

    Rows whose ``survey`` is not ``csat`` are ignored (when the column exists).

    Args:
        responses: survey responses (see the module docstring).
        by: group column(s).
        freq: a period to split ``ts`` into (adds ``period``).
        min_n: groups with fewer answers get ``low_sample = True``.
        confidence: the intervals' coverage.
        scale: the lowest and highest possible answer.
        satisfied_from: the lowest answer that counts as satisfied.

    Returns:
        One row per group with ``n``, ``satisfied``, ``csat`` (% satisfied, 0-100),
        ``csat_low``/``csat_high`` (Wilson interval), ``mean_score``, ``mean_se``, ``low_sample``.

    Raises:
        InputError: a score outside ``scale``, or a missing column.

    >>> df = pd.DataFrame({"score": [5, 4, 2, 1]})
    >>> csat(df)[["csat", "mean_score"]].to_dict("records")
    [{'csat': 50.0, 'mean_score': 3.0}]
    """
    frame, keys = _prepare(responses, "csat", by, freq, scale[0], scale[1])
    frame["_s"] = (frame["score"] >= satisfied_from).astype("int64")
    stats = _aggregate(
        frame,
        keys,
        {
            "n": ("score", "size"),
            "satisfied": ("_s", "sum"),
            "mean_score": ("score", "mean"),
            "_sd": ("score", "std"),
        },
    )
    if stats.empty:
        return _empty(keys, _CSAT_COLUMNS)
    n = stats["n"].to_numpy(dtype=float)
    share = stats["satisfied"].to_numpy(dtype=float) / n
    low, high = _wilson(share, n, _z(confidence))
    stats["csat"] = 100.0 * share
    stats["csat_low"] = 100.0 * low
    stats["csat_high"] = 100.0 * high
    stats["mean_se"] = _mean_se(stats["_sd"], n)
    stats["low_sample"] = stats["n"] < min_n
    return stats[[*keys, *_CSAT_COLUMNS]]


def ces(
    responses: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    freq: str | None = None,
    min_n: int = MIN_SAMPLE,
    confidence: float = 0.95,
    scale: tuple[int, int] = (1, 7),
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Customer effort score: the mean answer on a 1-7 scale, with a t interval.

    By default the scale is CES 2.0 agreement with "it was easy", so higher is better and
    ``pct_easy`` is the share answering 5-7. With ``higher_is_better=False`` (an "effort"
    question) ``pct_easy`` is the share answering 1-3.

    Args:
        responses: survey responses (see the module docstring).
        by: group column(s).
        freq: a period to split ``ts`` into (adds ``period``).
        min_n: groups with fewer answers get ``low_sample = True``.
        confidence: the interval's coverage.
        scale: the lowest and highest possible answer.
        higher_is_better: the direction of the question (see above).

    Returns:
        One row per group with ``n``, ``ces`` (mean), ``ces_se``, ``ces_low``, ``ces_high``,
        ``pct_easy`` (0-100) and ``low_sample``.

    Raises:
        InputError: a score outside ``scale``, or a missing column.

    >>> df = pd.DataFrame({"score": [7, 6, 2]})
    >>> ces(df)[["ces", "pct_easy"]].round(2).to_dict("records")
    [{'ces': 5.0, 'pct_easy': 66.67}]
    """
    frame, keys = _prepare(responses, "ces", by, freq, scale[0], scale[1])
    middle = (scale[0] + scale[1]) / 2.0
    easy = frame["score"] > middle if higher_is_better else frame["score"] < middle
    frame["_e"] = easy.astype("int64")
    stats = _aggregate(
        frame,
        keys,
        {
            "n": ("score", "size"),
            "ces": ("score", "mean"),
            "_sd": ("score", "std"),
            "_easy": ("_e", "sum"),
        },
    )
    if stats.empty:
        return _empty(keys, _CES_COLUMNS)
    n = stats["n"].to_numpy(dtype=float)
    se = _mean_se(stats["_sd"], n)
    t = _t(confidence, n)
    stats["ces_se"] = se
    stats["ces_low"] = np.clip(stats["ces"] - t * se, scale[0], scale[1])
    stats["ces_high"] = np.clip(stats["ces"] + t * se, scale[0], scale[1])
    stats["pct_easy"] = 100.0 * stats["_easy"].to_numpy(dtype=float) / n
    stats["low_sample"] = stats["n"] < min_n
    return stats[[*keys, *_CES_COLUMNS]]


# --- internals ------------------------------------------------------------------------------


def _keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _scores(values: pd.Series, low: float, high: float, survey: str) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    bad_text = numeric.isna() & values.notna() & (values.astype("string").str.strip() != "")
    bad_range = numeric.notna() & ((numeric < low) | (numeric > high))
    bad = bad_text | bad_range
    if bool(bad.any()):
        where = bad.to_numpy().nonzero()[0][0]
        raise InputError(
            f"{survey} scores must be numbers from {low:g} to {high:g}; got {values.iloc[where]!r}",
            row=int(where),
            field="score",
        )
    return numeric


def _prepare(
    responses: pd.DataFrame,
    survey: str,
    by: str | Sequence[str] | None,
    freq: str | None,
    low: float,
    high: float,
) -> tuple[pd.DataFrame, list[str]]:
    keys = _keys(by)
    needed = ["score", *keys, *(["ts"] if freq else [])]
    missing = [c for c in needed if c not in responses.columns]
    if missing:
        raise InputError(
            f"responses have no column {missing[0]!r} "
            f"(columns: {', '.join(map(str, responses.columns))})",
            field=missing[0],
        )
    frame = responses
    if "survey" in frame.columns:
        frame = frame[frame["survey"].astype("string").str.lower() == survey]
    frame = frame[list(dict.fromkeys(needed))].copy()
    frame["score"] = _scores(frame["score"], low, high, survey)
    frame = frame[frame["score"].notna()]
    if freq:
        ts = pd.to_datetime(frame["ts"])
        frame["period"] = ts.dt.to_period(_period_alias(freq)).dt.start_time
        keys = ["period", *keys]
    return frame, keys


def _period_alias(freq: str) -> str:
    # pandas Period aliases: month and quarter are "M" / "Q" (the offset aliases ME/QE are not)
    return {"ME": "M", "MS": "M", "QE": "Q", "QS": "Q", "YE": "Y", "YS": "Y"}.get(freq, freq)


def _aggregate(
    frame: pd.DataFrame, keys: list[str], spec: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    if not keys:
        whole = frame.assign(_all=0).groupby("_all").agg(**spec)
        return whole.reset_index(drop=True).astype({"n": "int64"})
    grouped = frame.groupby(keys, dropna=False, sort=True, observed=True).agg(**spec)
    return grouped.reset_index().astype({"n": "int64"})


def _empty(keys: list[str], columns: list[str]) -> pd.DataFrame:
    types = {c: ("bool" if c == "low_sample" else "float64") for c in columns}
    types.update(dict.fromkeys(("n", "promoters", "passives", "detractors", "satisfied"), "int64"))
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "object")) for c in [*keys, *columns]})


def _z(confidence: float) -> float:
    from scipy.stats import norm

    if not 0.0 < confidence < 1.0:
        raise InputError(
            f"confidence must lie between 0 and 1, not {confidence}", field="confidence"
        )
    return float(norm.ppf(0.5 + confidence / 2.0))


def _t(confidence: float, n: np.ndarray) -> np.ndarray:
    from scipy.stats import t

    _z(confidence)  # validates
    dof = np.maximum(n - 1.0, 1.0)
    return np.asarray(t.ppf(0.5 + confidence / 2.0, dof), dtype=float)


def _mean_se(sd: pd.Series, n: np.ndarray) -> np.ndarray:
    # one answer has no spread to measure: report 0 (the row is flagged low_sample anyway)
    return np.nan_to_num(sd.to_numpy(dtype=float), nan=0.0) / np.sqrt(n)


def _wilson(share: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    denom = 1.0 + z**2 / n
    centre = (share + z**2 / (2.0 * n)) / denom
    half = z * np.sqrt(share * (1.0 - share) / n + z**2 / (4.0 * n**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _bootstrap_nps(
    counts: pd.DataFrame, confidence: float, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2.0
    lows, highs = [], []
    for n, promoters, detractors in counts[["n", "promoters", "detractors"]].itertuples(
        index=False
    ):
        probs = np.array([promoters, detractors, n - promoters - detractors], dtype=float) / n
        draws = rng.multinomial(int(n), probs, size=n_boot)
        values = 100.0 * (draws[:, 0] - draws[:, 1]) / n
        lows.append(float(np.quantile(values, alpha)))
        highs.append(float(np.quantile(values, 1.0 - alpha)))
    return np.array(lows), np.array(highs)
