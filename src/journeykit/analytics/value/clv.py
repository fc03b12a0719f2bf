"""Customer lifetime value: historical, and predicted with BG/NBD plus Gamma-Gamma.

The purchase model is the BG/NBD of Fader, Hardie & Lee (2005), "Counting your customers the
easy way"; the spend model is the Gamma-Gamma of Fader & Hardie (2013), "The Gamma-Gamma model
of monetary value". Both are fitted here by maximum likelihood with ``scipy.optimize`` on their
closed-form log-likelihoods. They are written out rather than taken from a package because
``lifetimes`` is unmaintained (it fails on pandas 3 and on setuptools>=81), ``btyd`` stopped at a
2022 beta, and ``pymc-marketing`` brings PyMC and a sampler for what is a four-parameter fit.

Both models read an RFM summary, one row per person, indexed by ``person_id``:

================ =============================================================================
column           meaning
================ =============================================================================
frequency        repeat purchases: purchase days after the first one (orders on one day count once)
recency          time from the first purchase to the last one
T                time from the first purchase to the end of the observation
monetary_value   mean revenue of the repeat purchase days (0 when frequency is 0)
================ =============================================================================

Times are in days by default (weeks with ``unit="W"``); horizons and periods given to the
predictions are in the same unit as the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from journeykit.analytics.value._common import require_columns, to_datetime
from journeykit.analytics.value.rfm import (
    SUMMARY_COLUMNS,
    check_summary,
    rfm_summary,
    rfm_summary_from_workspace,
)
from journeykit.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd


__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "clv_by_segment",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "historical_clv",
    "predict_clv",
    "predict_clv_by_segment",
    "rfm_summary",
    "rfm_summary_from_workspace",
]


# ---------------------------------------------------------------------------------------------
# BG/NBD


@dataclass(frozen=True)
class BetaGeoModel:
    """A fitted BG/NBD purchase model.

    Attributes:
        r, alpha: the gamma heterogeneity of purchase rates (shape, scale).
        a, b: the beta heterogeneity of the drop-out probability after each purchase.
        log_likelihood: the maximised log-likelihood.
        n: the number of people it was fitted on.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int

    def expected_purchases(
        self, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` time units for people with this history.

        Equation (10) of Fader, Hardie & Lee (2005).
        """
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, tx, big_t = (np.asarray(v, float) for v in (frequency, recency, T))
        z = t / (alpha + big_t + t)
        head = (a + b + x - 1.0) / (a - 1.0)
        body = 1.0 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1.0, z
        )
        return head * body / self._alive_denominator(x, tx, big_t)

    def probability_alive(
        self, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Probability that a person with this history has not dropped out (FHL 2005, eq. 11)."""
        x, tx, big_t = (np.asarray(v, float) for v in (frequency, recency, T))
        return 1.0 / self._alive_denominator(x, tx, big_t)

    def expected_purchases_new(self, t: float) -> float:
        """Expected purchases in ``(0, t]`` for a person just acquired (FHL 2005, eq. 9)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        return float(
            (a + b - 1.0)
            / (a - 1.0)
            * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, t / (alpha + t)))
        )

    def _alive_denominator(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            term = (a / (b + x - 1.0)) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
        return 1.0 + np.where(x > 0, term, 0.0)


def _bgnbd_loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-row log-likelihood of BG/NBD (FHL 2005, eq. 6), written to stay finite."""
    from scipy.special import gammaln

    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300)) - (r + x) * np.log(alpha + tx)
    a4 = np.where(x > 0, a4, -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(summary: pd.DataFrame, *, penalizer: float = 0.0) -> BetaGeoModel:
    """Fit BG/NBD to an RFM summary by maximum likelihood.

    People with the same (frequency, recency, T) are fitted once with a weight, so the fit is
    as fast on a million people as on the distinct histories among them.

    Args:
        summary: the RFM summary (``frequency``, ``recency``, ``T``).
        penalizer: an L2 penalty on the four parameters (0 gives the plain MLE); a small value
            such as 0.001 keeps fits on tiny or degenerate data finite.

    Returns:
        The fitted :class:`BetaGeoModel`.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 5, 3], "recency": [0, 10, 30, 0, 50, 20],
    ...                   "T": [60, 60, 60, 40, 60, 30]})
    >>> round(fit_bgnbd(s, penalizer=0.01).r, 2) > 0
    True
    """
    check_summary(summary)
    x, tx, t, w = _weighted_rows(summary, ("frequency", "recency", "T"))

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        ll = float(np.dot(w, _bgnbd_loglik(params, x, tx, t)))
        return -ll / w.sum() + penalizer * float(np.sum(params**2))

    best = _minimize(objective, np.zeros(4))
    r, alpha, a, b = np.exp(best)
    ll = float(np.dot(w, _bgnbd_loglik(np.exp(best), x, tx, t)))
    return BetaGeoModel(float(r), float(alpha), float(a), float(b), ll, int(w.sum()))


def _weighted_rows(summary: pd.DataFrame, columns: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    grouped = summary.groupby(list(columns), sort=False).size().reset_index(name="_w")
    return (*(grouped[c].to_numpy(float) for c in columns), grouped["_w"].to_numpy(float))


def _minimize(objective: Callable[[np.ndarray], float], start: np.ndarray) -> np.ndarray:
    """Nelder-Mead from ``start`` then a quasi-Newton polish (on log parameters).

    Parameters that overflow the likelihood get a huge finite value rather than inf or NaN,
    so the optimisers step back instead of stalling (or warning) on them.
    """
    from scipy.optimize import minimize

    def safe(x: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = objective(x)
        return value if np.isfinite(value) else 1e100

    first = minimize(
        safe, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12}
    )
    with np.errstate(all="ignore"):
        second = minimize(safe, first.x, method="L-BFGS-B")
    best = second.x if second.fun <= first.fun else first.x
    if not np.all(np.isfinite(best)):
        raise InputError("the model did not converge on this data", field="frequency")
    return np.asarray(best, float)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma


@dataclass(frozen=True)
class GammaGammaModel:
    """A fitted Gamma-Gamma spend model.

    Attributes:
        p: the shape of each transaction's gamma spend.
        q, gamma: the gamma heterogeneity of people's spend scale (shape, scale).
        log_likelihood: the maximised log-likelihood.
        n: the number of people it was fitted on (people with repeat purchases).
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n: int

    @property
    def population_mean(self) -> float:
        """The mean spend per purchase across people, ``p * gamma / (q - 1)``."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1 else float("nan")

    def expected_average_spend(
        self, frequency: np.ndarray, monetary_value: np.ndarray
    ) -> np.ndarray:
        """Expected spend per purchase given ``frequency`` repeat purchases of mean ``monetary_value``.

        ``(gamma + x m) p / (p x + q - 1)``: a weighted mean of the population mean and the
        person's own mean; people without repeat purchases get the population mean.
        """
        x = np.asarray(frequency, float)
        m = np.asarray(monetary_value, float)
        p, q, g = self.p, self.q, self.gamma
        return (g + x * m) * p / (p * x + q - 1.0)


def _gg_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    p, q, g = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(g)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + g)
    )


def fit_gamma_gamma(summary: pd.DataFrame, *, penalizer: float = 0.0) -> GammaGammaModel:
    """Fit the Gamma-Gamma spend model on the people with repeat purchases.

    Args:
        summary: the RFM summary (``frequency`` and ``monetary_value``).
        penalizer: an L2 penalty on the three parameters (0 gives the plain MLE).

    Returns:
        The fitted :class:`GammaGammaModel`.
    """
    require_columns(summary, ("frequency", "monetary_value"), "the RFM summary")
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if int(keep.sum()) < 3:
        raise InputError(
            "Gamma-Gamma needs at least 3 people with repeat purchases and positive spend",
            field="monetary_value",
        )
    x, m, w = _weighted_rows(summary[keep], ("frequency", "monetary_value"))

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        return -float(np.dot(w, _gg_loglik(params, x, m))) / w.sum() + penalizer * float(
            np.sum(params**2)
        )

    start = np.log([1.0, 1.0, max(float(np.average(m, weights=w)), 1e-3)])
    best = _minimize(objective, start)
    p, q, g = np.exp(best)
    ll = float(np.dot(w, _gg_loglik(np.exp(best), x, m)))
    return GammaGammaModel(float(p), float(q), float(g), ll, int(w.sum()))


# ---------------------------------------------------------------------------------------------
# CLV


def predict_clv(
    summary: pd.DataFrame,
    *,
    horizon: float = 365.0,
    period: float = 30.0,
    discount_rate: float = 0.01,
    purchases: BetaGeoModel | None = None,
    spend: GammaGammaModel | None = None,
    penalizer: float = 0.0,
) -> pd.DataFrame:
    """Predict each person's purchases, survival, spend and discounted value.

    CLV sums, over each period up to ``horizon``, the expected purchases in that period times
    the expected spend per purchase, discounted by ``(1 + discount_rate) ** k`` for period ``k``.

    Args:
        summary: the RFM summary.
        horizon: how far ahead, in the summary's time unit (default a year of days).
        period: the discounting period, in the summary's time unit (default 30 days).
        discount_rate: the discount rate per period (default 1 % a month).
        purchases: a fitted BG/NBD model (fitted on ``summary`` when omitted).
        spend: a fitted Gamma-Gamma model (fitted on ``summary`` when omitted).
        penalizer: the L2 penalty used when the models are fitted here. The default 0 is the
            plain maximum likelihood; the penalty is on the raw parameters, so it is not
            free of the money unit and even 0.001 can move a Gamma-Gamma fit far from the MLE.
            When the BG/NBD maximum likelihood lies at the edge of the parameter space and its
            expectations overflow, the smallest of 1e-4, 1e-3, 1e-2 that keeps them finite is
            used instead.

    Returns:
        The summary's columns plus ``expected_purchases`` (in the horizon),
        ``probability_alive``, ``expected_avg_spend`` and ``clv``, indexed by ``person_id``.
    """
    check_summary(summary, SUMMARY_COLUMNS)
    if horizon <= 0 or period <= 0 or discount_rate <= -1:
        raise InputError("horizon and period must be positive, discount_rate > -1", field="horizon")
    fit_here = purchases is None
    purchases = purchases or fit_bgnbd(summary, penalizer=penalizer)
    spend = spend or fit_gamma_gamma(summary, penalizer=penalizer)
    x, tx, t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    avg_spend = spend.expected_average_spend(x, summary["monetary_value"].to_numpy(float))
    n_periods = int(np.ceil(horizon / period - 1e-9))

    def discounted(model: BetaGeoModel) -> tuple[np.ndarray, np.ndarray]:
        clv = np.zeros(len(summary))
        previous = np.zeros(len(summary))
        with np.errstate(all="ignore"):
            for k in range(1, n_periods + 1):
                cumulative = model.expected_purchases(min(k * period, horizon), x, tx, t)
                clv += (cumulative - previous) / (1.0 + discount_rate) ** k
                previous = cumulative
        return clv, previous

    clv, previous = discounted(purchases)
    # a maximum likelihood at the edge of the parameter space (every repeat buyer alike, say)
    # overflows the expectation: the smallest penalty that keeps it finite is used instead
    for small in (1e-4, 1e-3, 1e-2):
        if not fit_here or np.isfinite(clv).all():
            break
        purchases = fit_bgnbd(summary, penalizer=max(penalizer, small))
        clv, previous = discounted(purchases)
    out = summary[list(SUMMARY_COLUMNS)].copy()
    out["expected_purchases"] = previous
    out["probability_alive"] = purchases.probability_alive(x, tx, t)
    out["expected_avg_spend"] = avg_spend
    out["clv"] = clv * avg_spend
    return out


def predict_clv_by_segment(
    summary: pd.DataFrame,
    segments: pd.Series,
    *,
    min_people: int = 100,
    **kwargs: Any,
) -> pd.DataFrame:
    """Predict CLV with models fitted separately for each segment.

    One pooled BG/NBD and Gamma-Gamma fit shrinks everyone toward the same population: a
    segment that spends more per order (referred customers, say) is pulled back to the common
    mean. Fitting each segment on its own lets each keep its own population, which is the
    CLV "by segment" to compare segments with. Segments with fewer than ``min_people`` people
    (or too few repeat buyers for Gamma-Gamma) use the pooled models.

    Args:
        summary: the RFM summary.
        segments: ``person_id`` -> segment label (people without one form ``"(none)"``).
        min_people: the smallest segment fitted on its own.
        **kwargs: passed to :func:`predict_clv` (horizon, period, discount_rate, penalizer).

    Returns:
        The output of :func:`predict_clv` plus ``segment`` and ``own_model`` (whether the
        person's segment was fitted on its own).
    """
    import pandas as pd

    check_summary(summary, SUMMARY_COLUMNS)
    penalizer = float(kwargs.get("penalizer", 0.0))
    seg = segments.reindex(summary.index).fillna("(none)").astype(str)
    pooled: tuple[BetaGeoModel, GammaGammaModel] | None = None
    parts = []
    for label, part in summary.groupby(seg, sort=True):
        models: tuple[BetaGeoModel, GammaGammaModel] | None = None
        if len(part) >= min_people:
            try:
                models = (
                    fit_bgnbd(part, penalizer=penalizer),
                    fit_gamma_gamma(part, penalizer=penalizer),
                )
            except InputError:
                models = None
        own = models is not None
        if models is None:
            pooled = pooled or (
                fit_bgnbd(summary, penalizer=penalizer),
                fit_gamma_gamma(summary, penalizer=penalizer),
            )
            models = pooled
        out = predict_clv(part, purchases=models[0], spend=models[1], **kwargs)
        parts.append(out.assign(segment=label, own_model=own))
    return pd.concat(parts).reindex(summary.index)


def historical_clv(
    transactions: pd.DataFrame,
    *,
    observation_end: datetime | str | None = None,
    unit: Literal["D", "W"] = "D",
) -> pd.DataFrame:
    """Value each person has brought so far.

    Args:
        transactions: one row per purchase (``person_id``, ``ts``, ``revenue``).
        observation_end: the end of the observation (default: the last transaction).
        unit: the time unit of ``tenure`` (``"D"`` or ``"W"``).

    Returns:
        Indexed by ``person_id``: ``orders`` (purchase days), ``revenue`` (total),
        ``avg_order_value`` (revenue per purchase day), ``tenure`` (first purchase to the
        observation end) and ``revenue_per_30`` (revenue per 30 units of tenure, counting at
        least one such period).

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"person_id": ["a", "a"], "revenue": [10.0, 30.0],
    ...     "ts": pd.to_datetime(["2026-01-01", "2026-01-11"])})
    >>> historical_clv(tx).loc["a", "revenue"]
    np.float64(40.0)
    """
    import pandas as pd

    require_columns(transactions, ("person_id", "ts", "revenue"), "historical_clv")
    summary = rfm_summary(transactions, observation_end=observation_end, unit=unit)
    ts = pd.to_datetime(transactions["ts"])
    end = pd.Timestamp(to_datetime(observation_end)) if observation_end is not None else ts.max()
    revenue = (
        pd.to_numeric(transactions["revenue"])
        .fillna(0.0)[ts <= end]
        .groupby(transactions["person_id"][ts <= end])
        .sum()
        .reindex(summary.index)
    )
    orders = summary["frequency"] + 1.0
    return pd.DataFrame(
        {
            "orders": orders,
            "revenue": revenue,
            "avg_order_value": revenue / orders,
            "tenure": summary["T"],
            "revenue_per_30": revenue / np.maximum(summary["T"] / 30.0, 1.0),
        }
    )


def clv_by_segment(clv: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Aggregate per-person CLV by segment.

    Args:
        clv: the output of :func:`predict_clv` (indexed by ``person_id``).
        segments: a Series mapping ``person_id`` to a segment label; people without one fall in
            ``"(none)"``.

    Returns:
        One row per segment: ``people``, ``clv_mean``, ``clv_median``, ``clv_total``,
        ``expected_purchases_mean``, ``probability_alive_mean``, ``expected_avg_spend_mean``,
        ``share_of_clv``; sorted by ``clv_mean`` descending.
    """
    require_columns(clv, ("clv", "expected_purchases", "probability_alive"), "clv_by_segment")
    seg = segments.reindex(clv.index).fillna("(none)").astype(str).rename("segment")
    out = clv.groupby(seg).agg(
        people=("clv", "size"),
        clv_mean=("clv", "mean"),
        clv_median=("clv", "median"),
        clv_total=("clv", "sum"),
        expected_purchases_mean=("expected_purchases", "mean"),
        probability_alive_mean=("probability_alive", "mean"),
        expected_avg_spend_mean=("expected_avg_spend", "mean"),
    )
    total = float(out["clv_total"].sum())
    out["share_of_clv"] = out["clv_total"] / total if total else 0.0
    return out.sort_values("clv_mean", ascending=False)
