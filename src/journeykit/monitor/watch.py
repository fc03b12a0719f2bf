"""Metric watches: is today's value outside the range its own history expects?

The baseline of a day comes from the trailing ``weeks`` weeks before it, with robust
statistics so that odd days do not move it:

* the weekday profile: the median of each weekday minus the median of the window (Mondays are
  compared with Mondays; ``seasonality="multiplicative"`` uses ratios instead);
* the level: a Theil-Sen line (median of pairwise slopes) through the days with the weekday
  profile taken out, read at the day itself (so a trend is followed);
* the spread: 1.4826 times the median absolute deviation of the days around that line, each
  day deseasonalised with a weekday effect estimated without it (honest prediction errors,
  from every day of the window rather than a handful of same-weekday values: this is what keeps
  false alarms rare).

The expected value is level plus the day's weekday effect; a value whose robust z-score
``(value - expected) / spread`` passes ``threshold`` in the watched direction raises an alert.
Medians and the Theil-Sen line shrug off a week-long incident inside an eight-week window;
``exclude_anomalies`` also leaves flagged days out of later baselines (at the risk of never
accepting a real change of level).

>>> import pandas as pd
>>> days = pd.date_range("2026-01-05", periods=42, freq="D")
>>> values = [100.0 + 5 * (i % 7) + (i % 3) for i in range(42)]
>>> values[-1] = 40.0
>>> [a.direction for a in scan(pd.Series(values, index=days), Watch("orders"))]
['low']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from journeykit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Watch:
    """How to watch one daily metric.

    Attributes:
        metric: the metric's name (alerts and automations refer to it).
        direction: ``low`` (alert on drops), ``high`` (on rises) or ``both``.
        weeks: trailing weeks in the baseline.
        threshold: robust z-score beyond which a value is an anomaly.
        min_history: days of history needed before the watch says anything.
        seasonality: ``additive`` (weekday effects add), ``multiplicative`` (they scale: counts
            that halve at weekends) or ``none``.
        min_change: the absolute distance from the expected value an alert also needs.
        min_relative_spread: a floor for the spread, as a share of the expected value (a
            perfectly flat history would otherwise flag the smallest wobble).
        min_spread: an absolute floor for the spread.
        exclude_anomalies: leave flagged days out of later baselines (off by default: a lasting
            change of level would otherwise be flagged for ever).
    """

    metric: str
    direction: Literal["both", "low", "high"] = "both"
    weeks: int = 8
    threshold: float = 3.5
    min_history: int = 28
    seasonality: Literal["additive", "multiplicative", "none"] = "additive"
    min_change: float = 0.0
    min_relative_spread: float = 0.02
    min_spread: float = 0.0
    exclude_anomalies: bool = False

    def __post_init__(self) -> None:
        if self.weeks < 1 or not 3 <= self.min_history <= 7 * self.weeks:
            raise InputError("need 3 <= min_history <= 7 * weeks (days)", field="min_history")
        if self.seasonality not in ("additive", "multiplicative", "none"):
            raise InputError("seasonality is additive, multiplicative or none", field="seasonality")
        if self.threshold <= 0:
            raise InputError("threshold must be positive", field="threshold")
        if self.direction not in ("both", "low", "high"):
            raise InputError("direction is one of both, low, high", field="direction")


@dataclass(frozen=True)
class Alert:
    """A metric outside its expected range on one day."""

    metric: str
    date: date
    value: float
    expected: float
    low: float
    high: float
    z: float
    direction: Literal["low", "high"]
    history: int

    def to_event(self) -> dict[str, Any]:
        """The alert as a ``Metric Alert`` event (canonical layout; no person) for orchestration.

        Its ``event_id`` is fixed by metric and day, so checking the same day twice alerts once.
        """
        props: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, date):
                value = value.isoformat()
            elif key == "z":
                value = round(value, 1)
            elif isinstance(value, float):
                value = float(f"{value:.4g}")  # readable in messages; the Alert keeps full values
            props[key] = value
        return {
            "event_id": f"alert:{self.metric}:{self.date.isoformat()}",
            "ts": datetime.combine(self.date, datetime.min.time()) + timedelta(days=1),
            "person_id": None,
            "event": "Metric Alert",
            "channel": "monitor",
            "properties": props,
        }


def _daily(series: pd.Series) -> pd.Series:
    import pandas as pd

    if not isinstance(series, pd.Series):
        raise InputError("a watch reads a pandas Series indexed by day", field="series")
    try:
        index = pd.DatetimeIndex(series.index)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the series index must be dates: {exc}", field="series") from None
    if index.tz is not None:
        index = index.tz_convert(None)
    s = pd.Series(
        pd.to_numeric(series.to_numpy(), errors="coerce"), index=index.normalize(), dtype="float64"
    )
    if s.index.has_duplicates:
        raise InputError("the series has more than one value for a day", field="series")
    s = s.sort_index()
    if len(s) == 0:
        return s
    return s.asfreq("D")  # missing days become NaN, so "7 rows back" is always "a week back"


def _median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _baseline(
    values: list[float], weekdays: list[int], window: list[int], i: int, watch: Watch
) -> tuple[float, float]:
    """Expected value and robust spread for day ``i`` from the days in ``window``."""
    centre = _median([values[j] for j in window])
    mode = watch.seasonality
    if mode == "multiplicative" and centre <= 0:
        mode = "additive"  # ratios need a positive level
    by_day: dict[int, list[float]] = {}
    for j in window:
        by_day.setdefault(weekdays[j], []).append(values[j])
    effect: dict[int, float] = {}
    for day, vals in by_day.items():
        m = _median(vals)
        effect[day] = (
            0.0 if mode == "none" else (m / centre if mode == "multiplicative" else m - centre)
        )
    neutral = 1.0 if mode == "multiplicative" else 0.0

    def deseason(x: float, e: float) -> float:
        if mode == "multiplicative":
            return x / e if e else x
        return x - e

    # honest prediction errors: each day deseasonalised with a weekday effect estimated without
    # that day (in-sample effects would absorb the noise and make the spread look too small)
    flat = []
    for j in window:
        others = [values[k] for k in window if weekdays[k] == weekdays[j] and k != j]
        if not others or mode == "none":
            e = neutral
        else:
            m = _median(others)
            e = m / centre if mode == "multiplicative" else m - centre
        flat.append(deseason(values[j], e))
    # the level follows a trend: a Theil-Sen line through the deseasonalised days
    slope = _median(
        [
            (flat[b] - flat[a]) / (window[b] - window[a])
            for a in range(len(window))
            for b in range(a + 1, len(window))
        ]
    )
    intercept = _median([d - slope * j for j, d in zip(window, flat, strict=True)])
    level = intercept + slope * i
    residuals = [d - (intercept + slope * j) for j, d in zip(window, flat, strict=True)]
    mad = _median([abs(r) for r in residuals])
    e_i = effect.get(weekdays[i], neutral)
    if mode == "multiplicative":
        expected = level * e_i
        mad *= e_i  # the spread scales with the day's level
    else:
        expected = level + e_i
    scale = max(
        _MAD_TO_SD * mad, watch.min_relative_spread * abs(expected), watch.min_spread, 1e-12
    )
    return expected, scale


def expected_range(series: pd.Series, watch: Watch) -> pd.DataFrame:
    """Every day with its expected value and range.

    Returns:
        A DataFrame indexed by day with columns ``value``, ``expected``, ``low``, ``high``,
        ``z``, ``history`` (baseline values used), ``anomaly`` (bool) and ``direction``
        (``low``/``high``/None). Days without enough history have NaN expectations.
    """
    import pandas as pd

    s = _daily(series)
    values = [float(v) for v in s.to_numpy()]
    weekdays = [int(d) for d in s.index.day_of_week]
    n = len(values)
    flagged = [False] * n
    rows: list[dict[str, Any]] = []
    for i in range(n):
        x = values[i]
        window = [
            j
            for j in range(max(0, i - 7 * watch.weeks), i)
            if not math.isnan(values[j]) and not (watch.exclude_anomalies and flagged[j])
        ]
        row: dict[str, Any] = {
            "value": x,
            "expected": math.nan,
            "low": math.nan,
            "high": math.nan,
            "z": math.nan,
            "history": len(window),
            "anomaly": False,
            "direction": None,
        }
        if len(window) >= watch.min_history:
            expected, scale = _baseline(values, weekdays, window, i, watch)
            row.update(
                expected=expected,
                low=expected - watch.threshold * scale,
                high=expected + watch.threshold * scale,
            )
            if not math.isnan(x):
                z = (x - expected) / scale
                row["z"] = z
                side = "high" if z > 0 else "low"
                if (
                    abs(z) > watch.threshold
                    and watch.direction in ("both", side)
                    and abs(x - expected) >= watch.min_change
                ):
                    row.update(anomaly=True, direction=side)
                    flagged[i] = True
        rows.append(row)
    out = pd.DataFrame(rows, index=s.index)
    out.index.name = "date"
    return out


def scan(series: pd.Series, watch: Watch) -> list[Alert]:
    """Every anomalous day of ``series`` (oldest first; none for an empty series)."""
    frame = expected_range(series, watch)
    if frame.empty:
        return []
    hits = frame[frame["anomaly"]]
    return [
        Alert(
            metric=watch.metric,
            date=ts.date(),
            value=float(r.value),
            expected=float(r.expected),
            low=float(r.low),
            high=float(r.high),
            z=float(r.z),
            direction=r.direction,
            history=int(r.history),
        )
        for ts, r in hits.iterrows()
    ]


def check(series: pd.Series, watch: Watch, as_of: date | str | None = None) -> Alert | None:
    """The alert for one day (default: the last day of the series), or None if it is normal."""
    import pandas as pd

    day = pd.Timestamp(as_of).normalize() if as_of is not None else None
    for alert in reversed(scan(series, watch)):
        if day is None:
            last = _daily(series).index.max()
            return alert if pd.Timestamp(alert.date) == last else None
        if pd.Timestamp(alert.date) == day:
            return alert
    return None


def check_all(
    series: Mapping[str, pd.Series], watches: Iterable[Watch], as_of: date | str | None = None
) -> list[Alert]:
    """Check several metrics (``series`` keyed by ``Watch.metric``) for one day."""
    out = []
    for watch in watches:
        if watch.metric not in series:
            raise InputError(f"no series for metric {watch.metric!r}", field="series")
        alert = check(series[watch.metric], watch, as_of)
        if alert is not None:
            out.append(alert)
    return out
