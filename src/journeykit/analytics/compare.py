"""Comparing a metric across segments, with significance tests.

- Rates (conversion, retention): a chi-square test of homogeneity over all groups, then
  pairwise two-proportion z-tests; Wilson 95% intervals per group.
- Values (revenue per person, time to convert): pairwise Mann–Whitney U tests; bootstrap
  intervals of each group's mean.

Pairwise p-values are Holm-adjusted; a difference is *significant* when its adjusted p-value
is below ``alpha``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import TableSource, to_frame
from journeykit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Comparison:
    """The result of a comparison.

    Attributes:
        groups: ``group``, ``n``, ``estimate`` (rate or mean), ``ci_low``, ``ci_high``
            (and ``successes`` for rates, ``median`` for values).
        pairs: ``a``, ``b``, ``difference`` (b - a), ``statistic``, ``p_value``,
            ``p_adjusted`` (Holm), ``significant``.
        test: the overall test: ``name``, ``statistic``, ``p_value`` (None for values).
        alpha: the significance level.
    """

    groups: pd.DataFrame
    pairs: pd.DataFrame
    test: dict[str, Any]
    alpha: float

    def significant(self) -> pd.DataFrame:
        """Only the pairs that differ significantly."""
        return self.pairs[self.pairs["significant"]].reset_index(drop=True)


def holm(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given).

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def compare_rates(
    df: pd.DataFrame,
    *,
    group: str = "segment",
    successes: str = "converted",
    trials: str = "entered",
    alpha: float = 0.05,
) -> Comparison:
    """Compare proportions across groups (one row per group in ``df``).

    >>> import pandas as pd
    >>> c = compare_rates(pd.DataFrame({"segment": ["a", "b"], "converted": [50, 80],
    ...                                 "entered": [500, 500]}))
    >>> bool(c.pairs["significant"].iloc[0])
    True
    """
    import numpy as np
    import pandas as pd
    from scipy import stats

    for col in (group, successes, trials):
        if col not in df.columns:
            raise InputError(f"no column {col!r}", field=col)
    data = df.groupby(group, as_index=False)[[successes, trials]].sum()
    if len(data) < 2:
        raise InputError("need at least two groups to compare", field=group)
    rows = []
    for g, s, n in zip(data[group], data[successes], data[trials], strict=True):
        lo, hi = wilson(int(s), int(n))
        rows.append(
            {
                "group": g,
                "n": int(n),
                "successes": int(s),
                "estimate": s / n if n else float("nan"),
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    groups = pd.DataFrame(rows)
    table = np.array(
        [[int(s), int(n) - int(s)] for s, n in zip(data[successes], data[trials], strict=True)]
    )
    usable = table[(table.sum(axis=1) > 0)]
    if usable.shape[0] >= 2 and (usable.sum(axis=0) > 0).all():
        chi2, p, dof, _ = stats.chi2_contingency(usable, correction=False)
        test = {
            "name": "chi-square",
            "statistic": float(chi2),
            "p_value": float(p),
            "dof": int(dof),
        }
    else:
        test = {"name": "chi-square", "statistic": float("nan"), "p_value": float("nan"), "dof": 0}
    pairs = []
    for a, b in combinations(range(len(groups)), 2):
        ra, rb = groups.iloc[a], groups.iloc[b]
        z, p = _two_proportion(ra["successes"], ra["n"], rb["successes"], rb["n"])
        pairs.append(
            {
                "a": ra["group"],
                "b": rb["group"],
                "difference": rb["estimate"] - ra["estimate"],
                "statistic": z,
                "p_value": p,
            }
        )
    return _finish(groups, pairs, test, alpha)


def _two_proportion(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    from scipy import stats

    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    pooled = (s1 + s2) / (n1 + n2)
    se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)) ** 0.5
    if se == 0:
        return 0.0, 1.0
    z = (s2 / n2 - s1 / n1) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def compare_values(
    df: pd.DataFrame,
    *,
    group: str = "segment",
    value: str = "value",
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare a value's distribution across groups (one row per person in ``df``)."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    for col in (group, value):
        if col not in df.columns:
            raise InputError(f"no column {col!r}", field=col)
    rng = np.random.default_rng(seed)
    samples = {g: s[value].dropna().to_numpy(dtype=float) for g, s in df.groupby(group)}
    if len(samples) < 2:
        raise InputError("need at least two groups to compare", field=group)
    rows = []
    for g, x in samples.items():
        if len(x):
            boots = _boot_means(x, n_boot, rng)
            lo, hi = np.quantile(boots, [0.025, 0.975])
        else:
            lo = hi = float("nan")
        rows.append(
            {
                "group": g,
                "n": len(x),
                "estimate": float(x.mean()) if len(x) else float("nan"),
                "median": float(np.median(x)) if len(x) else float("nan"),
                "ci_low": float(lo),
                "ci_high": float(hi),
            }
        )
    groups = pd.DataFrame(rows)
    pairs = []
    names = list(samples)
    for a, b in combinations(names, 2):
        xa, xb = samples[a], samples[b]
        if len(xa) and len(xb):
            u, p = stats.mannwhitneyu(xa, xb, alternative="two-sided")
        else:
            u, p = float("nan"), float("nan")
        pairs.append(
            {
                "a": a,
                "b": b,
                "difference": float(np.mean(xb) - np.mean(xa))
                if len(xa) and len(xb)
                else float("nan"),
                "statistic": float(u),
                "p_value": float(p),
            }
        )
    test = {"name": "mann-whitney (pairwise)", "statistic": None, "p_value": None}
    return _finish(groups, pairs, test, alpha)


def _boot_means(x: Any, n_boot: int, rng: Any) -> Any:
    import numpy as np

    # resample in chunks so memory stays near ten million draws whatever the sizes
    chunk = max(1, int(10_000_000 // max(1, len(x))))
    parts = []
    for lo in range(0, n_boot, chunk):
        k = min(chunk, n_boot - lo)
        parts.append(rng.choice(x, size=(k, len(x)), replace=True).mean(axis=1))
    return np.concatenate(parts)


def _finish(
    groups: pd.DataFrame, pairs: list[dict[str, Any]], test: dict[str, Any], alpha: float
) -> Comparison:
    import pandas as pd

    p = pd.DataFrame(pairs, columns=["a", "b", "difference", "statistic", "p_value"])
    raw = [1.0 if v != v else float(v) for v in p["p_value"]]
    p["p_adjusted"] = holm(raw) if raw else []
    p["significant"] = p["p_adjusted"] < alpha
    return Comparison(groups=groups, pairs=p, test=test, alpha=alpha)


def compare_segments(
    ws: TableSource,
    segments: Mapping[str, Any],
    *,
    metric: str = "revenue",
    alpha: float = 0.05,
    **kwargs: Any,
) -> Comparison:
    """Compare one metric across named segments and say which differences are significant.

    Args:
        ws: the workspace.
        segments: ``{name: filter or cohort}``.
        metric: ``funnel`` (overall conversion of ``steps=[...]``; other funnel arguments
            pass through), ``retention`` (unbounded retention at ``period`` (default 1) of the
            :func:`~journeykit.analytics.cohorts.retention` arguments given), or a per-person
            value: ``revenue`` and ``orders`` (of the conversion events ``purchase_event``
            with the value in ``revenue_field``; default: the journey spec's), ``events``.
        alpha: the significance level.
    """
    if metric == "funnel":
        from journeykit.analytics.funnels import funnel

        result = funnel(ws, by=dict(segments), **kwargs)
        return compare_rates(result.overall, alpha=alpha)
    if metric == "retention":
        from journeykit.analytics.cohorts import retention

        period = int(kwargs.pop("period", 1))
        kwargs.setdefault("kind", "unbounded")
        kwargs.setdefault("periods", period)
        curve = retention(ws, by=dict(segments), **kwargs).curve()
        at = curve[curve["period"] == period]
        return compare_rates(at, successes="retained", trials="cohort_size", alpha=alpha)
    if metric in ("revenue", "orders", "events"):
        import ibis
        import pandas as pd

        from journeykit.analytics import vocabulary as vocab
        from journeykit.analytics.filters import person_table

        ev = ws.table("events")
        if metric in ("revenue", "orders"):
            purchase = vocab.conversion_events(ws, kwargs.get("purchase_event"))
            bought = ev.event.isin(list(purchase))
        if metric == "revenue":
            value = vocab.field_number(ev, vocab.revenue_field(ws, kwargs.get("revenue_field")))
            val = ibis.ifelse(bought, value, 0.0).fill_null(0.0).sum()
        elif metric == "orders":
            val = bought.cast("int64").sum()
        else:
            val = ev.count()
        per_person = ev.group_by("person_id").agg(value=val.cast("float64"))
        frames = []
        for name, spec in segments.items():
            members = person_table(ws, spec).rename(_m_person_id="person_id")
            vals = per_person.semi_join(members, per_person.person_id == members._m_person_id)
            df = to_frame(vals.select("value"))
            df["segment"] = name
            frames.append(df)
        return compare_values(pd.concat(frames, ignore_index=True), alpha=alpha)
    raise InputError(
        f"unknown metric {metric!r}; use funnel, retention, revenue, orders or events",
        field="metric",
    )
