"""The result of a funnel, and the reduction of per-unit matches to its tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journeykit.analytics._common import US_PER_SECOND, to_frame
from journeykit.analytics.breakdown import Breakdown, group_filter
from journeykit.errors import InputError

if TYPE_CHECKING:
    import ibis
    import pandas as pd
    import plotly.graph_objects as go

    from journeykit.analytics.funnels import Step


@dataclass(frozen=True)
class FunnelResult:
    """A computed funnel.

    Attributes:
        steps: the steps.
        mode, per: how steps were matched and what a unit is.
        group_columns: the breakdown columns (first in both tables).
        table: one row per group and step: ``step`` (1-based), ``name``, ``optional``,
            ``units`` (reaching it), ``conversion`` (over the previous required step),
            ``conversion_from_start``, ``dropped`` and ``drop_off`` (units and share of the
            previous required step that did not reach it), ``median_seconds`` and
            ``p90_seconds`` (from the previous required step), ``median_seconds_from_start``,
            ``p90_seconds_from_start``.
        overall: one row per group: ``entered`` (units at step 1), ``converted`` (at the last
            required step), ``conversion``, ``median_seconds`` and ``p90_seconds`` (time to
            convert, from the attempt start).
    """

    steps: tuple[Step, ...]
    mode: str
    per: str
    group_columns: tuple[str, ...]
    table: pd.DataFrame
    overall: pd.DataFrame
    _units: Callable[[], ibis.Table] = field(repr=False, compare=False)
    _breakdown: Breakdown = field(repr=False, compare=False, default_factory=Breakdown)

    def step_index(self, step: int | str) -> int:
        """The 0-based index of a step given by 1-based number or label."""
        if isinstance(step, int):
            if not 1 <= step <= len(self.steps):
                raise InputError(f"step {step} is not 1..{len(self.steps)}", field="step")
            return step - 1
        labels = [s.label for s in self.steps]
        if step not in labels:
            raise InputError(f"no step {step!r}; steps: {', '.join(labels)}", field="step")
        return labels.index(step)

    def dropped_at(self, step: int | str, group: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """People who reached the previous required step but not ``step`` (a cohort).

        Returns:
            A DataFrame with one column ``person_id`` (distinct, sorted).
        """
        k = self.step_index(step)
        if k == 0:
            raise InputError("nobody drops at step 1; pick a later step", field="step")
        prev = _prev_required(self.steps, k)
        units = self._units()
        keep = units.filter(units[f"_r{prev}"], ~units[f"_r{k}"])
        df = to_frame(keep.select("person_id", *self._group_cols(keep)))
        df = group_filter(self._breakdown.finish(df), group)
        return df[["person_id"]].drop_duplicates().sort_values("person_id").reset_index(drop=True)

    def converted(self, group: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """People who reached the last required step (``person_id``)."""
        last = _last_required(self.steps)
        units = self._units()
        df = to_frame(
            units.filter(units[f"_r{last}"]).select("person_id", *self._group_cols(units))
        )
        df = group_filter(self._breakdown.finish(df), group)
        return df[["person_id"]].drop_duplicates().sort_values("person_id").reset_index(drop=True)

    def times(self) -> pd.DataFrame:
        """Time to convert of every converted unit: group columns, ``person_id``, ``seconds``."""
        last = _last_required(self.steps)
        units = self._units()
        conv = units.filter(units[f"_r{last}"])
        df = to_frame(
            conv.select(
                *self._group_cols(conv),
                "person_id",
                seconds=(conv[f"_t{last}"] - conv._start) / US_PER_SECOND,
            )
        )
        return self._breakdown.finish(df)

    def _group_cols(self, t: ibis.Table) -> list[str]:
        return [c for c in self.group_columns if c in t.columns]

    def figure(self, **kwargs: Any) -> go.Figure:
        """A Plotly funnel chart (see :func:`journeykit.analytics.figures.funnel_figure`)."""
        from journeykit.analytics.figures import funnel_figure

        return funnel_figure(self, **kwargs)


def _prev_required(steps: Sequence[Step], k: int) -> int:
    for i in range(k - 1, -1, -1):
        if not steps[i].optional:
            return i
    return 0


def _last_required(steps: Sequence[Step]) -> int:
    return max(i for i, s in enumerate(steps) if not s.optional)


def aggregate(plan: Any, units: ibis.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reduce the units to the step table and the overall table (one query)."""
    import pandas as pd

    steps = plan.steps
    groups = plan.breakdown.columns
    aggs: dict[str, Any] = {}
    for k in range(len(steps)):
        reached = units[f"_r{k}"]
        aggs[f"n{k}"] = reached.cast("int64").sum()
        prev = _prev_required(steps, k)
        if k > 0:
            d_prev = ((units[f"_t{k}"] - units[f"_t{prev}"]) / US_PER_SECOND).cast("float64")
            d_prev_r = _only(reached, d_prev)
            aggs[f"mp{k}"] = d_prev_r.quantile(0.5)
            aggs[f"pp{k}"] = d_prev_r.quantile(0.9)
        d_start = _only(reached, ((units[f"_t{k}"] - units._start) / US_PER_SECOND).cast("float64"))
        aggs[f"ms{k}"] = d_start.quantile(0.5)
        aggs[f"ps{k}"] = d_start.quantile(0.9)
    q = units.group_by(groups).agg(**aggs) if groups else units.agg(**aggs)
    wide = plan.breakdown.finish(to_frame(q))
    if wide.empty and not groups:
        wide = pd.DataFrame([{k: 0 if k.startswith("n") else float("nan") for k in aggs}])
    rows = []
    over = []
    last = _last_required(steps)
    for _, w in wide.iterrows():
        g = {c: w[c] for c in groups}
        first_n = int(w["n0"] or 0)
        for k, step in enumerate(steps):
            n = int(w[f"n{k}"] or 0)
            prev = _prev_required(steps, k)
            base = int(w[f"n{prev}"] or 0) if k > 0 else n
            rows.append(
                {
                    **g,
                    "step": k + 1,
                    "name": step.label,
                    "optional": step.optional,
                    "units": n,
                    "conversion": (n / base) if base else float("nan"),
                    "conversion_from_start": (n / first_n) if first_n else float("nan"),
                    "dropped": (base - n) if k > 0 else 0,
                    "drop_off": (1 - n / base)
                    if (base and k > 0)
                    else (0.0 if k == 0 else float("nan")),
                    "median_seconds": float(w[f"mp{k}"]) if k > 0 else 0.0,
                    "p90_seconds": float(w[f"pp{k}"]) if k > 0 else 0.0,
                    "median_seconds_from_start": float(w[f"ms{k}"]),
                    "p90_seconds_from_start": float(w[f"ps{k}"]),
                }
            )
        conv = int(w[f"n{last}"] or 0)
        over.append(
            {
                **g,
                "entered": first_n,
                "converted": conv,
                "conversion": conv / first_n if first_n else float("nan"),
                "median_seconds": float(w[f"ms{last}"]),
                "p90_seconds": float(w[f"ps{last}"]),
            }
        )
    table = pd.DataFrame(rows)
    overall = pd.DataFrame(over)
    if groups and not table.empty:
        table = table.sort_values([*groups, "step"], kind="stable").reset_index(drop=True)
        overall = overall.sort_values(groups, kind="stable").reset_index(drop=True)
    return table, overall


def _only(cond: Any, value: Any) -> Any:
    import ibis

    return ibis.ifelse(cond, value, None)
