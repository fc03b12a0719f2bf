"""Key driver analysis: which touchpoints and experiences go with reaching a goal.

A binary goal (converted, repeat purchase, promoter, retained) is fitted with a logistic
regression (statsmodels): odds ratios with 95 % confidence intervals, and relative importance
as the share of the absolute standardized coefficients (coefficient times the feature's
standard deviation). A continuous goal (CSAT, revenue) is fitted with OLS, and its relative
importance is the general dominance of each feature: its Shapley share of R², computed exactly
from the correlation matrix (up to :data:`MAX_DOMINANCE_FEATURES` features; standardized
coefficients beyond that).

These are associations in observational data, not causal effects; the summary says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from math import factorial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from journeykit.analytics.value._common import data_end, require_columns, to_datetime
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd

    from journeykit.analytics.vocabulary import Names
    from journeykit.store import Workspace

MAX_DOMINANCE_FEATURES = 12
#: A log-odds standard error beyond this means the feature separates the goal (an odds ratio
#: interval wider than a factor of e^(2 * 1.96 * 8), about 10^13): it is left out of the fit.
MAX_LOG_ODDS_SE = 8.0

#: Goal columns of :func:`driver_features_from_workspace`.
GOALS: tuple[str, ...] = (
    "converted",
    "repeat_purchase",
    "retained",
    "promoter",
    "nps",
    "csat",
    "ces",
    "conversions",
    "revenue",
)


@dataclass(frozen=True)
class DriverAnalysis:
    """The drivers of one goal.

    Attributes:
        goal: the goal column.
        kind: ``"logistic"`` (binary goal) or ``"ols"`` (continuous goal).
        n: the rows fitted.
        base_rate: the share reaching the goal (logistic) or its mean (OLS).
        fit: McFadden's pseudo-R² (logistic) or R² (OLS).
        drivers: indexed by ``feature``: ``label``, ``coef``, ``ci_low``, ``ci_high`` (of the
            coefficient), ``odds_ratio``, ``or_low``, ``or_high`` (logistic only; NaN for OLS),
            ``p_value``, ``std_coef``, ``importance`` (shares summing to 1), ``direction``
            (``"positive"``, ``"negative"`` or ``"unclear"`` when the CI spans zero); sorted by
            importance.
        dropped: features left out: constant, redundant (a linear combination of others) or,
            for a 0/1 goal, steps of the goal (with none of the feature, or with some, the goal
            never varies) and features that with others separate the goal (no finite odds
            ratio).
        summary: a plain-language summary.
    """

    goal: str
    kind: Literal["logistic", "ols"]
    n: int
    base_rate: float
    fit: float
    drivers: pd.DataFrame
    dropped: tuple[str, ...]
    summary: str


def _design(
    data: pd.DataFrame, goal: str, features: Sequence[str] | None
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    require_columns(data, (goal,), "key_drivers")
    if features is None:
        features = [
            c
            for c in data.columns
            if c != goal and (data[c].dtype == bool or np.issubdtype(data[c].dtype, np.number))
        ]
    require_columns(data, features, "key_drivers")
    frame = data[[*features, goal]].dropna()
    x = frame[list(features)].astype(float)
    dropped = [c for c in x.columns if x[c].nunique() < 2]
    x = x.drop(columns=dropped)
    redundant = _redundant(x)
    dropped += redundant
    x = x.drop(columns=redundant)
    if x.shape[1] == 0:
        raise InputError("no feature varies across the rows; nothing to explain", field=goal)
    return x, frame[goal].astype(float).to_numpy(), dropped


def _redundant(x: pd.DataFrame) -> list[str]:
    """Columns that are a linear combination of the ones before them (with the intercept).

    Such a column carries nothing the others do not, and leaves the fit singular: for
    example a flag that equals another one on every row.
    """
    kept: list[np.ndarray] = [np.ones(len(x))]
    out = []
    for col in x.columns:
        candidate = np.column_stack([*kept, x[col].to_numpy(float)])
        if np.linalg.matrix_rank(candidate) < candidate.shape[1]:
            out.append(col)
        else:
            kept.append(x[col].to_numpy(float))
    return out


def _steps_of_the_goal(x: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Features that separate a 0/1 goal: with none of it (0), or with some, the goal never varies.

    Such a feature is a step on the way to the goal (nobody gets a card without applying for
    one) or its consequence, not a driver of it; in a logistic fit it has no finite odds ratio
    and blurs every other feature's interval, so it is left out and reported as dropped.
    """
    out = []
    for col in x.columns:
        values = x[col].to_numpy(float)
        if values.min() < 0:
            continue
        for side in (values == 0, values > 0):
            goal = y[side]
            if len(goal) and (goal.min() == goal.max()):
                out.append(col)
                break
    return out


def _fit_logit(x: pd.DataFrame, y: np.ndarray) -> tuple[Any, list[str]]:
    """A logistic fit; while a combination of features separates the goal (a coefficient
    with an unbounded interval), the feature with the widest interval is left out."""
    import statsmodels.api as sm

    dropped: list[str] = []
    while True:
        result = sm.Logit(y, sm.add_constant(x, has_constant="add")).fit(disp=0, maxiter=200)
        se = result.bse.drop("const")
        if x.shape[1] <= 1 or (np.isfinite(se) & (se < MAX_LOG_ODDS_SE)).all():
            return result, dropped
        worst = str(se.fillna(np.inf).idxmax())
        dropped.append(worst)
        x = x.drop(columns=[worst])


def key_drivers(
    data: pd.DataFrame,
    goal: str,
    *,
    features: Sequence[str] | None = None,
    kind: Literal["auto", "logistic", "ols"] = "auto",
    labels: Mapping[str, str] | None = None,
) -> DriverAnalysis:
    """Rank the drivers of ``goal`` among ``features``.

    Args:
        data: one row per person; numeric or boolean feature columns and the goal column.
            Rows with a missing value in a used column are left out.
        goal: the goal column (0/1 or boolean for a logistic fit; numeric for OLS).
        features: the feature columns (default: every numeric or boolean column but the goal).
        kind: the model; ``"auto"`` picks logistic for a 0/1 goal and OLS otherwise.
        labels: readable feature names for the summary (default: ``data.attrs["labels"]``,
            which :func:`driver_features_from_workspace` fills, else the column names).

    Returns:
        :class:`DriverAnalysis`.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"email": [1, 1, 1, 0, 0, 0, 1, 0] * 10,
    ...                   "goal": [1, 1, 0, 0, 0, 1, 1, 0] * 10})
    >>> round(key_drivers(d, "goal").drivers.loc["email", "odds_ratio"], 2)
    np.float64(9.0)
    """
    import statsmodels.api as sm

    x, y, dropped = _design(data, goal, features)
    binary = set(np.unique(y)) <= {0.0, 1.0}
    if kind == "auto":
        kind = "logistic" if binary else "ols"
    if kind == "logistic" and not binary:
        raise InputError(f"the goal {goal!r} is not 0/1; use kind='ols'", field=goal)
    if kind == "logistic" and len(np.unique(y)) < 2:
        raise InputError(f"every row has the same goal value {y[0]:g}", field=goal)
    if kind == "logistic":
        steps = _steps_of_the_goal(x, y)
        dropped = [*dropped, *steps]
        x = x.drop(columns=steps)
        if x.shape[1] == 0:
            raise InputError(
                "every feature is a step of the goal (it never happens without it, or "
                "always leads to it); nothing is left to explain",
                field=goal,
            )
    exog = sm.add_constant(x, has_constant="add")
    with warnings.catch_warnings():
        # near-separation is reported through wide intervals, not as a failure
        warnings.simplefilter("ignore")
        if kind == "logistic":
            result, separating = _fit_logit(x, y)
            dropped = [*dropped, *separating]
            x = x.drop(columns=separating)
            fit = float(result.prsquared)
        else:
            result = sm.OLS(y, exog).fit()
            fit = float(result.rsquared)
    params = result.params.drop("const")
    conf = result.conf_int(0.05).drop("const")
    sd = x.std(ddof=0)
    std_coef = params * sd if kind == "logistic" else params * sd / float(np.std(y))
    if kind == "ols" and x.shape[1] <= MAX_DOMINANCE_FEATURES:
        importance = _dominance(x.to_numpy(), y)
    else:
        importance = np.abs(std_coef.to_numpy())
    total = importance.sum()
    table = conf.copy()
    table.columns = ["ci_low", "ci_high"]
    table.insert(0, "coef", params)
    logit = kind == "logistic"
    with np.errstate(over="ignore"):  # a separated feature has an unbounded interval: inf
        table["odds_ratio"] = np.exp(params) if logit else np.nan
        table["or_low"] = np.exp(table["ci_low"]) if logit else np.nan
        table["or_high"] = np.exp(table["ci_high"]) if logit else np.nan
    table["p_value"] = result.pvalues.drop("const")
    table["std_coef"] = std_coef
    table["importance"] = importance / total if total > 0 else 0.0
    table["direction"] = np.where(
        table["ci_low"] > 0, "positive", np.where(table["ci_high"] < 0, "negative", "unclear")
    )
    names = {**data.attrs.get("labels", {}), **(labels or {})}
    table.insert(0, "label", [names.get(f, f.replace("_", " ")) for f in table.index])
    table.index.name = "feature"
    table = table.sort_values("importance", ascending=False)
    base = float(y.mean())
    return DriverAnalysis(
        goal=goal,
        kind=kind,
        n=len(y),
        base_rate=base,
        fit=fit,
        drivers=table,
        dropped=tuple(dropped),
        summary=_summary(goal, kind, len(y), base, table),
    )


def _r2(corr: np.ndarray, cols: tuple[int, ...]) -> float:
    """R² of the goal (last index) on ``cols`` from the correlation matrix."""
    if not cols:
        return 0.0
    idx = list(cols)
    rxx = corr[np.ix_(idx, idx)]
    rxy = corr[idx, -1]
    return float(rxy @ np.linalg.lstsq(rxx, rxy, rcond=None)[0])


def _dominance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """General dominance: each feature's Shapley share of R² (sums to the full R²)."""
    p = x.shape[1]
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    r2 = {s: _r2(corr, s) for k in range(p + 1) for s in combinations(range(p), k)}
    out = np.zeros(p)
    for j in range(p):
        for subset, value in r2.items():
            if j in subset:
                continue
            weight = factorial(len(subset)) * factorial(p - len(subset) - 1) / factorial(p)
            with_j = tuple(sorted((*subset, j)))
            out[j] += weight * (r2[with_j] - value)
    return np.maximum(out, 0.0)


def _summary(goal: str, kind: str, n: int, base: float, table: pd.DataFrame) -> str:
    what = goal.replace("_", " ")
    if kind == "logistic":
        head = f"Of {n:,} people, {base:.1%} reached '{what}'."
    else:
        head = f"Across {n:,} people, '{what}' averages {base:,.2f}."

    def effect(row: pd.Series) -> str:
        if kind == "logistic":
            return (
                f"{row['label']} (odds x{row['odds_ratio']:.2f}, "
                f"95% CI {row['or_low']:.2f}-{row['or_high']:.2f})"
            )
        return (
            f"{row['label']} ({row['coef']:+.3g} per unit, "
            f"95% CI {row['ci_low']:+.3g} to {row['ci_high']:+.3g})"
        )

    parts = [head]
    for direction, title in (("positive", "Raises it"), ("negative", "Lowers it")):
        rows = table[table["direction"] == direction]
        if len(rows):
            parts.append(f"{title}: " + "; ".join(effect(r) for _, r in rows.iterrows()) + ".")
    unclear = table[table["direction"] == "unclear"]
    if len(unclear):
        parts.append("No clear effect: " + ", ".join(unclear["label"]) + ".")
    top = table.index[0]
    parts.append(
        f"Most important: {table.loc[top, 'label']} ({table.loc[top, 'importance']:.0%} of the "
        "explained effect). These are associations, not proof of cause."
    )
    return " ".join(parts)


def driver_correlations(
    data: pd.DataFrame, goal: str, *, features: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pearson and Spearman correlation of each feature with the goal.

    Returns:
        Indexed by ``feature``: ``pearson``, ``pearson_p``, ``spearman``, ``spearman_p``,
        ``n``; sorted by absolute Pearson correlation.
    """
    import pandas as pd
    from scipy import stats

    x, y, _ = _design(data, goal, features)
    rows = []
    for col in x.columns:
        pr = stats.pearsonr(x[col].to_numpy(), y)
        sr = stats.spearmanr(x[col].to_numpy(), y)
        rows.append(
            (col, float(pr.statistic), float(pr.pvalue), float(sr.statistic), float(sr.pvalue))
        )
    out = pd.DataFrame(
        rows, columns=["feature", "pearson", "pearson_p", "spearman", "spearman_p"]
    ).set_index("feature")
    out["n"] = len(y)
    return out.reindex(out["pearson"].abs().sort_values(ascending=False).index)


def driver_features_from_workspace(
    ws: Workspace,
    *,
    end: datetime | str | None = None,
    start: datetime | str | None = None,
    names: Names | None = None,
    flags: Mapping[str, str] | None = None,
    long_wait_seconds: float | None = None,
    recent_days: float = 30.0,
) -> pd.DataFrame:
    """Per-person driver flags and goals from a workspace (aggregated in the engine).

    Every feature is built from what the journey spec says the events mean, so the same
    analysis runs on any workspace.

    Args:
        ws: the workspace.
        end, start: the range of events used (default: all).
        names: what the events mean (default: the workspace's journey spec).
        flags: extra 0/1 features, ``{name: filter}``: 1 for the people with an event the
            filter keeps (the filter language of :mod:`journeykit.analytics.filters`, e.g.
            ``{"welcome": 'event == "newsletter_sent" and properties.campaign == "welcome"'}``).
        long_wait_seconds: a contact wait at least this long is long (default: the spec's
            ``settings.long_wait_seconds``).
        recent_days: ``retained`` means active in the last ``recent_days`` before ``end``.

    Returns:
        Indexed by ``person_id``. Features (0/1 unless noted): ``tp_<touchpoint>`` (had the
        touchpoint; conversion touchpoints left out), ``used_<channel>`` (for the most used
        channels), ``multichannel`` (two or more of them), ``first_touch_<channel>`` (the
        first marketing touch came from it), ``contacts`` (count), ``long_wait``,
        ``messages`` (count received), then the ``flags``. Goals: ``converted``,
        ``repeat_purchase`` (two or more conversions), ``retained`` (active recently; converted
        people only, else NaN), ``promoter`` (last NPS >= 9; NaN without one), ``nps``,
        ``csat``, ``ces``, ``conversions``, ``revenue``.

        ``attrs["labels"]`` holds a readable label per feature, ``attrs["features"]`` the
        feature columns, and ``attrs["late"]`` the touchpoint features of the conversion's
        stage and later (leave them out when the goal is converting at all: they follow it).

    Raises:
        NoSpec: ``names`` is not given and the workspace has no journey spec.
    """
    import pandas as pd

    from journeykit.analytics import vocabulary as vocab
    from journeykit.analytics.value.features import TOP_CHANNELS, person_features, slug

    names = names if names is not None else vocab.resolve(ws)
    end_dt = to_datetime(end) if end is not None else data_end(ws)
    f = person_features(ws, end=end_dt, start=start, names=names)
    wait = long_wait_seconds if long_wait_seconds is not None else names.long_wait_seconds
    recent = f["last_active"] >= pd.Timestamp(end_dt) - pd.Timedelta(days=recent_days)
    columns: dict[str, pd.Series] = {}
    labels: dict[str, str] = {}
    late: list[str] = []
    conv_stage = _conversion_stage(names)
    spec_tps = names.spec.all_touchpoints() if names.spec is not None else ()
    for col, tp in zip(f.attrs["touchpoints"], spec_tps, strict=True):
        if set(tp.events) <= set(names.conversions):
            continue
        columns[col] = (f[col] > 0).astype(int)
        labels[col] = f"had {tp.name}"
        if conv_stage is not None and names.stages.index(tp.stage or "") >= conv_stage:
            late.append(col)
    used = []
    for col, channel in f.attrs["channels"].items():
        name = f"used_{col.removeprefix('ch_')}"
        columns[name] = (f[col] > 0).astype(int)
        labels[name] = f"used {channel}"
        used.append(name)
    if len(used) >= 2:
        columns["multichannel"] = (sum(columns[u] for u in used) >= 2).astype(int)
        labels["multichannel"] = "used two or more channels"
    counts = f["first_touch_channel"].dropna().astype(str).value_counts()
    for channel in sorted(counts.index, key=lambda c: (-counts[c], c))[:TOP_CHANNELS]:
        name = f"first_touch_{slug(channel)}"
        columns[name] = (f["first_touch_channel"] == channel).astype(int)
        labels[name] = f"came through {channel}"
    if names.contacts:
        columns["contacts"] = f["contacts"].astype(float)
        labels["contacts"] = "contacts with support"
        columns["long_wait"] = (f["max_wait_seconds"].fillna(0.0) >= wait).astype(int)
        labels["long_wait"] = "had a long wait for support"
    if names.messages:
        columns["messages"] = f["messages"].astype(float)
        labels["messages"] = "messages received"
    for name, text in (flags or {}).items():
        from journeykit.analytics.filters import person_table

        members = person_table(ws, text).to_pandas()["person_id"]
        columns[name] = f.index.isin(members).astype(int)
        labels.setdefault(name, name.replace("_", " "))
    features = list(columns)
    bought = f["conversions"] > 0
    goals = {
        "converted": bought.astype(int),
        "repeat_purchase": (f["conversions"] > 1).astype(int),
        "retained": recent.astype(float).where(bought),
        "promoter": (f["nps_last"] >= 9).astype(float).where(f["nps_last"].notna()),
        "nps": f["nps_last"].astype(float),
        "csat": f["csat_mean"].astype(float),
        "ces": f["ces_mean"].astype(float),
        "conversions": f["conversions"].astype(float),
        "revenue": f["revenue"].astype(float),
    }
    out = pd.DataFrame({**columns, **goals}, index=f.index)
    out.attrs.update(labels=labels, features=features, late=late)
    return out


def _conversion_stage(names: Names) -> int | None:
    """The index of the first stage holding a conversion event (``None`` when none does)."""
    found = [
        names.stages.index(names.stage_of_event[e])
        for e in names.conversions
        if e in names.stage_of_event and names.stage_of_event[e] in names.stages
    ]
    return min(found) if found else None
